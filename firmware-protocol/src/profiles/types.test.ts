import { describe, expect, it } from 'vitest';
import type { ObjectInfo } from './schema.ts';
import { fromRaw, signed, toRaw, unsigned } from './types.ts';

const obj = (scale: number, type: ObjectInfo['type'] = 'i32'): ObjectInfo => ({
  name: 'x',
  address: 0,
  type,
  access: 'rw',
  scale,
});

describe('scaling', () => {
  it('decimal scales divide by the integer inverse: no binary-fraction noise', () => {
    expect(fromRaw(obj(0.1), 3)).toBe(0.3); // 3 × 0.1 would be 0.30000000000000004
    expect(fromRaw(obj(0.01), 4155)).toBe(41.55);
    expect(toRaw(obj(0.1), 0.3)).toBe(3);
    expect(toRaw(obj(0.01), 41.55)).toBe(4155);
  });
  it('other scales multiply and divide', () => {
    expect(fromRaw(obj(0.229), 100)).toBeCloseTo(22.9, 12);
    expect(toRaw(obj(0.229), 22.9)).toBe(100);
    expect(fromRaw(obj(2), 21)).toBe(42);
    expect(toRaw(obj(2), 43)).toBe(22); // 21.5 rounds half up
    expect(toRaw(obj(2.5), 10)).toBe(4);
  });
  it('rounds to the nearest step and never returns -0', () => {
    expect(toRaw(obj(1), 1.4)).toBe(1);
    expect(toRaw(obj(1), 1.5)).toBe(2);
    expect(Object.is(toRaw(obj(1), -0.2), 0)).toBe(true);
    expect(Object.is(toRaw(obj(1), -0), 0)).toBe(true);
  });
});

describe("two's complement", () => {
  it('signed/unsigned by type', () => {
    expect(signed('i8', 0xff)).toBe(-1);
    expect(signed('i16', 0x8000)).toBe(-0x8000);
    expect(signed('i32', 0x80000000)).toBe(-0x80000000);
    expect(signed('u32', 0xffffffff)).toBe(0xffffffff);
    expect(unsigned('i16', -1)).toBe(0xffff);
    expect(unsigned('i32', -1)).toBe(0xffffffff);
    expect(unsigned('u16', 5)).toBe(5);
  });
});
