import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bytesDecoder,
  decodeBytes,
  decodeRegisters,
  encodeBytes,
  encodeRegisters,
  listObjects,
  objectAt,
  objectInfo,
} from './codec.ts';
import { parseProfile } from './parse.ts';
import type { DriveProfile, ObjectType, WordOrder } from './schema.ts';
import { sizeInBytes, sizeInRegisters } from './types.ts';

const PROFILES = resolve(import.meta.dirname, '../../../config/profiles');
const load = (name: string) =>
  parseProfile(readFileSync(resolve(PROFILES, `${name}.yaml`), 'utf8'), name);
const sf = load('sf-servo');
const kinco = load('kinco-fd');
const xm = load('xm430');

const code = (c: string) => expect.objectContaining({ code: c });

/** A Modbus profile with one object of each 16/32-bit type, 2 registers apart. */
function modbusProfile(wordOrder: WordOrder, scale = 1): DriveProfile {
  return parseProfile(`
name: all-types
protocol: modbus-rtu
wordOrder: ${wordOrder}
objects:
  u16: { address: 0, type: u16, access: rw, scale: ${scale} }
  i16: { address: 2, type: i16, access: rw, scale: ${scale} }
  u32: { address: 4, type: u32, access: rw, scale: ${scale} }
  i32: { address: 6, type: i32, access: rw, scale: ${scale} }
`);
}

const dxl = parseProfile(`
name: all-bytes
protocol: dynamixel2
modelNumber: 1
objects:
  u8:  { address: 0, type: u8,  access: rw }
  i8:  { address: 1, type: i8,  access: rw }
  u16: { address: 2, type: u16, access: rw }
  i16: { address: 4, type: i16, access: rw }
  u32: { address: 6, type: u32, access: rw }
  i32: { address: 10, type: i32, access: rw }
`);

const RANGE: Record<ObjectType, [number, number]> = {
  u8: [0, 0xff],
  i8: [-0x80, 0x7f],
  u16: [0, 0xffff],
  i16: [-0x8000, 0x7fff],
  u32: [0, 0xffffffff],
  i32: [-0x80000000, 0x7fffffff],
};

describe('objectInfo', () => {
  it('returns the object with its name', () => {
    expect(objectInfo(sf, 'targetPosition')).toEqual({
      name: 'targetPosition',
      address: 4,
      type: 'i32',
      access: 'rw',
      index: 0x607a,
      scale: 1,
      unit: 'counts',
    });
  });
  it('throws PROFILE_UNKNOWN_OBJECT for a name the profile does not map', () => {
    for (const name of ['nope', 'toString', '__proto__', 'constructor']) {
      expect(() => objectInfo(sf, name)).toThrow(code('PROFILE_UNKNOWN_OBJECT'));
    }
    expect(() => objectInfo(sf, 'nope')).toThrow("profile sf-servo maps no object 'nope'");
  });
  it('sizes: registers and bytes', () => {
    expect(sizeInRegisters(objectInfo(sf, 'statusword'))).toBe(1);
    expect(sizeInRegisters(objectInfo(sf, 'positionActual'))).toBe(2);
    expect(sizeInBytes(objectInfo(xm, 'id'))).toBe(1);
    expect(sizeInBytes(objectInfo(xm, 'presentCurrent'))).toBe(2);
    expect(sizeInBytes(objectInfo(xm, 'presentPosition'))).toBe(4);
  });
});

describe('listObjects / objectAt', () => {
  it('lists objects by address', () => {
    const addresses = listObjects(kinco).map((o) => o.address);
    expect(addresses).toEqual([...addresses].sort((a, b) => a - b));
    expect(listObjects(kinco)[0]!.name).toBe('controlword');
  });
  it('finds the object covering an address, none in holes', () => {
    expect(objectAt(sf, 0)?.name).toBe('controlword');
    expect(objectAt(sf, 5)?.name).toBe('targetPosition'); // second register of a 32-bit value
    expect(objectAt(sf, 0x16)?.name).toBe('dcBusVoltage');
    expect(objectAt(sf, 0x17)).toBeUndefined();
    expect(objectAt(kinco, 0x3101)).toBeUndefined();
    expect(objectAt(kinco, 0x0000)).toBeUndefined();
    expect(objectAt(xm, 111)?.name).toBe('profileAcceleration');
    expect(objectAt(xm, 66)).toBeUndefined();
    expect(objectAt(xm, 147)).toBeUndefined();
  });
});

describe('encodeRegisters / decodeRegisters: vectors', () => {
  it('sf-servo: 32-bit high word first', () => {
    // target position 0x12345678 → 0x0004: 1234 (high), 0x0005: 5678 (low)
    expect(encodeRegisters(sf, 'targetPosition', 0x12345678)).toEqual({
      address: 4,
      registers: [0x1234, 0x5678],
    });
    // -2 → two's complement 0xFFFFFFFE
    expect(encodeRegisters(sf, 'targetPosition', -2)).toEqual({
      address: 4,
      registers: [0xffff, 0xfffe],
    });
    expect(decodeRegisters(sf, 'targetPosition', [0xffff, 0xfffe], 4)).toBe(-2);
    expect(encodeRegisters(sf, 'controlword', 0x0f)).toEqual({ address: 0, registers: [0x000f] });
    expect(encodeRegisters(sf, 'targetTorque', -500)).toEqual({
      address: 0x12,
      registers: [0xfe0c],
    });
  });

  it("kinco-fd: the manual's example 0x00085555 into target velocity is 55 55 00 08 (low word first)", () => {
    expect(encodeRegisters(kinco, 'targetVelocity', 0x00085555)).toEqual({
      address: 0x6f00,
      registers: [0x5555, 0x0008],
    });
    expect(decodeRegisters(kinco, 'targetVelocity', [0x5555, 0x0008], 0x6f00)).toBe(0x00085555);
    expect(decodeRegisters(kinco, 'targetVelocity', [0x4e82, 0x001b], 0x6f00)).toBe(1789570); // FD5P: 100 rpm
  });

  it('applies scale: 41.5 °C is 415 on the wire, and back', () => {
    expect(encodeRegisters(sf, 'temperature', 41.5, { allowReadOnly: true })).toEqual({
      address: 0x15,
      registers: [415],
    });
    expect(encodeRegisters(sf, 'temperature', -12.3, { allowReadOnly: true }).registers).toEqual([
      0x10000 - 123,
    ]);
    expect(decodeRegisters(sf, 'temperature', [415], 0x15)).toBe(41.5);
    expect(decodeRegisters(sf, 'dcBusVoltage', [481], 0x16)).toBe(48.1);
    expect(decodeRegisters(sf, 'temperature', [0x10000 - 123], 0x15)).toBe(-12.3);
    // 41.54 rounds to the nearest step
    expect(encodeRegisters(sf, 'temperature', 41.54, { allowReadOnly: true }).registers).toEqual([
      415,
    ]);
  });

  it('reads an object out of a larger block', () => {
    const block = [0x000f, 0x0237, 0x0001, 0x0001, 0x0000, 0x2ee0];
    expect(decodeRegisters(sf, 'statusword', block, 0)).toBe(0x0237);
    expect(decodeRegisters(sf, 'targetPosition', block, 0)).toBe(12000);
    expect(decodeRegisters(sf, 'modesOfOperationDisplay', Uint16Array.from(block), 0)).toBe(1);
  });
});

describe('encodeRegisters / decodeRegisters: refusals', () => {
  it('a read-only object is refused (PROFILE_READ_ONLY) unless allowReadOnly', () => {
    expect(() => encodeRegisters(sf, 'statusword', 0x27)).toThrow(code('PROFILE_READ_ONLY'));
    expect(() => encodeRegisters(sf, 'statusword', 0x27)).toThrow(
      "sf-servo: 'statusword' is read-only",
    );
    expect(encodeRegisters(sf, 'statusword', 0x27, { allowReadOnly: true }).registers).toEqual([
      0x27,
    ]);
  });

  it('a value outside the type is VALUE_OUT_OF_RANGE', () => {
    expect(() => encodeRegisters(sf, 'controlword', 0x10000)).toThrow(code('VALUE_OUT_OF_RANGE'));
    expect(() => encodeRegisters(sf, 'controlword', -1)).toThrow(code('VALUE_OUT_OF_RANGE'));
    expect(() => encodeRegisters(sf, 'targetTorque', 40000)).toThrow(
      'targetTorque: 40000 is outside the i16 range [-32768, 32767]',
    );
    expect(() => encodeRegisters(sf, 'profileVelocity', 2 ** 32)).toThrow(
      code('VALUE_OUT_OF_RANGE'),
    );
    expect(() => encodeRegisters(sf, 'targetPosition', 2 ** 31)).toThrow(
      code('VALUE_OUT_OF_RANGE'),
    );
    expect(() => encodeRegisters(sf, 'temperature', 3276.8, { allowReadOnly: true })).toThrow(
      'range [-3276.8, 3276.7]',
    );
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, '12' as unknown as number]) {
      expect(() => encodeRegisters(sf, 'targetPosition', bad)).toThrow(code('VALUE_OUT_OF_RANGE'));
    }
  });

  it('an object outside the block, or a register that is not 16-bit, is VALUE_OUT_OF_RANGE', () => {
    expect(() => decodeRegisters(sf, 'targetPosition', [1, 2, 3, 4], 0)).toThrow(
      code('VALUE_OUT_OF_RANGE'),
    );
    expect(() => decodeRegisters(sf, 'controlword', [1], 1)).toThrow(code('VALUE_OUT_OF_RANGE'));
    expect(() => decodeRegisters(sf, 'controlword', [0x10000], 0)).toThrow(
      code('VALUE_OUT_OF_RANGE'),
    );
    expect(() => decodeRegisters(sf, 'targetPosition', [1, -1], 4)).toThrow(
      code('VALUE_OUT_OF_RANGE'),
    );
    expect(() => decodeRegisters(sf, 'controlword', [1.5], 0)).toThrow(code('VALUE_OUT_OF_RANGE'));
  });

  it('register functions on a Dynamixel profile, and byte functions on Modbus, are PROFILE_INVALID', () => {
    expect(() => encodeRegisters(xm, 'goalPosition', 1)).toThrow(code('PROFILE_INVALID'));
    expect(() => decodeRegisters(xm, 'goalPosition', [0, 0], 116)).toThrow(code('PROFILE_INVALID'));
    expect(() => encodeBytes(sf, 'controlword', 1)).toThrow(code('PROFILE_INVALID'));
    expect(() => decodeBytes(sf, 'controlword', new Uint8Array(2), 0)).toThrow(
      code('PROFILE_INVALID'),
    );
  });
});

describe('round trips (fast-check)', () => {
  for (const order of ['high-first', 'low-first'] as const) {
    const p = modbusProfile(order);
    const scaled = modbusProfile(order, 0.1);
    for (const type of ['u16', 'i16', 'u32', 'i32'] as const) {
      const [min, max] = RANGE[type];
      it(`${type}, ${order}: decode(encode(x)) = x, registers are 16-bit`, () => {
        fc.assert(
          fc.property(fc.integer({ min, max }), (x) => {
            const { address, registers } = encodeRegisters(p, type, x);
            expect(registers).toHaveLength(type.endsWith('32') ? 2 : 1);
            for (const r of registers)
              expect(r >= 0 && r <= 0xffff && Number.isInteger(r)).toBe(true);
            expect(decodeRegisters(p, type, registers, address)).toBe(x);
          }),
          { numRuns: 300 },
        );
      });
      it(`${type}, ${order}: encode(decode(regs)) = regs`, () => {
        const n = type.endsWith('32') ? 2 : 1;
        fc.assert(
          fc.property(
            fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: n, maxLength: n }),
            (regs) => {
              const address = objectInfo(p, type).address;
              const v = decodeRegisters(p, type, regs, address);
              expect(encodeRegisters(p, type, v).registers).toEqual(regs);
            },
          ),
          { numRuns: 200 },
        );
      });
      it(`${type}, ${order}, scale 0.1: raw/10 survives the round trip exactly`, () => {
        fc.assert(
          fc.property(fc.integer({ min, max }), (raw) => {
            const value = raw / 10;
            const { address, registers } = encodeRegisters(scaled, type, value);
            expect(decodeRegisters(scaled, type, registers, address)).toBe(value);
          }),
          { numRuns: 200 },
        );
      });
    }
  }

  it('word order swaps the two registers and nothing else', () => {
    fc.assert(
      fc.property(fc.integer({ min: RANGE.i32[0], max: RANGE.i32[1] }), (x) => {
        const high = encodeRegisters(modbusProfile('high-first'), 'i32', x).registers;
        const low = encodeRegisters(modbusProfile('low-first'), 'i32', x).registers;
        expect(low).toEqual([high[1], high[0]]);
      }),
      { numRuns: 200 },
    );
  });

  for (const type of ['u8', 'i8', 'u16', 'i16', 'u32', 'i32'] as const) {
    const [min, max] = RANGE[type];
    it(`dynamixel ${type}: little-endian round trip`, () => {
      fc.assert(
        fc.property(fc.integer({ min, max }), (x) => {
          const { address, bytes } = encodeBytes(dxl, type, x);
          expect(bytes).toHaveLength(sizeInBytes(objectInfo(dxl, type)));
          expect(decodeBytes(dxl, type, bytes, address)).toBe(x);
          // little-endian: the low byte first
          expect(bytes[0]).toBe(((x % 256) + 256) % 256);
        }),
        { numRuns: 300 },
      );
    });
  }
});

describe('encodeBytes / decodeBytes: vectors', () => {
  it('XM430 goal position 2048 is 00 08 00 00 at 116', () => {
    const { address, bytes } = encodeBytes(xm, 'goalPosition', 2048);
    expect(address).toBe(116);
    expect([...bytes]).toEqual([0x00, 0x08, 0x00, 0x00]);
    expect([...encodeBytes(xm, 'goalPosition', -1).bytes]).toEqual([0xff, 0xff, 0xff, 0xff]);
  });

  it('reads present values out of a read from 126, through the profile scales', () => {
    // 126: current -5 (FB FF) | 128: velocity 100 (64 00 00 00) | 132: position -4096 (00 F0 FF FF)
    const data = Uint8Array.from([0xfb, 0xff, 0x64, 0x00, 0x00, 0x00, 0x00, 0xf0, 0xff, 0xff]);
    // 2.69 mA and 0.229 rev/min (= 15.633 counts/s) per unit.
    expect(decodeBytes(xm, 'presentCurrent', data, 126)).toBeCloseTo(-13.45, 9);
    expect(decodeBytes(xm, 'presentVelocity', data, 126)).toBeCloseTo(1563.3, 9);
    expect(decodeBytes(xm, 'presentPosition', data, 126)).toBe(-4096);
  });

  it('scales input voltage: 121 (79 00) is 12.1 V', () => {
    expect(decodeBytes(xm, 'presentInputVoltage', Uint8Array.from([0x79, 0x00]), 144)).toBe(12.1);
    expect([
      ...encodeBytes(xm, 'presentInputVoltage', 12.1, { allowReadOnly: true }).bytes,
    ]).toEqual([0x79, 0x00]);
  });

  it('refuses read-only writes, out-of-range values, objects outside the block', () => {
    expect(() => encodeBytes(xm, 'presentPosition', 1)).toThrow(code('PROFILE_READ_ONLY'));
    expect(() => encodeBytes(xm, 'torqueEnable', 256)).toThrow(code('VALUE_OUT_OF_RANGE'));
    expect(() => encodeBytes(dxl, 'i8', -129)).toThrow(code('VALUE_OUT_OF_RANGE'));
    expect(() => decodeBytes(xm, 'presentPosition', new Uint8Array(3), 132)).toThrow(
      code('VALUE_OUT_OF_RANGE'),
    );
    expect(() => decodeBytes(xm, 'presentPosition', new Uint8Array(8), 133)).toThrow(
      code('VALUE_OUT_OF_RANGE'),
    );
  });
});

describe('bytesDecoder (a poll block decoded at once)', () => {
  const scaled = parseProfile(`
name: scaled-bytes
protocol: dynamixel2
modelNumber: 1
objects:
  a: { address: 0, type: i16, access: r, scale: 0.1 }
  b: { address: 2, type: u32, access: r, scale: 0.229 }
  c: { address: 6, type: i32, access: r, scale: 2.69 }
  d: { address: 10, type: u8, access: r, scale: 0.5 }
`);
  it('gives decodeBytes’s value for every object, whatever the bytes', () => {
    for (const p of [dxl, xm, scaled]) {
      const objects = listObjects(p);
      const base = Math.min(...objects.map((o) => o.address));
      const end = Math.max(...objects.map((o) => o.address + sizeInBytes(o)));
      const names = objects.map((o) => o.name);
      const decode = bytesDecoder(p, names, base, end - base);
      fc.assert(
        fc.property(fc.uint8Array({ minLength: end - base, maxLength: end - base }), (bytes) => {
          const got = decode(bytes);
          for (const n of names)
            expect(Object.is(got[n], decodeBytes(p, n, bytes, base))).toBe(true);
        }),
        { numRuns: 300 },
      );
    }
  });

  it('refuses an object outside the block when it is made, as decodeBytes does when called', () => {
    expect(() => bytesDecoder(dxl, ['u16', 'i32'], 0, 8)).toThrow(code('VALUE_OUT_OF_RANGE'));
    expect(() => bytesDecoder(sf, ['controlword'], 0, 2)).toThrow(code('PROFILE_INVALID'));
  });
});
