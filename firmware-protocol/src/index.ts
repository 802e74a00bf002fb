/**
 * firmware-protocol: sans-IO wire codecs for the drives servofleet talks to.
 * Bytes and timestamps in, typed frames out: no sockets, no timers, no logging.
 * This file is the package's public surface; each namespace's `index.ts` says what
 * of it others may use.
 */
export * as cia402 from './cia402/index.ts';
export { crc16Dynamixel, crc16Modbus } from './crc/index.ts';
export * as dynamixel from './dynamixel/index.ts';
export type { ProtocolErrorCode, ProtocolErrorOptions } from './errors.ts';
export { ERROR_CODES, isProtocolError, ProtocolError } from './errors.ts';
export * as modbus from './modbus/index.ts';
export * as profiles from './profiles/index.ts';
