/**
 * Request builders: each returns the encoded instruction packet (a new array)
 * for one instruction of ROBOTIS Protocol 2.0 e-manual §Instruction Details.
 * Arguments that do not fit their field throw `VALUE_OUT_OF_RANGE`; a packet
 * whose LEN would not fit 16 bits throws `FRAME_TOO_LONG`.
 */
import { ProtocolError } from '../errors.ts';
import { BROADCAST_ID, CLEAR_MULTI_TURN_PARAMS, Instruction } from './instructions.ts';
import { encodeInstruction } from './packet.ts';
import {
  assertByte,
  assertDeviceId,
  assertPacketId,
  assertU16,
  assertUniqueDeviceIds,
} from './validate.ts';

export interface BulkReadItem {
  id: number;
  address: number;
  length: number;
}

export interface BulkWriteItem {
  id: number;
  address: number;
  data: Uint8Array;
}

export interface SyncWriteItem {
  id: number;
  data: Uint8Array;
}

function u16(out: Uint8Array, offset: number, value: number): void {
  out[offset] = value & 0xff;
  out[offset + 1] = value >>> 8;
}

function packet(id: number, instruction: number, params: Uint8Array): Uint8Array {
  return encodeInstruction({ id, instruction, params });
}

/** Ping (0x01), to a device or to all (0xFE) (e-manual §Ping). */
export function ping(id: number): Uint8Array {
  assertPacketId(id);
  return packet(id, Instruction.Ping, new Uint8Array(0));
}

/**
 * Read (0x02): `length` bytes from `address` (e-manual §Read: P1–P2 address,
 * P3–P4 length). A device ID only: a broadcast read gets no status packet
 * (e-manual §Packet ID, NOTE).
 */
export function read(id: number, address: number, length: number): Uint8Array {
  assertDeviceId(id);
  assertU16(address, 'address');
  assertLength(length);
  const params = new Uint8Array(4);
  u16(params, 0, address);
  u16(params, 2, length);
  return packet(id, Instruction.Read, params);
}

function writeLike(instruction: number, id: number, address: number, data: Uint8Array): Uint8Array {
  assertPacketId(id);
  assertU16(address, 'address');
  if (data.length === 0) throw new ProtocolError('VALUE_OUT_OF_RANGE', 'write of no data');
  // e-manual §Write: P1–P2 address, then the data bytes
  const params = new Uint8Array(2 + data.length);
  u16(params, 0, address);
  params.set(data, 2);
  return packet(id, instruction, params);
}

/** Write (0x03): `data` at `address` (e-manual §Write). */
export function write(id: number, address: number, data: Uint8Array): Uint8Array {
  return writeLike(Instruction.Write, id, address, data);
}

/** Reg Write (0x04): a write held until Action (e-manual §Reg Write). */
export function regWrite(id: number, address: number, data: Uint8Array): Uint8Array {
  return writeLike(Instruction.RegWrite, id, address, data);
}

/** Action (0x05): runs the registered Reg Write (e-manual §Action). */
export function action(id: number): Uint8Array {
  assertPacketId(id);
  return packet(id, Instruction.Action, new Uint8Array(0));
}

/** Factory Reset (0x06) with an option of `FactoryResetOption` (e-manual §Factory Reset). */
export function factoryReset(id: number, option: number): Uint8Array {
  assertPacketId(id);
  assertByte(option, 'factory reset option');
  return packet(id, Instruction.FactoryReset, Uint8Array.of(option));
}

/** Reboot (0x08) (e-manual §Reboot). */
export function reboot(id: number): Uint8Array {
  assertPacketId(id);
  return packet(id, Instruction.Reboot, new Uint8Array(0));
}

/** Clear (0x10) of the multi-turn position: P1 0x01, P2–P5 0x44 0x58 0x4C 0x22 (e-manual §Clear). */
export function clearMultiTurn(id: number): Uint8Array {
  assertPacketId(id);
  return packet(id, Instruction.Clear, Uint8Array.from(CLEAR_MULTI_TURN_PARAMS));
}

function syncReadLike(
  instruction: number,
  address: number,
  length: number,
  ids: readonly number[],
): Uint8Array {
  assertU16(address, 'address');
  assertLength(length);
  assertUniqueDeviceIds(ids, 'sync read');
  // e-manual §Sync Read: P1–P2 address, P3–P4 length, then one ID per device
  const params = new Uint8Array(4 + ids.length);
  u16(params, 0, address);
  u16(params, 2, length);
  params.set(ids, 4);
  return packet(BROADCAST_ID, instruction, params);
}

/** Sync Read (0x82): the same `length` bytes at `address` from each of `ids`; one status packet per device (e-manual §Sync Read). */
export function syncRead(address: number, length: number, ids: number[]): Uint8Array {
  return syncReadLike(Instruction.SyncRead, address, length, ids);
}

/**
 * Fast Sync Read (0x8A): parameters as Sync Read, but the devices answer with one
 * combined status packet (see `parseFastSyncReadStatus`) (e-manual §Fast Sync Read;
 * DynamixelSDK `syncReadTx(…, fast_option)`).
 */
export function fastSyncRead(address: number, length: number, ids: number[]): Uint8Array {
  return syncReadLike(Instruction.FastSyncRead, address, length, ids);
}

/** Sync Write (0x83): `length` bytes at `address` per device, no status packet (e-manual §Sync Write). */
export function syncWrite(address: number, length: number, items: SyncWriteItem[]): Uint8Array {
  assertU16(address, 'address');
  assertLength(length);
  assertUniqueDeviceIds(
    items.map((it) => it.id),
    'sync write',
  );
  // e-manual §Sync Write: P1–P2 address, P3–P4 length, then per device ID + `length` bytes
  const params = new Uint8Array(4 + items.length * (1 + length));
  u16(params, 0, address);
  u16(params, 2, length);
  let o = 4;
  for (const it of items) {
    if (it.data.length !== length) {
      throw new ProtocolError(
        'VALUE_OUT_OF_RANGE',
        `sync write: device ${it.id} has ${it.data.length} bytes, not ${length}`,
      );
    }
    params[o] = it.id;
    params.set(it.data, o + 1);
    o += 1 + length;
  }
  return packet(BROADCAST_ID, Instruction.SyncWrite, params);
}

function bulkReadLike(instruction: number, items: readonly BulkReadItem[]): Uint8Array {
  assertUniqueDeviceIds(
    items.map((it) => it.id),
    'bulk read',
  );
  // e-manual §Bulk Read: per device ID, address L/H, length L/H
  const params = new Uint8Array(items.length * 5);
  let o = 0;
  for (const it of items) {
    assertU16(it.address, 'address');
    assertLength(it.length);
    params[o] = it.id;
    u16(params, o + 1, it.address);
    u16(params, o + 3, it.length);
    o += 5;
  }
  return packet(BROADCAST_ID, instruction, params);
}

/** Bulk Read (0x92): its own address and length per device; one status packet per device (e-manual §Bulk Read). */
export function bulkRead(items: BulkReadItem[]): Uint8Array {
  return bulkReadLike(Instruction.BulkRead, items);
}

/**
 * Fast Bulk Read (0x9A): parameters as Bulk Read, answered by one combined status
 * packet (see `parseFastBulkReadStatus`) (DynamixelSDK `bulkReadTx(…, fast_option)`).
 */
export function fastBulkRead(items: BulkReadItem[]): Uint8Array {
  return bulkReadLike(Instruction.FastBulkRead, items);
}

/** Bulk Write (0x93): its own address and data per device, no status packet (e-manual §Bulk Write). */
export function bulkWrite(items: BulkWriteItem[]): Uint8Array {
  assertUniqueDeviceIds(
    items.map((it) => it.id),
    'bulk write',
  );
  let size = 0;
  for (const it of items) {
    assertU16(it.address, 'address');
    assertLength(it.data.length);
    size += 5 + it.data.length;
  }
  // e-manual §Bulk Write: per device ID, address L/H, length L/H, data
  const params = new Uint8Array(size);
  let o = 0;
  for (const it of items) {
    params[o] = it.id;
    u16(params, o + 1, it.address);
    u16(params, o + 3, it.data.length);
    params.set(it.data, o + 5);
    o += 5 + it.data.length;
  }
  return packet(BROADCAST_ID, Instruction.BulkWrite, params);
}

function assertLength(length: number): void {
  if (!Number.isInteger(length) || length < 1 || length > 0xffff) {
    throw new ProtocolError('VALUE_OUT_OF_RANGE', `data length ${length} outside [1, 65535]`);
  }
}
