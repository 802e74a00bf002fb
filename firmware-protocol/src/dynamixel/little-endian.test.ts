import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../errors.ts';
import { type IntSize, readInt, readUint, writeInt, writeUint } from './little-endian.ts';

const u8 = (...b: number[]) => Uint8Array.from(b);

describe('little-endian control table values', () => {
  it.each([
    // [bytes, offset, size, unsigned, signed]
    [u8(0xa6, 0x00, 0x00, 0x00), 0, 4, 166, 166], // e-manual §Read: Present Position 166
    [u8(0x1f, 0x08, 0x00, 0x00), 0, 4, 2079, 2079],
    [u8(0x06, 0x04), 0, 2, 1030, 1030], // XM430-W210 model number
    [u8(0x00, 0xff, 0xff, 0xff, 0xff), 1, 4, 0xffffffff, -1],
    [u8(0x00, 0x00, 0x00, 0x80), 0, 4, 0x80000000, -0x80000000],
    [u8(0x18, 0xfc), 0, 2, 0xfc18, -1000],
    [u8(0x80), 0, 1, 128, -128],
    [u8(0x7f), 0, 1, 127, 127],
  ] as const)('%o at %i, %i bytes', (bytes, offset, size, unsigned, signed) => {
    expect(readUint(bytes, offset, size)).toBe(unsigned);
    expect(readInt(bytes, offset, size)).toBe(signed);
    expect(writeUint(unsigned, size)).toEqual(bytes.subarray(offset, offset + size));
    expect(writeInt(signed, size)).toEqual(bytes.subarray(offset, offset + size));
  });

  it('reading past the end is DXL_BAD_PACKET', () => {
    expect(() => readUint(u8(1, 2, 3), 0, 4)).toThrow(ProtocolError);
    expect(() => readInt(u8(1, 2), -1, 1)).toThrow(/offset -1/);
  });

  it('values that do not fit are VALUE_OUT_OF_RANGE', () => {
    for (const [v, s] of [
      [256, 1],
      [-1, 2],
      [2 ** 32, 4],
      [1.5, 4],
    ] as const) {
      expect(() => writeUint(v, s)).toThrow(ProtocolError);
    }
    expect(() => writeInt(128, 1)).toThrow(ProtocolError);
    expect(() => writeInt(-32769, 2)).toThrow(ProtocolError);
    expect(() => writeUint(1, 3 as IntSize)).toThrow(/not 1, 2 or 4/);
    expect(() => readUint(u8(1, 2, 3), 0, 3 as IntSize)).toThrow(/not 1, 2 or 4/);
  });

  it('read(write(x)) = x', () => {
    const size = fc.constantFrom<IntSize>(1, 2, 4);
    fc.assert(
      fc.property(size, fc.integer({ min: 0, max: 2 ** 32 - 1 }), (s, r) => {
        const max = 2 ** (8 * s);
        const v = r % max;
        expect(readUint(writeUint(v, s), 0, s)).toBe(v);
        const i = v - max / 2;
        expect(readInt(writeInt(i, s), 0, s)).toBe(i);
      }),
      { numRuns: 300 },
    );
  });
});
