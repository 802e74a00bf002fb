import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../errors.ts';
import { FactoryResetOption, Instruction } from './instructions.ts';
import { decodePacket } from './packet.ts';
import {
  decodeBulkReadParams,
  decodeBulkWriteParams,
  decodeFactoryResetParams,
  decodeReadParams,
  decodeSyncReadParams,
  decodeSyncWriteParams,
  decodeWriteParams,
} from './request-params.ts';
import {
  action,
  bulkRead,
  bulkWrite,
  clearMultiTurn,
  factoryReset,
  fastBulkRead,
  fastSyncRead,
  ping,
  read,
  reboot,
  regWrite,
  syncRead,
  syncWrite,
  write,
} from './requests.ts';
import { bytesOf, INSTRUCTION_VECTORS } from './test-vectors.ts';

function wire(name: string): Uint8Array {
  const v = INSTRUCTION_VECTORS.find((x) => x.name.startsWith(name));
  if (v === undefined) throw new Error(`no vector ${name}`);
  return bytesOf(v.wire);
}

function params(bytes: Uint8Array): Uint8Array {
  return decodePacket(bytes).params;
}

function expectCode(fn: () => unknown, code: string): void {
  expect(fn).toThrow(ProtocolError);
  try {
    fn();
  } catch (err) {
    expect((err as ProtocolError).code).toBe(code);
  }
}

const u8 = (...b: number[]) => Uint8Array.from(b);

describe('request builders give the e-manual packets, and the slave decoders read them back', () => {
  it('ping', () => {
    expect(ping(1)).toEqual(wire('e-manual §Ping example 1'));
    expect(ping(0xfe)).toEqual(wire('e-manual §Ping example 2'));
  });

  it('read', () => {
    const b = read(1, 132, 4);
    expect(b).toEqual(wire('e-manual §Read'));
    expect(decodeReadParams(params(b))).toEqual({ address: 132, length: 4 });
  });

  it('write', () => {
    const b = write(1, 116, u8(0x00, 0x02, 0x00, 0x00));
    expect(b).toEqual(wire('e-manual §Write'));
    expect(decodeWriteParams(params(b))).toEqual({ address: 116, data: u8(0, 2, 0, 0) });
  });

  it('write with data holding FF FF FD is stuffed', () => {
    const b = write(1, 116, u8(0xff, 0xff, 0xfd, 0x7f));
    expect(b).toEqual(wire('stuffed: Write'));
    expect(decodeWriteParams(params(b))).toEqual({
      address: 116,
      data: u8(0xff, 0xff, 0xfd, 0x7f),
    });
  });

  it('reg write, action, factory reset, reboot, clear', () => {
    const rw = regWrite(1, 104, u8(0xc8, 0, 0, 0));
    expect(rw).toEqual(wire('e-manual §Reg Write'));
    expect(decodeWriteParams(params(rw))).toEqual({ address: 104, data: u8(0xc8, 0, 0, 0) });
    expect(action(1)).toEqual(wire('e-manual §Action'));
    const fr = factoryReset(1, FactoryResetOption.AllExceptId);
    expect(fr).toEqual(wire('e-manual §Factory Reset'));
    expect(decodeFactoryResetParams(params(fr))).toEqual({ option: 0x01 });
    expect(reboot(1)).toEqual(wire('e-manual §Reboot'));
    expect(clearMultiTurn(1)).toEqual(wire('e-manual §Clear'));
  });

  it('sync read and fast sync read', () => {
    const b = syncRead(132, 4, [1, 2]);
    expect(b).toEqual(wire('e-manual §Sync Read'));
    expect(decodeSyncReadParams(params(b))).toEqual({ address: 132, length: 4, ids: [1, 2] });
    const f = fastSyncRead(132, 4, [3, 7]);
    expect(f).toEqual(wire('Fast Sync Read'));
    expect(decodePacket(f)).toMatchObject({ id: 0xfe, instruction: Instruction.FastSyncRead });
    expect(decodeSyncReadParams(params(f))).toEqual({ address: 132, length: 4, ids: [3, 7] });
  });

  it('sync write', () => {
    const items = [
      { id: 1, data: u8(0x96, 0, 0, 0) },
      { id: 2, data: u8(0xaa, 0, 0, 0) },
    ];
    const b = syncWrite(116, 4, items);
    expect(b).toEqual(wire('e-manual §Sync Write'));
    expect(decodeSyncWriteParams(params(b))).toEqual({ address: 116, length: 4, items });
  });

  it('bulk read and fast bulk read', () => {
    const items = [
      { id: 1, address: 144, length: 2 },
      { id: 2, address: 146, length: 1 },
    ];
    const b = bulkRead(items);
    expect(b).toEqual(wire('e-manual §Bulk Read'));
    expect(decodeBulkReadParams(params(b))).toEqual(items);
    const f = fastBulkRead(items);
    expect(f).toEqual(wire('Fast Bulk Read'));
    expect(decodeBulkReadParams(params(f))).toEqual(items);
  });

  it('bulk write', () => {
    const items = [
      { id: 1, address: 32, data: u8(0xa0, 0x00) },
      { id: 2, address: 31, data: u8(0x50) },
    ];
    const b = bulkWrite(items);
    expect(b).toEqual(wire('e-manual §Bulk Write'));
    expect(decodeBulkWriteParams(params(b))).toEqual(items);
  });
});

describe('request builders check their arguments', () => {
  it('IDs', () => {
    expectCode(() => ping(0xfd), 'VALUE_OUT_OF_RANGE');
    expectCode(() => read(0xfe, 0, 1), 'VALUE_OUT_OF_RANGE'); // a broadcast read gets no status
    expectCode(() => write(253, 0, u8(1)), 'VALUE_OUT_OF_RANGE');
    expectCode(() => action(-1), 'VALUE_OUT_OF_RANGE');
    expectCode(() => reboot(0xff), 'VALUE_OUT_OF_RANGE');
    expectCode(() => clearMultiTurn(300), 'VALUE_OUT_OF_RANGE');
    expectCode(() => factoryReset(1, 256), 'VALUE_OUT_OF_RANGE');
    expectCode(() => syncRead(0, 1, []), 'VALUE_OUT_OF_RANGE');
    expectCode(() => syncRead(0, 1, [1, 1]), 'VALUE_OUT_OF_RANGE');
    expectCode(() => fastSyncRead(0, 1, [0xfe]), 'VALUE_OUT_OF_RANGE');
    expectCode(() => bulkRead([]), 'VALUE_OUT_OF_RANGE');
    expectCode(
      () =>
        bulkWrite([
          { id: 2, address: 0, data: u8(1) },
          { id: 2, address: 1, data: u8(1) },
        ]),
      'VALUE_OUT_OF_RANGE',
    );
  });

  it('addresses and lengths', () => {
    expectCode(() => read(1, 0x10000, 1), 'VALUE_OUT_OF_RANGE');
    expectCode(() => read(1, 0, 0), 'VALUE_OUT_OF_RANGE');
    expectCode(() => read(1, 0, 0x10000), 'VALUE_OUT_OF_RANGE');
    expectCode(() => write(1, 0, new Uint8Array(0)), 'VALUE_OUT_OF_RANGE');
    expectCode(() => regWrite(1, -1, u8(1)), 'VALUE_OUT_OF_RANGE');
    expectCode(() => syncWrite(116, 4, [{ id: 1, data: u8(1, 2) }]), 'VALUE_OUT_OF_RANGE');
    expectCode(() => bulkRead([{ id: 1, address: 0, length: 0 }]), 'VALUE_OUT_OF_RANGE');
    expectCode(() => bulkRead([{ id: 1, address: 1.5, length: 1 }]), 'VALUE_OUT_OF_RANGE');
    expectCode(
      () => bulkWrite([{ id: 1, address: 0, data: new Uint8Array(0) }]),
      'VALUE_OUT_OF_RANGE',
    );
    expectCode(() => bulkWrite([{ id: 1, address: 0x10000, data: u8(1) }]), 'VALUE_OUT_OF_RANGE');
  });

  it('a packet too long for the 16-bit LEN', () => {
    expectCode(() => write(1, 0, new Uint8Array(65531)), 'FRAME_TOO_LONG');
  });
});

describe('parameter decoders reject what does not fit the instruction', () => {
  it.each([
    ['read', () => decodeReadParams(u8(0x84, 0, 4))],
    ['write', () => decodeWriteParams(u8(0x74, 0))],
    ['sync read without ids', () => decodeSyncReadParams(u8(0x84, 0, 4, 0))],
    ['sync write header cut', () => decodeSyncWriteParams(u8(0x74, 0, 4))],
    ['sync write of length 0', () => decodeSyncWriteParams(u8(0x74, 0, 0, 0, 1))],
    ['sync write without devices', () => decodeSyncWriteParams(u8(0x74, 0, 4, 0))],
    ['sync write, device cut', () => decodeSyncWriteParams(u8(0x74, 0, 2, 0, 1, 9))],
    ['bulk read, empty', () => decodeBulkReadParams(new Uint8Array(0))],
    ['bulk read, entry cut', () => decodeBulkReadParams(u8(1, 0x90, 0, 2))],
    ['bulk write, empty', () => decodeBulkWriteParams(new Uint8Array(0))],
    ['bulk write, entry cut', () => decodeBulkWriteParams(u8(1, 0x20, 0, 2))],
    ['bulk write, data cut', () => decodeBulkWriteParams(u8(1, 0x20, 0, 2, 0, 0xa0))],
    ['bulk write, length 0', () => decodeBulkWriteParams(u8(1, 0x20, 0, 0, 0))],
    ['factory reset', () => decodeFactoryResetParams(new Uint8Array(0))],
  ])('%s', (_name, fn) => {
    expectCode(fn, 'DXL_BAD_PACKET');
  });

  it('returned data does not alias the params', () => {
    const p = u8(0x74, 0, 1, 2);
    const { data } = decodeWriteParams(p);
    p[2] = 9;
    expect(data).toEqual(u8(1, 2));
  });
});
