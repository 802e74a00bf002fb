/**
 * Slave side of a Modbus RTU bus: finds the requests in everything heard on a shared bus,
 * for every unit (the caller filters by unit and must not answer unit 0, a broadcast:
 * Modbus over serial line V1.02 §2.1). Sans-IO: bytes and timestamps in, frames out.
 *
 * On a shared bus a slave also hears the other slaves' responses. So that none is taken
 * for a request, the framer follows the conversation: after a unicast request it expects
 * that unit's response and skips it (counted in `stats.responses`); a CRC-valid response
 * it did not see the request of is skipped the same way, so the framer never slides
 * into a response's data, where a request could check by chance. At each position the
 * framer tries, in order: the expected response, a request (length from its function
 * code), another slave's response; the first that is complete with a valid CRC is taken,
 * otherwise the framer waits while one could still complete, and slides one byte when
 * none can (`MODBUS_CRC`, `FRAME_TOO_LONG`, `MODBUS_GARBAGE`). No frame is returned
 * unless its CRC checks. (A response whose first bytes check as a request by chance
 * would give a request of the responding unit, which the caller does not serve.)
 *
 * Two responses cannot be told from requests and are returned as requests to the unit
 * that sent them: a 0x06 response (byte-identical to its request, §6.6) and a normal
 * response to a function code this library does not know. Awaiting them instead would
 * swallow a master's repeated identical write to the caller's own unit. A caller that
 * does not serve that unit ignores them; a link that echoes the caller's own
 * transmissions must strip the echo (as for the master).
 *
 * Silence (Modbus over serial line V1.02 §2.5.1.1) ends what is buffered: at `poll(nowMs)`
 * after the gap, or when a chunk arrives after the gap. A frame whose function code has
 * no known layout can only be delimited that way: if its CRC checks it is returned as a
 * `RejectedRequest` with exception 01, and a known function with bad data (quantity 0, a
 * byte count that does not match) as one with exception 03 or 02, so the addressed slave
 * can answer `encodeResponse(unit, { fc, exception })` (Modbus Application Protocol
 * V1.1b3 §7). A partial frame at a silence is dropped (`MODBUS_TRUNCATED`). With
 * `gapMs: null` there is no silence: unknown function codes are garbage.
 */
import { ProtocolError } from '../errors.ts';
import { ByteWindow } from './byte-window.ts';
import { type RtuFramerOptions, resolveFramerOptions } from './framer-options.ts';
import { DiscardLog, type FramerStats } from './framer-stats.ts';
import { hex, MAX_UNIT } from './function-codes.ts';
import type { ModbusRequest, RtuFrame } from './messages.ts';
import { decodeRequestAt } from './request-pdu.ts';
import { NEED_MORE, ResponseExpectation } from './response-expectation.ts';
import { crcOkAt, requestLengthAt, responseLengthAt } from './rtu.ts';

/**
 * A request delimited with a valid CRC that cannot be served as decoded: `exception` is
 * the code to answer with (01 unknown function, 02 address range, 03 quantity / byte
 * count / length), `error` says why.
 */
export interface RejectedRequest {
  fc: number;
  exception: number;
  error: ProtocolError;
}

export type SlaveRequest = ModbusRequest | RejectedRequest;

export function isRejectedRequest(pdu: SlaveRequest): pdu is RejectedRequest {
  return 'error' in pdu;
}

export interface SlaveFramerStats extends FramerStats {
  /** Responses of slaves heard on the bus and skipped (not errors). */
  responses: number;
}

/** Modbus Application Protocol V1.1b3 §4.1: 1..127; 0x80+ mark exception responses. */
function isFunctionCode(fc: number): boolean {
  return fc >= 1 && fc <= 0x7f;
}

/** Smallest frame an unknown function code can have: unit, fc, CRC. */
const MIN_FRAME = 4;

export class RtuSlaveFramer {
  /** Live counters (not reset; do not mutate). */
  readonly stats: SlaveFramerStats;
  private readonly log: DiscardLog;
  private readonly window: ByteWindow;
  private readonly awaited = new ResponseExpectation();
  private readonly gapMs: number;
  private readonly charMs: number;
  private readonly maxFrameLength: number;
  private lastByteAt = Number.NEGATIVE_INFINITY;

  /** Throws `VALUE_OUT_OF_RANGE` for options out of range; `opts` is not kept. */
  constructor(opts: RtuFramerOptions) {
    const o = resolveFramerOptions(opts);
    this.gapMs = o.gapMs;
    this.charMs = o.charMs;
    this.maxFrameLength = o.maxFrameLength;
    this.window = new ByteWindow(2 * o.maxFrameLength);
    this.stats = { frames: 0, discardedBytes: 0, discarded: {}, responses: 0 };
    this.log = new DiscardLog(this.stats);
  }

  /**
   * Feeds the bytes received at `nowMs` (the time of the chunk's last byte; the silence
   * before the chunk is measured to its estimated first byte, `nowMs` minus its
   * transmission time). Returns the requests completed, in order. Frames are new objects
   * sharing no memory with `chunk` or the framer; `chunk` is copied, never retained.
   */
  feed(chunk: Uint8Array, nowMs: number): RtuFrame<SlaveRequest>[] {
    const out: RtuFrame<SlaveRequest>[] = [];
    const n = chunk.length;
    if (n === 0) return out;
    if (this.gapMs >= 0 && nowMs - n * this.charMs - this.lastByteAt > this.gapMs) {
      this.endOnSilence(out);
    }
    this.lastByteAt = nowMs;
    let off = 0;
    while (off < n) {
      off += this.window.append(chunk, off);
      this.scan(out, false);
    }
    return out;
  }

  /**
   * Time passed with no byte: when more than the gap has passed since the last byte, what
   * is buffered ends there (frames of unknown length are delimited, partial ones dropped).
   */
  poll(nowMs: number): RtuFrame<SlaveRequest>[] {
    const out: RtuFrame<SlaveRequest>[] = [];
    if (this.gapMs >= 0 && nowMs - this.lastByteAt > this.gapMs) this.endOnSilence(out);
    return out;
  }

  private endOnSilence(out: RtuFrame<SlaveRequest>[]): void {
    if (this.window.size > 0) this.scan(out, true);
    this.log.endRun();
  }

  /** Takes what it can from the window; `atSilence`: nothing more belongs to these bytes. */
  private scan(out: RtuFrame<SlaveRequest>[], atSilence: boolean): void {
    const window = this.window;
    const b = window.bytes;
    const awaited = this.awaited;
    const maxLength = this.maxFrameLength;
    const canWait = this.gapMs >= 0;
    for (;;) {
      const h = window.head;
      const avail = window.tail - h;
      if (avail === 0) return;
      let pending = false;
      let crcFailed = false;
      let tooLong = false;

      // 1. The response to the last unicast request (Modbus over serial line V1.02 §2.1)
      if (awaited.unit >= 0) {
        const m = awaited.match(b, h, avail);
        if (m === NEED_MORE) pending = true;
        else if (m > 0 && m <= maxLength) {
          if (avail < m) pending = true;
          else if (crcOkAt(b, h, m)) {
            this.skipResponse(m);
            continue;
          } else crcFailed = true;
        }
      }

      // 2. A request (Modbus Application Protocol V1.1b3 §6 layouts)
      if (b[h]! > MAX_UNIT) {
        // Modbus over serial line V1.02 §2.2: 248–255 are reserved
        this.discard(crcFailed ? 'MODBUS_CRC' : 'MODBUS_GARBAGE');
        continue;
      }
      const length = requestLengthAt(b, h, avail);
      if (length > 0) {
        if (length > maxLength) tooLong = true;
        else if (avail < length) pending = true;
        else if (crcOkAt(b, h, length)) {
          this.takeRequest(out, h, length);
          continue;
        } else crcFailed = true;
      } else if (length === 0) pending = true;
      else if (canWait && isFunctionCode(b[h + 1]!)) {
        // An unknown function code: only the silence after it delimits the frame
        if (!atSilence) {
          if (avail > maxLength) tooLong = true;
          else pending = true;
        } else if (avail >= MIN_FRAME && avail <= maxLength && crcOkAt(b, h, avail)) {
          this.takeUnknown(out, h, avail);
          continue;
        }
      }

      // 3. The response of a slave whose request was not seen
      const other = responseLengthAt(b, h, avail);
      if (other > 0 && other <= maxLength) {
        if (avail < other) pending = true;
        else if (crcOkAt(b, h, other)) {
          this.skipResponse(other);
          continue;
        } else crcFailed = true;
      } else if (other === NEED_MORE) pending = true;

      if (pending && !atSilence) return;
      this.discard(
        pending
          ? 'MODBUS_TRUNCATED'
          : tooLong
            ? 'FRAME_TOO_LONG'
            : crcFailed
              ? 'MODBUS_CRC'
              : 'MODBUS_GARBAGE',
      );
    }
  }

  private takeRequest(out: RtuFrame<SlaveRequest>[], h: number, length: number): void {
    const b = this.window.bytes;
    const unit = b[h]!;
    let pdu: SlaveRequest;
    try {
      pdu = decodeRequestAt(b, h + 1, h + length - 2);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      pdu = { fc: b[h + 1]!, exception: err.wireCode ?? 3, error: err };
    }
    this.emit(out, unit, pdu, length);
  }

  private takeUnknown(out: RtuFrame<SlaveRequest>[], h: number, length: number): void {
    const b = this.window.bytes;
    const fc = b[h + 1]!;
    const error = new ProtocolError(
      'MODBUS_ILLEGAL_FUNCTION',
      `function code 0x${hex(fc)} is not implemented`,
      { wireCode: 1 }, // Modbus Application Protocol V1.1b3 §7: 01 ILLEGAL FUNCTION
    );
    this.emit(out, b[h]!, { fc, exception: 1, error }, length);
  }

  private emit(out: RtuFrame<SlaveRequest>[], unit: number, pdu: SlaveRequest, length: number) {
    out.push({ unit, pdu });
    this.window.skip(length);
    this.log.frame();
    // §2.1: a broadcast gets no response; a unicast request gets the addressed unit's.
    // A response that could also be a request (0x06 echoes its request; a normal answer
    // to an unknown function is delimited like one) is not awaited: it is returned.
    if (unit === 0 || pdu.fc === 0x06) this.awaited.clear();
    else if ('error' in pdu) this.awaited.setException(unit, pdu.fc);
    else this.awaited.setFor(unit, pdu);
  }

  private skipResponse(length: number): void {
    this.window.skip(length);
    this.awaited.clear();
    this.stats.responses++;
    this.log.endRun();
  }

  private discard(reason: 'MODBUS_TRUNCATED' | 'FRAME_TOO_LONG' | 'MODBUS_CRC' | 'MODBUS_GARBAGE') {
    this.log.drop(1, reason);
    this.window.skip(1);
  }
}
