/** CiA 402 drive profile: state machine, statusword/controlword, modes, objects, error codes. */
export {
  CONTROL_COMMANDS,
  type ControlCommand,
  Controlword,
  ControlwordBit,
  decodeControlCommand,
  newSetpoint,
} from './controlword.ts';
export {
  describeErrorCode,
  ErrorCode,
  type ErrorCodeName,
  type ErrorDescription,
  formatErrorCode,
  parseErrorCode,
} from './error-codes.ts';
export { Mode, type ModeName, type ModeNumber, modeName, modeNumber } from './modes.ts';
export { type ObjectName, Objects, objectNameOf } from './objects.ts';
export {
  type BlockedReason,
  type NextControlword,
  type NextControlwordOptions,
  nextControlword,
  PLAN_TARGETS,
  type PlanTarget,
} from './planner.ts';
export { CIA402_STATES, Cia402State, isCia402State } from './states.ts';
export {
  decodeStatusword,
  decodeStatuswordFlags,
  encodeStatusword,
  StatuswordBit,
  type StatuswordFlags,
  tryDecodeStatusword,
} from './statusword.ts';
export {
  applyAutomatic,
  applyCommand,
  applyCommandStrict,
  applyFault,
  TRANSITIONS,
  type Transition,
  type TransitionTrigger,
} from './transitions.ts';
