/**
 * Decoders of instruction parameters, for a device (the simulator's slave) that
 * received an instruction packet. Each takes the unstuffed `params` of the packet
 * and throws `DXL_BAD_PACKET` when their length does not fit the instruction
 * (a real device answers those with Data Length Error, error number 5). Returned
 * data arrays are copies.
 */
import { ProtocolError } from '../errors.ts';
import type { BulkReadItem, BulkWriteItem, SyncWriteItem } from './requests.ts';

function u16(p: Uint8Array, offset: number): number {
  return p[offset]! | (p[offset + 1]! << 8);
}

function bad(message: string): ProtocolError {
  return new ProtocolError('DXL_BAD_PACKET', message);
}

/** Read (0x02): P1–P2 address, P3–P4 length (ROBOTIS Protocol 2.0 e-manual §Read). */
export function decodeReadParams(params: Uint8Array): { address: number; length: number } {
  if (params.length !== 4) throw bad(`read: ${params.length} parameter bytes, not 4`);
  return { address: u16(params, 0), length: u16(params, 2) };
}

/** Write (0x03) and Reg Write (0x04): P1–P2 address, then at least one data byte (e-manual §Write). */
export function decodeWriteParams(params: Uint8Array): { address: number; data: Uint8Array } {
  if (params.length < 3) throw bad(`write: ${params.length} parameter bytes, fewer than 3`);
  return { address: u16(params, 0), data: params.slice(2) };
}

/**
 * Sync Read (0x82) and Fast Sync Read (0x8A): P1–P2 address, P3–P4 length, then
 * one ID per device (e-manual §Sync Read).
 */
export function decodeSyncReadParams(params: Uint8Array): {
  address: number;
  length: number;
  ids: number[];
} {
  if (params.length < 5) throw bad(`sync read: ${params.length} parameter bytes, fewer than 5`);
  return { address: u16(params, 0), length: u16(params, 2), ids: Array.from(params.subarray(4)) };
}

/** Sync Write (0x83): P1–P2 address, P3–P4 length, then ID + `length` bytes per device (e-manual §Sync Write). */
export function decodeSyncWriteParams(params: Uint8Array): {
  address: number;
  length: number;
  items: SyncWriteItem[];
} {
  if (params.length < 4) throw bad(`sync write: ${params.length} parameter bytes, fewer than 4`);
  const address = u16(params, 0);
  const length = u16(params, 2);
  const rest = params.length - 4;
  if (length === 0 || rest === 0 || rest % (1 + length) !== 0) {
    throw bad(`sync write: ${rest} bytes of device data do not split into ID + ${length} bytes`);
  }
  const items: SyncWriteItem[] = [];
  for (let o = 4; o < params.length; o += 1 + length) {
    items.push({ id: params[o]!, data: params.slice(o + 1, o + 1 + length) });
  }
  return { address, length, items };
}

/** Bulk Read (0x92) and Fast Bulk Read (0x9A): ID, address L/H, length L/H per device (e-manual §Bulk Read). */
export function decodeBulkReadParams(params: Uint8Array): BulkReadItem[] {
  if (params.length === 0 || params.length % 5 !== 0) {
    throw bad(`bulk read: ${params.length} parameter bytes, not a multiple of 5`);
  }
  const items: BulkReadItem[] = [];
  for (let o = 0; o < params.length; o += 5) {
    items.push({ id: params[o]!, address: u16(params, o + 1), length: u16(params, o + 3) });
  }
  return items;
}

/** Bulk Write (0x93): ID, address L/H, length L/H, data per device (e-manual §Bulk Write). */
export function decodeBulkWriteParams(params: Uint8Array): BulkWriteItem[] {
  if (params.length === 0) throw bad('bulk write: no parameters');
  const items: BulkWriteItem[] = [];
  let o = 0;
  while (o < params.length) {
    if (o + 5 > params.length) throw bad(`bulk write: device entry at ${o} cut short`);
    const length = u16(params, o + 3);
    const end = o + 5 + length;
    if (length === 0 || end > params.length) {
      throw bad(
        `bulk write: device ${params[o]} declares ${length} bytes, ${params.length - o - 5} left`,
      );
    }
    items.push({ id: params[o]!, address: u16(params, o + 1), data: params.slice(o + 5, end) });
    o = end;
  }
  return items;
}

/** Factory Reset (0x06): one option byte (e-manual §Factory Reset). */
export function decodeFactoryResetParams(params: Uint8Array): { option: number } {
  if (params.length !== 1) throw bad(`factory reset: ${params.length} parameter bytes, not 1`);
  return { option: params[0]! };
}
