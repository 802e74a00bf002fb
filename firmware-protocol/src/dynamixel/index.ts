/**
 * Dynamixel Protocol 2.0, sans-IO (ROBOTIS Protocol 2.0 e-manual): packet codecs,
 * byte stuffing, request builders and reply parsers, status errors and an
 * incremental framer. This file only re-exports the public API.
 */

export type { FastReadItem, FastReadParseOptions } from './fast-read.ts';
export {
  encodeFastBulkReadStatus,
  encodeFastSyncReadStatus,
  parseFastBulkReadStatus,
  parseFastSyncReadStatus,
} from './fast-read.ts';
export type { DynamixelFramerOptions, FramerStats } from './framer.ts';
export { DEFAULT_MAX_PACKET_LENGTH, DynamixelFramer } from './framer.ts';
export type { InstructionCode } from './instructions.ts';
export {
  BROADCAST_ID,
  CLEAR_MULTI_TURN_PARAMS,
  FactoryResetOption,
  Instruction,
  MAX_DEVICE_ID,
} from './instructions.ts';
export type { IntSize } from './little-endian.ts';
export { readInt, readUint, writeInt, writeUint } from './little-endian.ts';
export type { InstructionPacket, Packet, StatusPacket } from './packet.ts';
export { decodePacket, encodeInstruction, encodeStatus, MIN_PACKET_LENGTH } from './packet.ts';
export { encodePingStatus, parsePingStatus, parseReadStatus } from './replies.ts';
export {
  decodeBulkReadParams,
  decodeBulkWriteParams,
  decodeFactoryResetParams,
  decodeReadParams,
  decodeSyncReadParams,
  decodeSyncWriteParams,
  decodeWriteParams,
} from './request-params.ts';
export type { BulkReadItem, BulkWriteItem, SyncWriteItem } from './requests.ts';
export {
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
export type { StatusError, StatusErrorName } from './status-error.ts';
export { ALERT_BIT, decodeStatusError, StatusErrorNumber, statusToError } from './status-error.ts';
export { stuff, unstuff } from './stuffing.ts';
