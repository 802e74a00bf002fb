import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkProfile, parseProfile } from './parse.ts';

const PROFILES = resolve(import.meta.dirname, '../../../config/profiles');
const read = (name: string) => readFileSync(resolve(PROFILES, `${name}.yaml`), 'utf8');

/** PROFILE_INVALID whose message contains every fragment. */
function invalid(...fragments: string[]) {
  return expect.objectContaining({
    code: 'PROFILE_INVALID',
    message: expect.stringMatching(new RegExp(fragments.map(escapeRe).join('.*'), 's')),
  });
}
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const MINIMAL = `
name: tiny
protocol: modbus-rtu
objects:
  statusword: { address: 0x0001, type: u16, access: r }
`;

describe('parseProfile: the shipped profiles', () => {
  it("sf-servo is DESIGN.md's register table", () => {
    const p = parseProfile(read('sf-servo'), 'sf-servo.yaml');
    expect(p).toMatchObject({
      name: 'sf-servo',
      protocol: 'modbus-rtu',
      wordOrder: 'high-first',
      turnaroundMs: 2,
    });
    const rows = Object.entries(p.objects).map(([n, o]) => [
      n,
      o.address,
      o.type,
      o.access,
      o.index ?? null,
    ]);
    expect(rows).toEqual([
      ['controlword', 0x0000, 'u16', 'rw', 0x6040],
      ['statusword', 0x0001, 'u16', 'r', 0x6041],
      ['modesOfOperation', 0x0002, 'i16', 'rw', 0x6060],
      ['modesOfOperationDisplay', 0x0003, 'i16', 'r', 0x6061],
      ['targetPosition', 0x0004, 'i32', 'rw', 0x607a],
      ['positionActual', 0x0006, 'i32', 'r', 0x6064],
      ['targetVelocity', 0x0008, 'i32', 'rw', 0x60ff],
      ['velocityActual', 0x000a, 'i32', 'r', 0x606c],
      ['profileVelocity', 0x000c, 'u32', 'rw', 0x6081],
      ['profileAcceleration', 0x000e, 'u32', 'rw', 0x6083],
      ['profileDeceleration', 0x0010, 'u32', 'rw', 0x6084],
      ['targetTorque', 0x0012, 'i16', 'rw', 0x6071],
      ['torqueActual', 0x0013, 'i16', 'r', 0x6077],
      ['errorCode', 0x0014, 'u16', 'r', 0x603f],
      ['temperature', 0x0015, 'i16', 'r', null],
      ['dcBusVoltage', 0x0016, 'u16', 'r', null],
    ]);
    expect(p.objects.temperature!.scale).toBe(0.1);
    expect(p.objects.dcBusVoltage!.scale).toBe(0.1);
    expect(p.objects.statusword!.scale).toBe(1);
  });

  it("xm430 is DESIGN.md's control-table subset", () => {
    const p = parseProfile(read('xm430'), 'xm430.yaml');
    expect(p).toMatchObject({
      name: 'xm430',
      protocol: 'dynamixel2',
      modelNumber: 1020,
      fastSyncRead: true,
    });
    expect(p.wordOrder).toBeUndefined();
    const size = { u8: 1, i8: 1, u16: 2, i16: 2, u32: 4, i32: 4 } as const;
    const rows = Object.entries(p.objects).map(([n, o]) => [n, o.address, size[o.type]]);
    expect(rows).toEqual([
      ['modelNumber', 0, 2],
      ['id', 7, 1],
      ['baudRate', 8, 1],
      ['returnDelayTime', 9, 1],
      ['operatingMode', 11, 1],
      ['torqueEnable', 64, 1],
      ['led', 65, 1],
      ['statusReturnLevel', 68, 1],
      ['hardwareErrorStatus', 70, 1],
      ['profileAcceleration', 108, 4],
      ['profileVelocity', 112, 4],
      ['goalPosition', 116, 4],
      ['moving', 122, 1],
      ['presentCurrent', 126, 2],
      ['presentVelocity', 128, 4],
      ['presentPosition', 132, 4],
      ['presentInputVoltage', 144, 2],
      ['presentTemperature', 146, 1],
    ]);
    expect(p.objects.presentCurrent!.type).toBe('i16');
    expect(p.objects.presentVelocity!.type).toBe('i32');
    expect(p.objects.presentPosition!.type).toBe('i32');
    expect(p.objects.presentInputVoltage!.scale).toBe(0.1);
  });

  it("kinco-fd has the manual's addresses, low word first", () => {
    const p = parseProfile(read('kinco-fd'), 'kinco-fd.yaml');
    expect(p.wordOrder).toBe('low-first');
    expect(p.objects.controlword).toMatchObject({ address: 0x3100, index: 0x6040 });
    expect(p.objects.statusword).toMatchObject({ address: 0x3200, index: 0x6041, access: 'r' });
    expect(p.objects.targetVelocity).toMatchObject({ address: 0x6f00, type: 'i32' });
    expect(p.objects.modesOfOperation!.address).toBe(0x3500);
    expect(p.objects.targetPosition!.address).toBe(0x4000);
    expect(p.objects.positionActual!.address).toBe(0x3700);
    expect(p.objects.profileVelocity!.address).toBe(0x4a00);
  });
});

describe('parseProfile: defaults and freezing', () => {
  it('reads YAML 1.2 hex literals as numbers', () => {
    const p = parseProfile(MINIMAL);
    expect(p.objects.statusword!.address).toBe(1);
  });

  it('applies the defaults', () => {
    const p = parseProfile(MINIMAL);
    expect(p.description).toBe('');
    expect(p.turnaroundMs).toBe(2);
    expect(p.wordOrder).toBe('high-first');
    expect(p.objects.statusword!.scale).toBe(1);
  });

  it('deep-freezes the result', () => {
    const p = parseProfile(MINIMAL);
    expect(Object.isFrozen(p)).toBe(true);
    expect(Object.isFrozen(p.objects)).toBe(true);
    expect(Object.isFrozen(p.objects.statusword)).toBe(true);
    expect(() => {
      (p.objects.statusword as { address: number }).address = 7;
    }).toThrow(TypeError);
  });

  it("checkProfile does not touch the caller's value", () => {
    const input = {
      name: 'tiny',
      protocol: 'modbus-rtu',
      objects: { statusword: { address: 1, type: 'u16', access: 'r' } },
    };
    const copy = structuredClone(input);
    const p = checkProfile(input);
    expect(input).toEqual(copy);
    expect(p.turnaroundMs).toBe(2);
  });
});

describe('parseProfile: bad profiles are PROFILE_INVALID with the path and reason', () => {
  const withObject = (obj: string, head = 'protocol: modbus-rtu') =>
    `name: bad\n${head}\nobjects:\n  statusword: { address: 0x0001, type: u16, access: r }\n  ${obj}\n`;

  it('an unknown key (adress)', () => {
    expect(() =>
      parseProfile(withObject('temperature: { adress: 0x0015, type: i16, access: r }'), 'bad.yaml'),
    ).toThrow(
      invalid(
        'bad.yaml: ',
        '/objects/temperature/adress: unknown key',
        '/objects/temperature/address: required',
      ),
    );
  });

  it('an unknown top-level key', () => {
    expect(() => parseProfile(`${MINIMAL}baudrate: 115200\n`)).toThrow(
      invalid('/baudrate: unknown key'),
    );
  });

  it('a wrong type name', () => {
    expect(() => parseProfile(withObject('x: { address: 2, type: u64, access: r }'))).toThrow(
      invalid('/objects/x/type: must be one of u8, i8, u16, i16, u32, i32, got "u64"'),
    );
  });

  it('a wrong value type', () => {
    expect(() =>
      parseProfile(withObject('x: { address: "0x0002", type: u16, access: r }')),
    ).toThrow(invalid('/objects/x/address: Expected integer, got "0x0002"'));
    expect(() =>
      parseProfile(withObject('x: { address: 2, type: u16, access: r, scale: 0 }')),
    ).toThrow(invalid('/objects/x/scale'));
    expect(() => parseProfile(withObject('x: { address: 0x10000, type: u16, access: r }'))).toThrow(
      invalid('/objects/x/address'),
    );
    expect(() => parseProfile(withObject('x: { address: 2, type: u16, access: w }'))).toThrow(
      invalid('/objects/x/access: must be one of r, rw'),
    );
  });

  it('a duplicate address', () => {
    expect(() =>
      parseProfile(withObject('copy: { address: 0x0001, type: u16, access: r }')),
    ).toThrow(
      invalid('/objects/statusword/address: registers 0x0001 overlap /objects/copy (0x0001)'),
    );
  });

  it('an overlapping 32-bit object', () => {
    expect(() =>
      parseProfile(withObject('pos: { address: 0x0000, type: i32, access: r }')),
    ).toThrow(
      invalid('/objects/statusword/address: registers 0x0001 overlap /objects/pos (0x0000–0x0001)'),
    );
  });

  it('an overlap in a Dynamixel control table (bytes)', () => {
    const text = `name: d\nprotocol: dynamixel2\nmodelNumber: 1020\nobjects:\n  a: { address: 116, type: i32, access: rw }\n  b: { address: 119, type: u8, access: r }\n`;
    expect(() => parseProfile(text)).toThrow(
      invalid('/objects/b/address: bytes 0x0077 overlap /objects/a (0x0074–0x0077)'),
    );
  });

  it('Indirect Address banks that overlap an object or each other', () => {
    const head = `name: d\nprotocol: dynamixel2\nmodelNumber: 1020\nobjects:\n  a: { address: 116, type: i32, access: rw }\n`;
    expect(
      parseProfile(`${head}indirect: [{ address: 168, data: 224, count: 28 }]\n`).indirect,
    ).toEqual([{ address: 168, data: 224, count: 28 }]);
    // 28 two-byte entries from 168 end at 223; data from 200 runs into them
    expect(() =>
      parseProfile(`${head}indirect: [{ address: 168, data: 200, count: 28 }]\n`),
    ).toThrow(invalid('/indirect/0/data: bytes 0x00C8–0x00E3 overlap /indirect/0/address'));
    expect(() =>
      parseProfile(`${head}indirect: [{ address: 100, data: 224, count: 10 }]\n`),
    ).toThrow(invalid('/objects/a/address: bytes 0x0074–0x0077 overlap /indirect/0/address'));
    expect(() =>
      parseProfile(`${head}indirect: [{ address: 168, data: 224, count: 0, extra: 1 }]\n`),
    ).toThrow(invalid('/indirect/0'));
    expect(() =>
      parseProfile(`${head}indirect: [{ address: 168, data: 224, count: 28, check: srl }]\n`),
    ).toThrow(invalid('/indirect/0/check: names no object of this profile: srl'));
  });

  it('an object that runs past 0xFFFF', () => {
    expect(() => parseProfile(withObject('x: { address: 0xFFFF, type: u32, access: r }'))).toThrow(
      invalid('/objects/x/address: u32 at 0xFFFF runs past register address 0xFFFF'),
    );
  });

  it('a duplicate YAML key', () => {
    expect(() =>
      parseProfile(withObject('statusword: { address: 0x0002, type: u16, access: r }')),
    ).toThrow(invalid('YAML: Map keys must be unique'));
  });

  it('a YAML syntax error', () => {
    expect(() => parseProfile('name: [oops\n', 'x.yaml')).toThrow(invalid('x.yaml: YAML: '));
  });

  it('a bad object name', () => {
    expect(() => parseProfile(withObject('"1st": { address: 2, type: u16, access: r }'))).toThrow(
      invalid('/objects/1st: object name must match'),
    );
  });

  it('8-bit types in a Modbus profile', () => {
    expect(() => parseProfile(withObject('x: { address: 2, type: u8, access: r }'))).toThrow(
      invalid('/objects/x/type: u8 is for dynamixel2'),
    );
  });

  it('fields of the other protocol', () => {
    expect(() =>
      parseProfile(
        `${MINIMAL}modelNumber: 1020\nfastSyncRead: true\nindirect: [{ address: 168, data: 224, count: 2 }]\n`,
      ),
    ).toThrow(
      invalid(
        '/modelNumber: applies to dynamixel2 profiles only',
        '/fastSyncRead: applies to dynamixel2',
        '/indirect: applies to dynamixel2',
      ),
    );
    const dxl =
      'name: d\nprotocol: dynamixel2\nwordOrder: low-first\nobjects:\n  a: { address: 64, type: u8, access: rw }\n';
    expect(() => parseProfile(dxl)).toThrow(
      invalid(
        '/wordOrder: applies to modbus-rtu profiles only',
        '/modelNumber: required for dynamixel2',
      ),
    );
  });

  it('no objects, a missing name, a bad protocol', () => {
    expect(() => parseProfile('name: e\nprotocol: modbus-rtu\nobjects: {}\n')).toThrow(
      invalid('/objects: '),
    );
    expect(() =>
      parseProfile('protocol: modbus-rtu\nobjects: { a: { address: 1, type: u16, access: r } }\n'),
    ).toThrow(invalid('/name: required'));
    expect(() =>
      parseProfile(
        'name: e\nprotocol: canopen\nobjects: { a: { address: 1, type: u16, access: r } }\n',
      ),
    ).toThrow(invalid('/protocol: must be one of modbus-rtu, dynamixel2, got "canopen"'));
  });

  it('objects that are not mappings', () => {
    expect(() => parseProfile('name: e\nprotocol: modbus-rtu\nobjects: { a: 5 }\n')).toThrow(
      invalid('/objects/a: ', 'got 5'),
    );
    expect(() => parseProfile('name: e\nprotocol: modbus-rtu\nobjects: [1]\n')).toThrow(
      invalid('/objects: '),
    );
  });

  it('not a mapping at all', () => {
    expect(() => parseProfile('')).toThrow(invalid('profile: /: '));
    expect(() => parseProfile('- a\n- b\n')).toThrow(invalid('/: '));
    expect(() => checkProfile(42, 'n')).toThrow(invalid('n: /: '));
  });

  it('lists at most five problems', () => {
    const many = Array.from(
      { length: 8 },
      (_, i) => `  o${i}: { address: ${i}, type: u16, acces: r }`,
    ).join('\n');
    expect(() => parseProfile(`name: m\nprotocol: modbus-rtu\nobjects:\n${many}\n`)).toThrow(
      invalid('(and ', ' more)'),
    );
  });
});
