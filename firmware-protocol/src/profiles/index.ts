/** Drive profiles: register maps and control tables as data, and their codecs. */
export {
  decodeBytes,
  decodeRegisters,
  type EncodeOptions,
  encodeBytes,
  encodeRegisters,
  listObjects,
  objectAt,
  objectInfo,
} from './codec.ts';
export { loadProfileDir, loadProfileFile } from './load-file.ts';
export { checkProfile, parseProfile } from './parse.ts';
export {
  DYNAMIXEL_MAX_READ_BYTES,
  decodeBlock,
  type IndirectPlan,
  MODBUS_MAX_READ_REGISTERS,
  type PlanOptions,
  planIndirect,
  planReads,
  type ReadBlock,
} from './read-plan.ts';
export {
  type Access,
  type DriveProfile,
  DriveProfileSchema,
  OBJECT_TYPES,
  type ObjectInfo,
  type ObjectType,
  type ProfileObject,
  ProfileObjectSchema,
  type ProfileProtocol,
  type WordOrder,
} from './schema.ts';
export { fromRaw, sizeInBytes, sizeInRegisters, toRaw } from './types.ts';
