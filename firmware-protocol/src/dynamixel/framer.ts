/**
 * Incremental framer of Dynamixel Protocol 2.0: bytes in, whole packets out. It
 * never throws on bytes from the wire; what it cannot use it drops and counts.
 *
 * Reception as the ROBOTIS Protocol 2.0 e-manual §Packet Process describes it:
 * search for the header `FF FF FD` + reserved `00` (a stuffed `FF FF FD FD` is not a
 * header), read LEN, receive LEN more bytes, check the CRC over the stuffed packet,
 * then unstuff. Packets are consumed whole by LEN, so the stuffed bytes inside a
 * packet are never searched for a header.
 *
 * Resynchronisation: a header that turns out bad (LEN < 3 or above the configured
 * maximum, an unused ID, a CRC that does not check, a body that does not decode) is
 * dropped by sliding ONE byte past its first byte and searching again, so a valid
 * packet that arrived while a false header was waiting for its bytes is still found.
 */
import { crc16Dynamixel } from '../crc/crc16-dynamixel.ts';
import { isProtocolError, type ProtocolErrorCode } from '../errors.ts';
import { HEADER_LENGTH, MIN_LENGTH_FIELD } from './instructions.ts';
import { decodeVerified, type Packet } from './packet.ts';
import { assertInteger } from './validate.ts';

export interface FramerStats {
  /** Packets returned. */
  packets: number;
  /** Bytes dropped, whatever the reason. */
  discardedBytes: number;
  /**
   * Drop events by reason: one per rejected header (`DXL_CRC`, `FRAME_TOO_LONG`,
   * `DXL_BAD_PACKET`) and one per run of garbage bytes before a header
   * (`DXL_GARBAGE`; the bytes skipped while resynchronising after a rejected header
   * belong to that rejection). The counts do not depend on how the bytes were chunked.
   */
  discarded: Partial<Record<ProtocolErrorCode, number>>;
}

export interface DynamixelFramerOptions {
  /**
   * Largest LEN field accepted (instruction, error, stuffed parameters and CRC); a
   * longer header is dropped as `FRAME_TOO_LONG`. Default 1024, DynamixelSDK's
   * `RXPACKET_MAX_LEN`; 3–65535.
   */
  maxPacketLength?: number;
}

export const DEFAULT_MAX_PACKET_LENGTH = 1024;

export class DynamixelFramer {
  readonly #maxLen: number;
  /** Leftover bytes live in `#buf[#start, #end)`; preallocated, never grown. */
  readonly #buf: Uint8Array;
  #start = 0;
  #end = 0;
  #packets = 0;
  #discardedBytes = 0;
  #discarded: Partial<Record<ProtocolErrorCode, number>> = {};
  /** True while dropping bytes that continue a garbage run or a resynchronisation. */
  #dropping = false;

  constructor(opts: DynamixelFramerOptions = {}) {
    const max = opts.maxPacketLength ?? DEFAULT_MAX_PACKET_LENGTH;
    assertInteger(max, MIN_LENGTH_FIELD, 0xffff, 'maxPacketLength');
    this.#maxLen = max;
    // Room for two whole packets: after a scan at most one partial packet is left,
    // so compacting always frees at least half of the buffer.
    this.#buf = new Uint8Array(Math.max(2 * (HEADER_LENGTH + max), 4096));
  }

  /**
   * Feeds bytes from the wire; returns the packets they complete, in order. The
   * returned packets (and their `params`) are fresh copies: they never alias the
   * framer's internal buffer nor `chunk`, which the caller may reuse at once.
   */
  feed(chunk: Uint8Array): Packet[] {
    const out: Packet[] = [];
    const buf = this.#buf;
    let offset = 0;
    while (offset < chunk.length) {
      if (buf.length - this.#end < chunk.length - offset && this.#start > 0) {
        buf.copyWithin(0, this.#start, this.#end);
        this.#end -= this.#start;
        this.#start = 0;
      }
      const n = Math.min(buf.length - this.#end, chunk.length - offset);
      if (offset === 0 && n === chunk.length) buf.set(chunk, this.#end);
      else buf.set(chunk.subarray(offset, offset + n), this.#end);
      this.#end += n;
      offset += n;
      this.#scan(out);
    }
    return out;
  }

  /** Drops the leftover bytes and zeroes the stats: the state of a new framer. */
  reset(): void {
    this.#start = 0;
    this.#end = 0;
    this.#packets = 0;
    this.#discardedBytes = 0;
    this.#discarded = {};
    this.#dropping = false;
  }

  /** A snapshot of the counters. */
  get stats(): FramerStats {
    return {
      packets: this.#packets,
      discardedBytes: this.#discardedBytes,
      discarded: { ...this.#discarded },
    };
  }

  #scan(out: Packet[]): void {
    const buf = this.#buf;
    const e = this.#end;
    let s = this.#start;
    for (;;) {
      // e-manual §Packet Process, reception 1: search for the header FF FF FD (+ reserved 00)
      let i = s;
      for (;;) {
        while (i < e && buf[i] !== 0xff) i++;
        if (i + 1 >= e) break; // FF at the end (or nothing): may start a header
        if (buf[i + 1] !== 0xff) {
          i += 2;
          continue;
        }
        if (i + 2 >= e) break;
        if (buf[i + 2] !== 0xfd) {
          i++;
          continue;
        }
        if (i + 3 >= e) break;
        // e-manual §Reserved: 0x00; FF FF FD FD is stuffing, not a header
        if (buf[i + 3] !== 0x00) {
          i++;
          continue;
        }
        break;
      }
      if (i > s) {
        const n = i - s;
        if (!this.#dropping) this.#count('DXL_GARBAGE');
        this.#dropping = true;
        this.#discardedBytes += n;
        s += n;
      }
      if (e - s < HEADER_LENGTH) break; // a partial header, or nothing: wait for more bytes

      const id = buf[s + 4]!;
      const len = buf[s + 5]! | (buf[s + 6]! << 8);
      if (len < MIN_LENGTH_FIELD || id === 0xfd || id === 0xff) {
        // e-manual §Length (≥ instruction + CRC), §Packet ID (0xFD, 0xFF unused)
        s = this.#reject(s, 'DXL_BAD_PACKET');
        continue;
      }
      if (len > this.#maxLen) {
        s = this.#reject(s, 'FRAME_TOO_LONG');
        continue;
      }
      const total = HEADER_LENGTH + len;
      if (e - s < total) break; // e-manual §Packet Process, reception 2: wait for LEN bytes

      // e-manual §Packet Process, reception 3: CRC over the packet as received (stuffed)
      const crcAt = s + total - 2;
      const wire = buf[crcAt]! | (buf[crcAt + 1]! << 8);
      if (crc16Dynamixel(buf, s, crcAt) !== wire) {
        s = this.#reject(s, 'DXL_CRC');
        continue;
      }
      let packet: Packet;
      try {
        packet = decodeVerified(buf, s, len);
      } catch (err) {
        s = this.#reject(s, isProtocolError(err) ? err.code : 'DXL_BAD_PACKET');
        continue;
      }
      out.push(packet);
      this.#packets++;
      this.#dropping = false;
      s += total;
    }
    if (s >= e) {
      this.#start = 0;
      this.#end = 0;
    } else {
      this.#start = s;
    }
  }

  /** Drops the first byte of a bad header at `s`; returns where to search again. */
  #reject(s: number, code: ProtocolErrorCode): number {
    this.#count(code);
    this.#discardedBytes += 1;
    this.#dropping = true;
    return s + 1;
  }

  #count(code: ProtocolErrorCode): void {
    this.#discarded[code] = (this.#discarded[code] ?? 0) + 1;
  }
}
