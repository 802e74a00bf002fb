/**
 * CiA 402 controlword (object 0x6040), CiA 402-2 §6.1.1 / IEC 61800-7-201 Table 27.
 *
 * Device control commands are coded in bits 0–3 and 7:
 *
 * | command           | bit 7 | bit 3 | bit 2 | bit 1 | bit 0 | value |
 * |-------------------|-------|-------|-------|-------|-------|-------|
 * | shutdown          | 0     | x     | 1     | 1     | 0     | 0x06  |
 * | switch on         | 0     | 0     | 1     | 1     | 1     | 0x07  |
 * | disable voltage   | 0     | x     | x     | 0     | x     | 0x00  |
 * | quick stop        | 0     | x     | 0     | 1     | x     | 0x02  |
 * | disable operation | 0     | 0     | 1     | 1     | 1     | 0x07  |
 * | enable operation  | 0     | 1     | 1     | 1     | 1     | 0x0F  |
 * | fault reset       | 0 → 1 | x     | x     | x     | x     | 0x80  |
 *
 * Bits 4–6 and 8 are mode specific (profile position: new set-point, change set
 * immediately, relative, halt). Source: DESIGN.md "Protocol facts"; ros2_canopen
 * `canopen_402_driver` Command402 uses the same bit operations.
 */
import { ProtocolError } from '../errors.ts';

export const Controlword = {
  SHUTDOWN: 0x06,
  SWITCH_ON: 0x07,
  ENABLE_OPERATION: 0x0f,
  DISABLE_VOLTAGE: 0x00,
  QUICK_STOP: 0x02,
  DISABLE_OPERATION: 0x07,
  /** Only a rising edge of bit 7 resets a fault: write a value without bit 7 first. */
  FAULT_RESET: 0x80,
} as const;

export const ControlwordBit = {
  SwitchOn: 0,
  EnableVoltage: 1,
  QuickStop: 2,
  EnableOperation: 3,
  /** Profile position mode: a rising edge starts the move to 0x607A (CiA 402-2 §12.2.2). */
  NewSetpoint: 4,
  ChangeSetImmediately: 5,
  /** Profile position mode: 0x607A is relative to the current target/position. */
  Relative: 6,
  FaultReset: 7,
  Halt: 8,
} as const;

export type ControlCommand =
  | 'SHUTDOWN'
  | 'SWITCH_ON'
  | 'ENABLE_OPERATION'
  | 'DISABLE_VOLTAGE'
  | 'QUICK_STOP'
  | 'DISABLE_OPERATION'
  | 'FAULT_RESET';

export const CONTROL_COMMANDS: readonly ControlCommand[] = Object.freeze([
  'SHUTDOWN',
  'SWITCH_ON',
  'ENABLE_OPERATION',
  'DISABLE_VOLTAGE',
  'QUICK_STOP',
  'DISABLE_OPERATION',
  'FAULT_RESET',
]);

const BIT_FAULT_RESET = 1 << ControlwordBit.FaultReset;

/**
 * Which device control command a controlword write means (drive side).
 *
 * - a rising edge of bit 7 (clear in `previousCw`, set in `cw`) is FAULT_RESET;
 * - bit 7 held high is no command (`null`): CiA 402 defines every other command
 *   with bit 7 = 0, so the drive keeps its state;
 * - otherwise bits 0–3 select the command per Table 27 (above). "Switch on" and
 *   "disable operation" have the same bits: both decode as SWITCH_ON, and
 *   `applyCommand` gives SWITCH_ON in OPERATION_ENABLED the meaning of transition 5.
 */
export function decodeControlCommand(cw: number, previousCw: number): ControlCommand | null {
  const now = cw & 0xffff;
  if ((now & BIT_FAULT_RESET) !== 0) {
    // CiA 402-2 §6.1.1: fault reset is the 0 → 1 transition of bit 7.
    return (previousCw & BIT_FAULT_RESET) === 0 ? 'FAULT_RESET' : null;
  }
  if ((now & 0x02) === 0) return 'DISABLE_VOLTAGE'; // 0 x x 0 x
  if ((now & 0x04) === 0) return 'QUICK_STOP'; // 0 x 0 1 x
  if ((now & 0x01) === 0) return 'SHUTDOWN'; // 0 x 1 1 0
  if ((now & 0x08) === 0) return 'SWITCH_ON'; // 0 0 1 1 1 (also disable operation)
  return 'ENABLE_OPERATION'; // 0 1 1 1 1
}

/**
 * The controlword that starts a profile-position move: `base` with bit 4 (new
 * set-point) set, bit 5 (change set immediately) and bit 6 (relative) as asked and
 * every other bit of `base` kept. The drive acts on the rising edge of bit 4, so the
 * caller writes `base` (bit 4 clear) before and after this value
 * (CiA 402-2 §12.2.2, profile position mode; DESIGN.md "sf-servo").
 */
export function newSetpoint(
  base: number,
  opts: { relative?: boolean; immediate?: boolean } = {},
): number {
  if (!Number.isInteger(base) || base < 0 || base > 0xffff) {
    throw new ProtocolError('VALUE_OUT_OF_RANGE', `controlword ${base} is not a 16-bit value`);
  }
  let cw = base & ~((1 << ControlwordBit.ChangeSetImmediately) | (1 << ControlwordBit.Relative));
  cw |= 1 << ControlwordBit.NewSetpoint;
  if (opts.immediate === true) cw |= 1 << ControlwordBit.ChangeSetImmediately;
  if (opts.relative === true) cw |= 1 << ControlwordBit.Relative;
  return cw;
}
