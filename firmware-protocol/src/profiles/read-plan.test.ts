import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeBytes, encodeRegisters, listObjects, objectInfo } from './codec.ts';
import { parseProfile } from './parse.ts';
import { decodeBlock, planIndirect, planReads } from './read-plan.ts';
import { sizeInBytes, sizeInRegisters } from './types.ts';

const PROFILES = resolve(import.meta.dirname, '../../../config/profiles');
const load = (name: string) =>
  parseProfile(readFileSync(resolve(PROFILES, `${name}.yaml`), 'utf8'), name);
const sf = load('sf-servo');
const kinco = load('kinco-fd');
const xm = load('xm430');
const code = (c: string) => expect.objectContaining({ code: c });

const SF_ALL = Object.keys(sf.objects);
const SF_POLL = SF_ALL.filter((n) => sf.objects[n]!.access === 'r');

describe('planReads', () => {
  it("merges all of sf-servo's adjacent registers into one read of 23 registers", () => {
    const blocks = planReads(sf, SF_ALL);
    expect(blocks).toEqual([{ address: 0, quantity: 0x17, objects: SF_ALL }]);
  });

  it('keeps holes out by default on Modbus (maxGap 0)', () => {
    expect(planReads(sf, SF_POLL)).toEqual([
      { address: 0x01, quantity: 1, objects: ['statusword'] },
      { address: 0x03, quantity: 1, objects: ['modesOfOperationDisplay'] },
      { address: 0x06, quantity: 2, objects: ['positionActual'] },
      { address: 0x0a, quantity: 2, objects: ['velocityActual'] },
      {
        address: 0x13,
        quantity: 4,
        objects: ['torqueActual', 'errorCode', 'temperature', 'dcBusVoltage'],
      },
    ]);
  });

  it('reads holes up to maxGap', () => {
    expect(planReads(sf, SF_POLL, { maxGap: 2 })).toEqual([
      {
        address: 0x01,
        quantity: 11,
        objects: ['statusword', 'modesOfOperationDisplay', 'positionActual', 'velocityActual'],
      },
      {
        address: 0x13,
        quantity: 4,
        objects: ['torqueActual', 'errorCode', 'temperature', 'dcBusVoltage'],
      },
    ]);
    expect(planReads(sf, SF_POLL, { maxGap: 7 })).toHaveLength(1);
  });

  it("never merges Kinco's discontinuous registers", () => {
    const blocks = planReads(kinco, ['statusword', 'positionActual', 'velocityActual']);
    expect(blocks.map((b) => [b.address, b.quantity])).toEqual([
      [0x3200, 1],
      [0x3700, 2],
      [0x3b00, 2],
    ]);
  });

  it('splits at maxQuantity without splitting a 32-bit object', () => {
    const blocks = planReads(sf, SF_ALL, { maxQuantity: 5 });
    expect(blocks.map((b) => [b.address, b.quantity])).toEqual([
      [0x00, 4],
      [0x04, 4],
      [0x08, 4],
      [0x0c, 4],
      [0x10, 5],
      [0x15, 2],
    ]);
  });

  it('plans Dynamixel reads in bytes with a default gap of 16', () => {
    const names = [
      'torqueEnable',
      'hardwareErrorStatus',
      'presentCurrent',
      'presentPosition',
      'presentTemperature',
    ];
    expect(planReads(xm, names)).toEqual([
      { address: 64, quantity: 7, objects: ['torqueEnable', 'hardwareErrorStatus'] },
      {
        address: 126,
        quantity: 21,
        objects: ['presentCurrent', 'presentPosition', 'presentTemperature'],
      },
    ]);
    expect(planReads(xm, names, { maxGap: 0 })).toHaveLength(5);
  });

  it('reads a duplicate name once, and nothing for no names', () => {
    expect(planReads(sf, ['statusword', 'statusword'])).toEqual([
      { address: 1, quantity: 1, objects: ['statusword'] },
    ]);
    expect(planReads(sf, [])).toEqual([]);
  });

  it('refuses unknown names and bad options', () => {
    expect(() => planReads(sf, ['statusword', 'nope'])).toThrow(code('PROFILE_UNKNOWN_OBJECT'));
    expect(() => planReads(sf, SF_ALL, { maxGap: -1 })).toThrow(code('VALUE_OUT_OF_RANGE'));
    expect(() => planReads(sf, SF_ALL, { maxGap: 0.5 })).toThrow(code('VALUE_OUT_OF_RANGE'));
    expect(() => planReads(sf, SF_ALL, { maxQuantity: 0 })).toThrow(code('VALUE_OUT_OF_RANGE'));
    expect(() => planReads(sf, ['targetPosition'], { maxQuantity: 1 })).toThrow(
      code('VALUE_OUT_OF_RANGE'),
    );
  });

  it('property: every object read exactly once, within the limits', () => {
    fc.assert(
      fc.property(
        fc.subarray(SF_ALL),
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 2, max: 30 }),
        (names, maxGap, maxQuantity) => {
          const blocks = planReads(sf, names, { maxGap, maxQuantity });
          const seen = blocks.flatMap((b) => b.objects);
          expect([...seen].sort()).toEqual([...names].sort());
          let previousEnd = -1;
          for (const b of blocks) {
            expect(b.quantity).toBeLessThanOrEqual(maxQuantity);
            expect(b.address).toBeGreaterThan(previousEnd - 1);
            previousEnd = b.address + b.quantity;
            let end = b.address;
            for (const n of b.objects) {
              const o = objectInfo(sf, n);
              expect(o.address - end).toBeLessThanOrEqual(maxGap);
              expect(o.address).toBeGreaterThanOrEqual(b.address);
              end = o.address + sizeInRegisters(o);
              expect(end).toBeLessThanOrEqual(b.address + b.quantity);
            }
            expect(end).toBe(b.address + b.quantity);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('decodeBlock', () => {
  it('decodes every object of an sf-servo block', () => {
    const image = new Array<number>(0x17).fill(0);
    const values: Record<string, number> = {
      controlword: 0x0f,
      statusword: 0x1637,
      modesOfOperation: 1,
      modesOfOperationDisplay: 1,
      targetPosition: 12000,
      positionActual: 11998,
      targetVelocity: -20000,
      velocityActual: -19990,
      profileVelocity: 20000,
      profileAcceleration: 100000,
      profileDeceleration: 100000,
      targetTorque: -12,
      torqueActual: 12,
      errorCode: 0x4310,
      temperature: 41.5,
      dcBusVoltage: 48.1,
    };
    for (const [name, v] of Object.entries(values)) {
      const { address, registers } = encodeRegisters(sf, name, v, { allowReadOnly: true });
      image.splice(address, registers.length, ...registers);
    }
    const [block] = planReads(sf, SF_ALL);
    expect(decodeBlock(sf, block!, image)).toEqual(values);
  });

  it('decodes a Dynamixel block from bytes or a number array', () => {
    const [block] = planReads(xm, ['presentPosition', 'presentInputVoltage', 'presentTemperature']);
    const data = new Uint8Array(block!.quantity);
    for (const [name, v] of [
      ['presentPosition', -4096],
      ['presentInputVoltage', 12.1],
      ['presentTemperature', 41],
    ] as const) {
      const { address, bytes } = encodeBytes(xm, name, v, { allowReadOnly: true });
      data.set(bytes, address - block!.address);
    }
    const expected = { presentPosition: -4096, presentInputVoltage: 12.1, presentTemperature: 41 };
    expect(decodeBlock(xm, block!, data)).toEqual(expected);
    expect(decodeBlock(xm, block!, [...data])).toEqual(expected);
  });

  it('refuses data shorter than the block and bytes that are not bytes', () => {
    const [block] = planReads(sf, SF_ALL);
    expect(() => decodeBlock(sf, block!, [1, 2, 3])).toThrow(code('VALUE_OUT_OF_RANGE'));
    const [dblock] = planReads(xm, ['torqueEnable']);
    expect(() => decodeBlock(xm, dblock!, [256])).toThrow(code('VALUE_OUT_OF_RANGE'));
  });

  it('every shipped profile plans and decodes all of its objects', () => {
    for (const p of [sf, kinco, xm]) {
      const names = listObjects(p).map((o) => o.name);
      const blocks = planReads(p, names);
      for (const b of blocks) {
        const decoded = decodeBlock(p, b, new Uint8Array(b.quantity));
        expect(Object.keys(decoded)).toEqual(b.objects);
        expect(Object.values(decoded).every((v) => v === 0)).toBe(true);
      }
      const size = p.protocol === 'modbus-rtu' ? sizeInRegisters : sizeInBytes;
      expect(blocks.flatMap((b) => b.objects)).toHaveLength(names.length);
      expect(
        blocks.every((b) => b.objects.every((n) => size(objectInfo(p, n)) <= b.quantity)),
      ).toBe(true);
    }
  });
});

describe('planIndirect', () => {
  const poll = xm.poll ?? [];

  it("lays xm430's poll objects into Indirect Data 1–21: Status Return Level first, then by address", () => {
    const plan = planIndirect(xm, poll)!;
    expect(plan.address).toBe(168);
    expect(plan.check).toBe('statusReturnLevel');
    expect(plan.block).toEqual({
      address: 224,
      quantity: 21,
      objects: ['statusReturnLevel', ...poll],
      offsets: [0, 1, 2, 3, 7, 8, 10, 14, 18, 20],
    });
    const named = [];
    for (let k = 0; k < plan.entries.length; k += 2)
      named.push(plan.entries[k]! | (plan.entries[k + 1]! << 8));
    expect(named).toEqual([
      68, 64, 70, 116, 117, 118, 119, 122, 126, 127, 128, 129, 130, 131, 132, 133, 134, 135, 144,
      145, 146,
    ]);
  });

  it('property: a block read through the entries decodes as the objects at their own addresses', () => {
    const plan = planIndirect(xm, poll)!;
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 256, maxLength: 256 }), (table) => {
        // What the servo returns for Indirect Data k: the byte entry k names.
        const data = new Uint8Array(plan.block.quantity);
        for (let k = 0; k < data.length; k++)
          data[k] = table[plan.entries[2 * k]! | (plan.entries[2 * k + 1]! << 8)]!;
        const direct = decodeBlock(
          xm,
          planReads(xm, [...poll, 'statusReturnLevel'], { maxGap: 200 })[0]!,
          table.subarray(64),
        );
        expect(decodeBlock(xm, plan.block, data)).toEqual(direct);
      }),
    );
  });

  it('is undefined without a bank with a check object, or when the objects do not fit', () => {
    expect(planIndirect(sf, SF_POLL)).toBeUndefined();
    const noCheck = parseProfile(
      readFileSync(resolve(PROFILES, 'xm430.yaml'), 'utf8').replace(
        ', check: statusReturnLevel',
        '',
      ),
    );
    expect(planIndirect(noCheck, poll)).toBeUndefined();
    // 28 entries: the check byte and 27 more; the poll list plus profile velocity and acceleration is 29.
    expect(planIndirect(xm, [...poll, 'profileVelocity', 'profileAcceleration'])).toBeUndefined();
    expect(planIndirect(xm, [...poll, 'profileVelocity']) !== undefined).toBe(true);
  });
});
