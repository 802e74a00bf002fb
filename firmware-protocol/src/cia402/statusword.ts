/**
 * CiA 402 statusword (object 0x6041), CiA 402-2 §6.1.2 / IEC 61800-7-201 Table 30.
 *
 * The state is coded in bits 0–3, 5 and 6; bit 4 (voltage enabled) is ignored by the
 * decode (DESIGN.md "Protocol facts"; ros2_canopen `canopen_402_driver` State402::read
 * masks out bit 4 the same way). Bits 7–15 are flags (warning, remote, target reached…).
 */
import { ProtocolError } from '../errors.ts';
import { Cia402State } from './states.ts';

export const StatuswordBit = {
  ReadyToSwitchOn: 0,
  SwitchedOn: 1,
  OperationEnabled: 2,
  Fault: 3,
  VoltageEnabled: 4,
  QuickStop: 5,
  SwitchOnDisabled: 6,
  Warning: 7,
  Remote: 9,
  TargetReached: 10,
  InternalLimit: 11,
  /** Profile position mode: set-point acknowledge (CiA 402-2 §12.2.3). */
  SetpointAck: 12,
  /** Profile position mode: following error (CiA 402-2 §12.2.3). */
  FollowingError: 13,
} as const;

export interface StatuswordFlags {
  voltageEnabled?: boolean;
  warning?: boolean;
  remote?: boolean;
  targetReached?: boolean;
  internalLimit?: boolean;
  /** Bit 12 (profile position: set-point acknowledge; homing: homing attained). */
  setpointAck?: boolean;
  /** Bit 13 (profile position: following error; homing: homing error). */
  followingError?: boolean;
}

// CiA 402-2 Table 30: masks and values of the state bits.
const MASK_4F = 0x4f; // bits 0,1,2,3,6: states whose quick-stop bit is "don't care"
const MASK_6F = 0x6f; // bits 0,1,2,3,5,6: states that need the quick-stop bit

/** The bit pattern `encodeStatusword` writes for each state (bits 0–3, 5, 6). */
const STATE_PATTERN: Readonly<Record<Cia402State, number>> = {
  NOT_READY_TO_SWITCH_ON: 0x00, // xxxx xxxx x0xx 0000
  SWITCH_ON_DISABLED: 0x40, // xxxx xxxx x1xx 0000
  READY_TO_SWITCH_ON: 0x21, // xxxx xxxx x01x 0001
  SWITCHED_ON: 0x23, // xxxx xxxx x01x 0011
  OPERATION_ENABLED: 0x27, // xxxx xxxx x01x 0111
  QUICK_STOP_ACTIVE: 0x07, // xxxx xxxx x00x 0111
  FAULT_REACTION_ACTIVE: 0x0f, // xxxx xxxx x0xx 1111
  FAULT: 0x08, // xxxx xxxx x0xx 1000
};

const FLAG_BITS: ReadonlyArray<readonly [keyof StatuswordFlags, number]> = [
  ['voltageEnabled', StatuswordBit.VoltageEnabled],
  ['warning', StatuswordBit.Warning],
  ['remote', StatuswordBit.Remote],
  ['targetReached', StatuswordBit.TargetReached],
  ['internalLimit', StatuswordBit.InternalLimit],
  ['setpointAck', StatuswordBit.SetpointAck],
  ['followingError', StatuswordBit.FollowingError],
];

/**
 * The state a statusword codes, or `null` for a pattern CiA 402 does not define
 * (e.g. 0x0001: ready to switch on without the quick-stop bit).
 */
export function tryDecodeStatusword(sw: number): Cia402State | null {
  // CiA 402-2 §6.1.2 Table 30, first the states where bit 5 is "don't care"…
  switch (sw & MASK_4F) {
    case 0x00:
      return Cia402State.NOT_READY_TO_SWITCH_ON;
    case 0x40:
      return Cia402State.SWITCH_ON_DISABLED;
    case 0x0f:
      return Cia402State.FAULT_REACTION_ACTIVE;
    case 0x08:
      return Cia402State.FAULT;
  }
  // …then the states told apart by bit 5 (quick stop).
  switch (sw & MASK_6F) {
    case 0x21:
      return Cia402State.READY_TO_SWITCH_ON;
    case 0x23:
      return Cia402State.SWITCHED_ON;
    case 0x27:
      return Cia402State.OPERATION_ENABLED;
    case 0x07:
      return Cia402State.QUICK_STOP_ACTIVE;
  }
  return null;
}

/**
 * Decodes the state of a statusword. A pattern CiA 402 does not define (52 of the 64
 * combinations of bits 0–3, 5, 6) decodes as NOT_READY_TO_SWITCH_ON: the one state
 * in which a master writes nothing and waits, so a drive in transition or a garbled
 * register is never commanded on the strength of a guess. Use `tryDecodeStatusword`
 * to tell an undefined pattern apart.
 */
export function decodeStatusword(sw: number): Cia402State {
  return tryDecodeStatusword(sw) ?? Cia402State.NOT_READY_TO_SWITCH_ON;
}

/** The flag bits of a statusword (everything but the state). */
export function decodeStatuswordFlags(sw: number): Required<StatuswordFlags> {
  const flags = {} as Required<StatuswordFlags>;
  for (const [name, bit] of FLAG_BITS) flags[name] = (sw & (1 << bit)) !== 0;
  return flags;
}

/**
 * The statusword a drive in `state` reports (drive side, used by the simulator).
 * The quick-stop bit is 0 where it is "don't care"; flags default to clear.
 * `decodeStatusword(encodeStatusword(s, f)) === s` for every state and flags.
 */
export function encodeStatusword(state: Cia402State, flags: StatuswordFlags = {}): number {
  if (!Object.hasOwn(STATE_PATTERN, state)) {
    throw new ProtocolError('VALUE_OUT_OF_RANGE', `not a CiA 402 state: ${String(state)}`);
  }
  let sw = STATE_PATTERN[state];
  for (const [name, bit] of FLAG_BITS) if (flags[name] === true) sw |= 1 << bit;
  return sw;
}
