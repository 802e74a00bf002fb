/**
 * Byte stuffing of Dynamixel Protocol 2.0 (ROBOTIS Protocol 2.0 e-manual
 * §Packet Process): inside the body — from the instruction field to the last
 * parameter, the status error byte included, never the CRC — every `FF FF FD`
 * of the original bytes gets one extra `FD`, so that no header can appear
 * inside a packet. LEN counts the stuffed body and the CRC covers it.
 *
 * The pattern is looked for in the original bytes only (as DynamixelSDK
 * `addStuffing` does), so an inserted `FD` never starts a new match:
 * `FF FF FD FD` → `FF FF FD FD FD`.
 */
import { ProtocolError } from '../errors.ts';

/** Number of stuffing bytes `stuff` adds to `body[start, end)`. */
export function stuffingCount(body: Uint8Array, start = 0, end = body.length): number {
  let extra = 0;
  for (let i = start + 2; i < end; i++) {
    if (body[i] === 0xfd && body[i - 1] === 0xff && body[i - 2] === 0xff) extra++;
  }
  return extra;
}

/**
 * Writes `body` stuffed into `out` at `offset`; returns the offset after the last
 * byte written. `out` must have room for `body.length + stuffingCount(body)`.
 */
export function writeStuffed(body: Uint8Array, out: Uint8Array, offset: number): number {
  let o = offset;
  for (let i = 0; i < body.length; i++) {
    const b = body[i]!;
    out[o++] = b;
    // e-manual §Packet Process: 'When the pattern "0xFF 0xFF 0xFD" appears, add Byte Stuffing (0xFD)'
    if (b === 0xfd && i >= 2 && body[i - 1] === 0xff && body[i - 2] === 0xff) out[o++] = 0xfd;
  }
  return o;
}

/** Stuffs a packet body: `FF FF FD` → `FF FF FD FD`. Always returns a new array. */
export function stuff(body: Uint8Array): Uint8Array {
  const extra = stuffingCount(body);
  if (extra === 0) return body.slice();
  const out = new Uint8Array(body.length + extra);
  writeStuffed(body, out, 0);
  return out;
}

/**
 * Unstuffs `src[start, end)` into a new array, leaving out the first `skip`
 * unstuffed bytes (the instruction and error fields, which a stuffing byte can
 * never precede). Throws `DXL_BAD_PACKET` when an `FF FF FD` of the body is not
 * followed by its stuffing `FD`: a sender that stuffs as the e-manual requires
 * never produces that.
 */
export function unstuffRange(src: Uint8Array, start: number, end: number, skip = 0): Uint8Array {
  // Pass 1: validate and count the stuffing bytes. `h2`, `h1` are the last two
  // unstuffed bytes; -1 stands for "none yet".
  let removed = 0;
  let h2 = -1;
  let h1 = -1;
  let pending = false;
  for (let i = start; i < end; i++) {
    const b = src[i]!;
    if (pending) {
      // e-manual §Packet Process, reception: remove the Byte Stuffing of "FF FF FD FD"
      if (b !== 0xfd) throw badStuffing(i - start);
      pending = false;
      removed++;
      continue;
    }
    if (b === 0xfd && h1 === 0xff && h2 === 0xff) pending = true;
    h2 = h1;
    h1 = b;
  }
  if (pending) throw badStuffing(end - start);
  if (removed === 0) return src.slice(start + skip, end);

  // Pass 2: copy, dropping each FD that follows an unstuffed FF FF FD.
  const out = new Uint8Array(end - start - removed - skip);
  let n = 0; // unstuffed bytes seen
  h2 = -1;
  h1 = -1;
  for (let i = start; i < end; i++) {
    const b = src[i]!;
    if (n >= skip) out[n - skip] = b;
    n++;
    if (b === 0xfd && h1 === 0xff && h2 === 0xff) {
      i++; // the stuffing byte, validated in pass 1
      h2 = 0xff;
      h1 = 0xfd;
      continue;
    }
    h2 = h1;
    h1 = b;
  }
  return out;
}

/** Removes byte stuffing: `FF FF FD FD` → `FF FF FD`. Always returns a new array. */
export function unstuff(body: Uint8Array): Uint8Array {
  return unstuffRange(body, 0, body.length);
}

function badStuffing(at: number): ProtocolError {
  return new ProtocolError(
    'DXL_BAD_PACKET',
    `bad byte stuffing: FF FF FD at body offset ${at - 3} not followed by the stuffing byte FD`,
  );
}
