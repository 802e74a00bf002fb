/**
 * Argument checks shared by the encoders and builders (internal). Arguments from
 * our own callers that do not fit a field throw `VALUE_OUT_OF_RANGE`; bytes from
 * the wire never go through here.
 */
import { ProtocolError } from '../errors.ts';
import { BROADCAST_ID, MAX_DEVICE_ID } from './instructions.ts';

export function assertInteger(value: number, min: number, max: number, what: string): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ProtocolError('VALUE_OUT_OF_RANGE', `${what} ${value} outside [${min}, ${max}]`);
  }
}

export function assertByte(value: number, what: string): void {
  assertInteger(value, 0, 0xff, what);
}

export function assertU16(value: number, what: string): void {
  assertInteger(value, 0, 0xffff, what);
}

/** A device ID: 0–252 (ROBOTIS Protocol 2.0 e-manual §Packet ID). */
export function assertDeviceId(id: number, what = 'device id'): void {
  assertInteger(id, 0, MAX_DEVICE_ID, what);
}

/** A packet ID: a device ID or the broadcast ID 0xFE; never 0xFD or 0xFF (e-manual §Packet ID). */
export function assertPacketId(id: number, what = 'packet id'): void {
  if (id !== BROADCAST_ID) assertDeviceId(id, what);
}

/** Every ID of a multi-device instruction at most once (e-manual §Bulk Read: "The same ID cannot be used multiple times"). */
export function assertUniqueDeviceIds(ids: readonly number[], what: string): void {
  if (ids.length === 0) throw new ProtocolError('VALUE_OUT_OF_RANGE', `${what}: no device ids`);
  const seen = new Set<number>();
  for (const id of ids) {
    assertDeviceId(id, `${what}: device id`);
    if (seen.has(id))
      throw new ProtocolError('VALUE_OUT_OF_RANGE', `${what}: device id ${id} twice`);
    seen.add(id);
  }
}
