/**
 * Master side of a Modbus RTU link: finds the response to the one request outstanding in
 * the bytes that arrive, however they are chunked. Sans-IO: bytes and timestamps in,
 * frames out; no timers (the transaction timeout belongs to the caller, who calls
 * `cancel()`).
 *
 * Rules, each counted in `stats` when it drops bytes:
 * - A response must start with the expected unit and `fc` (or `fc | 0x80`), then the
 *   byte count (03/04/0x17) or the echoed address and value/quantity (06/0x10) of the
 *   request; a byte that cannot start it is dropped (`MODBUS_GARBAGE`, or
 *   `MODBUS_UNEXPECTED_RESPONSE` when a whole CRC-valid response of another unit or
 *   function is buffered there, whose bytes then count as that one event).
 * - A candidate of the expected length whose CRC fails is counted (`MODBUS_CRC`) and the
 *   search resumes one byte later. No frame is returned unless its CRC checks.
 * - A silence longer than the gap before a chunk (Modbus over serial line V1.02 §2.5.1.1)
 *   ends any partial frame (`MODBUS_TRUNCATED`). The silence is measured from the last
 *   chunk's timestamp to the estimated first byte of the new chunk: `nowMs` minus the
 *   chunk's own transmission time (length × character time).
 * - Bytes that arrive with no request outstanding, or after the response, are dropped
 *   (`MODBUS_UNEXPECTED_RESPONSE`): typically a late reply after a timeout.
 *
 * Limits: garbage that itself starts like the expected response (unit, function, byte
 * count) holds the framer until enough bytes arrive to check that candidate's CRC, or
 * the next silence: a shorter exception response right behind it is then lost to the
 * transaction timeout; the framer never skips ahead, because a complete-looking frame
 * inside a response still arriving would be a wrong answer, not a late one.
 * A 0x06 response is byte-identical to its request, so a link that echoes what
 * the master transmits must strip the echo before feeding. A late reply to an earlier
 * request with the same unit and shape is indistinguishable from the awaited one: after a
 * timeout, let the bus go quiet before the next request.
 */
import { ProtocolError } from '../errors.ts';
import { ByteWindow } from './byte-window.ts';
import { type RtuFramerOptions, resolveFramerOptions } from './framer-options.ts';
import { DiscardLog, type FramerStats } from './framer-stats.ts';
import { checkUnit } from './limits.ts';
import type { ModbusRequest, ModbusResponse, RtuFrame } from './messages.ts';
import { validateRequest } from './request-pdu.ts';
import { ResponseExpectation } from './response-expectation.ts';
import { decodeResponseAt } from './response-pdu.ts';
import { crcOkAt, expectedResponseLength, responseLengthAt } from './rtu.ts';

export class RtuMasterFramer {
  /** Live counters (not reset; do not mutate). */
  readonly stats: FramerStats;
  private readonly log = new DiscardLog();
  private readonly window: ByteWindow;
  private readonly expected = new ResponseExpectation();
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
    this.stats = this.log.stats;
  }

  /**
   * Arms the framer for the response to `req` sent to `unit` (1..247: a broadcast has no
   * response, Modbus over serial line V1.02 §2.1). Replaces any previous expectation and
   * drops leftover bytes (`MODBUS_TRUNCATED`). Throws on an invalid request or a response
   * longer than `maxFrameLength` (a programming error, not wire data).
   */
  expect(unit: number, req: ModbusRequest): void {
    checkUnit(unit, 1, 'MODBUS_BAD_REQUEST');
    validateRequest(req);
    const length = expectedResponseLength(req);
    if (length > this.maxFrameLength) {
      throw new ProtocolError(
        'FRAME_TOO_LONG',
        `the ${length}-byte response exceeds maxFrameLength ${this.maxFrameLength}`,
      );
    }
    this.dropLeftovers();
    this.expected.setFor(unit, req);
  }

  /** The transaction timed out: forget the expectation and any partial frame. */
  cancel(): void {
    this.dropLeftovers();
    this.expected.clear();
  }

  /**
   * Feeds the bytes received at `nowMs` (the time of the chunk's last byte). Returns the
   * response to the armed request once it is complete and its CRC checks (normal or
   * exception; at most one, after which the framer disarms), else `[]`. The returned
   * frames are new objects sharing no memory with `chunk` or the framer; `chunk` is
   * copied when kept, never retained.
   */
  feed(chunk: Uint8Array, nowMs: number): RtuFrame<ModbusResponse>[] {
    const out: RtuFrame<ModbusResponse>[] = [];
    const n = chunk.length;
    if (n === 0) return out;
    if (this.gapMs >= 0 && nowMs - n * this.charMs - this.lastByteAt > this.gapMs) {
      this.dropLeftovers(); // Modbus over serial line V1.02 §2.5.1.1: silence ends a frame
    }
    this.lastByteAt = nowMs;
    const expected = this.expected;
    if (expected.unit < 0) {
      this.log.drop(n, 'MODBUS_UNEXPECTED_RESPONSE');
      return out;
    }
    const window = this.window;
    // Fast path: the whole response in one chunk, nothing buffered
    if (window.head === window.tail && expected.match(chunk, 0, n) === n && crcOkAt(chunk, 0, n)) {
      out.push(this.take(chunk, 0, n));
      return out;
    }
    let off = 0;
    while (off < n) {
      off += window.append(chunk, off);
      this.scan(out);
      if (expected.unit < 0) {
        const rest = window.size + n - off;
        if (rest > 0) this.log.drop(rest, 'MODBUS_UNEXPECTED_RESPONSE');
        window.clear();
        break;
      }
    }
    return out;
  }

  private scan(out: RtuFrame<ModbusResponse>[]): void {
    const window = this.window;
    const b = window.bytes;
    const expected = this.expected;
    while (expected.unit >= 0) {
      const h = window.head;
      const avail = window.tail - h;
      if (avail === 0) return;
      const length = expected.match(b, h, avail);
      if (length === 0) return; // NEED_MORE
      if (length > 0) {
        if (avail < length) return;
        if (crcOkAt(b, h, length)) {
          out.push(this.take(b, h, length));
          window.skip(length);
          return;
        }
        // Modbus over serial line V1.02 §2.5.1.2: a CRC error discards the frame; resync
        this.log.drop(1, 'MODBUS_CRC');
        window.skip(1);
        continue;
      }
      // Cannot start the expected response. A complete response of another unit or
      // function starting here is counted as such, but still passed one byte at a time: a
      // CRC that checks by chance (1 in 65536) must not swallow the response behind it.
      const other = responseLengthAt(b, h, avail);
      if (other > 0 && other <= avail && crcOkAt(b, h, other)) {
        this.log.endRun();
        this.log.drop(1, 'MODBUS_UNEXPECTED_RESPONSE');
      } else {
        this.log.drop(1, 'MODBUS_GARBAGE');
      }
      window.skip(1);
    }
  }

  /** Decodes the checked response at `b[h, h + length)` and disarms. */
  private take(b: Uint8Array, h: number, length: number): RtuFrame<ModbusResponse> {
    const expected = this.expected;
    const unit = expected.unit;
    const pdu: ModbusResponse =
      b[h + 1] === expected.fc
        ? decodeResponseAt(b, h + 1, h + length - 2)
        : { fc: expected.fc, exception: b[h + 2]! }; // §7
    expected.clear();
    this.log.frame();
    return { unit, pdu };
  }

  private dropLeftovers(): void {
    const size = this.window.size;
    if (size > 0) this.log.drop(size, 'MODBUS_TRUNCATED');
    this.window.clear();
    this.log.endRun();
  }
}
