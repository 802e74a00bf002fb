/** The fleet's public contract (v1): topics, message schemas, error codes. */
export { type ContractError, ERROR_CODES, type ErrorCode } from './errors.ts';
export {
  checkCommand,
  MAX_COMMAND_BYTES,
  type ParsedCommand,
  parseCommand,
} from './parse-command.ts';
export {
  COMMAND_TYPES,
  type Command,
  type CommandOf,
  CommandSchema,
  CommandSchemas,
  type CommandType,
  REPLY_STATUSES,
  type Reply,
  ReplySchema,
  type ReplyStatus,
} from './schemas/commands.ts';
export { CIA402_STATE_NAMES, ErrorBodySchema, FaultSchema, MODE_NAMES } from './schemas/common.ts';
export {
  AVAILABILITY,
  type Availability,
  AvailabilitySchema,
  type AvailabilityStatus,
  type DriveState,
  type Meta,
  MetaSchema,
  StateSchema,
  type Telemetry,
  TelemetrySchema,
} from './schemas/drive.ts';
export { type DriveEvent, DriveEventSchema, EventSchemas } from './schemas/events.ts';
export {
  LINE_COMMAND_TYPES,
  LINE_STATES,
  type LineCommand,
  LineCommandSchemas,
  type LineCommandType,
  type LineEvent,
  LineEventSchema,
  LineEventSchemas,
  type LineReply,
  LineReplySchema,
  type LineState,
  type LineStateName,
  LineStateSchema,
  lineCommandsTopic,
  type ParsedLineCommand,
  parseLineCommand,
  StationStatusSchema,
} from './schemas/lines.ts';
export {
  CONTRACT_VERSION,
  DRIVE_TOPIC_KINDS,
  type DriveTopicKind,
  ID_PATTERN,
  isValidId,
  type Topics,
  topics,
} from './topics.ts';
