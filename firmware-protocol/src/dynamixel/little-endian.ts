/**
 * Little-endian integers of 1, 2 or 4 bytes: Dynamixel control table values and
 * the 16-bit fields of Protocol 2.0 are sent low byte first (ROBOTIS Protocol 2.0
 * e-manual §Instruction Details: "Low-order byte … High-order byte").
 */
import { ProtocolError } from '../errors.ts';

export type IntSize = 1 | 2 | 4;

function checkRead(bytes: Uint8Array, offset: number, size: IntSize): void {
  if (size !== 1 && size !== 2 && size !== 4) {
    throw new ProtocolError('VALUE_OUT_OF_RANGE', `integer size ${size} is not 1, 2 or 4`);
  }
  if (!Number.isInteger(offset) || offset < 0 || offset + size > bytes.length) {
    throw new ProtocolError(
      'DXL_BAD_PACKET',
      `${size}-byte value at offset ${offset} runs past the ${bytes.length} bytes available`,
    );
  }
}

/** Unsigned little-endian integer of `size` bytes at `offset`. */
export function readUint(bytes: Uint8Array, offset: number, size: IntSize): number {
  checkRead(bytes, offset, size);
  if (size === 1) return bytes[offset]!;
  if (size === 2) return bytes[offset]! | (bytes[offset + 1]! << 8);
  return (
    (bytes[offset]! |
      (bytes[offset + 1]! << 8) |
      (bytes[offset + 2]! << 16) |
      (bytes[offset + 3]! << 24)) >>>
    0
  );
}

/** Signed (two's complement) little-endian integer of `size` bytes at `offset`. */
export function readInt(bytes: Uint8Array, offset: number, size: IntSize): number {
  const u = readUint(bytes, offset, size);
  if (size === 4) return u | 0;
  const bits = size * 8;
  const sign = 1 << (bits - 1);
  return u & sign ? u - (1 << bits) : u;
}

function checkWrite(value: number, size: IntSize, min: number, max: number): void {
  if (size !== 1 && size !== 2 && size !== 4) {
    throw new ProtocolError('VALUE_OUT_OF_RANGE', `integer size ${size} is not 1, 2 or 4`);
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ProtocolError(
      'VALUE_OUT_OF_RANGE',
      `${value} does not fit ${size} byte(s): [${min}, ${max}]`,
    );
  }
}

function write(value: number, size: IntSize): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (value >>> (8 * i)) & 0xff;
  return out;
}

/** `value` as an unsigned little-endian integer of `size` bytes. */
export function writeUint(value: number, size: IntSize): Uint8Array {
  checkWrite(value, size, 0, 2 ** (size * 8) - 1);
  return write(value, size);
}

/** `value` as a signed (two's complement) little-endian integer of `size` bytes. */
export function writeInt(value: number, size: IntSize): Uint8Array {
  const half = 2 ** (size * 8 - 1);
  checkWrite(value, size, -half, half - 1);
  return write(value, size);
}
