/**
 * Master-side path planning through the CiA 402 state machine: which controlword
 * to write next to move a drive from the state it reports toward a target state.
 *
 * A caller writes the returned controlword, reads the statusword back, and calls
 * again with the new state (and the controlword it wrote as `previousCw`) until the
 * answer is `null`. Each step is one CiA 402 transition (CiA 402-2 Figure 6):
 *
 * | from \ to          | OPERATION_ENABLED | SWITCHED_ON | READY_TO_SWITCH_ON | SWITCH_ON_DISABLED |
 * |--------------------|-------------------|-------------|--------------------|--------------------|
 * | SWITCH_ON_DISABLED | 0x06 (2)          | 0x06 (2)    | 0x06 (2)           | —                  |
 * | READY_TO_SWITCH_ON | 0x07 (3)          | 0x07 (3)    | —                  | 0x00 (7)           |
 * | SWITCHED_ON        | 0x0F (4)          | —           | 0x06 (6)           | 0x00 (10)          |
 * | OPERATION_ENABLED  | —                 | 0x07 (5)    | 0x06 (8)           | 0x00 (9)           |
 * | QUICK_STOP_ACTIVE  | 0x00 (12)         | 0x00 (12)   | 0x00 (12)          | 0x00 (12)          |
 * | FAULT              | fault reset (15), only with `allowFaultReset`                           |
 *
 * Choices, and why:
 * - one transition per write (never 0x0F straight from READY_TO_SWITCH_ON): every
 *   drive supports the single steps, as ros2_canopen `Command402::nextStateForEnabling`;
 * - out of QUICK_STOP_ACTIVE through SWITCH_ON_DISABLED (12), not back to
 *   OPERATION_ENABLED with transition 16: 16 exists only with quick stop option codes
 *   5–8, and a quick-stopped axis should come back through the full enable sequence
 *   (ros2_canopen takes 16 here);
 * - fault reset is a rising edge of bit 7: 0x80 when the last write had bit 7 clear,
 *   else 0x00 first. Without `previousCw` the planner assumes bit 7 is clear; pass
 *   the last controlword written to recover from any register content.
 * - QUICK_STOP_ACTIVE as a target means "stop with the quick-stop ramp": 0x02 from
 *   OPERATION_ENABLED (11), READY_TO_SWITCH_ON or SWITCHED_ON (7, 10: to
 *   SWITCH_ON_DISABLED); nothing to do (`null`) when the power stage is already off
 *   (NOT_READY_TO_SWITCH_ON, SWITCH_ON_DISABLED, FAULT), which is where a quick stop
 *   ends with the default option codes.
 */
import { ProtocolError } from '../errors.ts';
import { type ControlCommand, Controlword, ControlwordBit } from './controlword.ts';
import { Cia402State } from './states.ts';

const S = Cia402State;

export type PlanTarget =
  | typeof S.OPERATION_ENABLED
  | typeof S.SWITCHED_ON
  | typeof S.READY_TO_SWITCH_ON
  | typeof S.SWITCH_ON_DISABLED
  | typeof S.QUICK_STOP_ACTIVE;

export const PLAN_TARGETS: readonly PlanTarget[] = Object.freeze([
  S.OPERATION_ENABLED,
  S.SWITCHED_ON,
  S.READY_TO_SWITCH_ON,
  S.SWITCH_ON_DISABLED,
  S.QUICK_STOP_ACTIVE,
]);

/** Why no controlword can be written now. */
export type BlockedReason = 'FAULT' | 'FAULT_REACTION' | 'NOT_READY';

export type NextControlword = { controlword: number } | { blocked: BlockedReason } | null;

export interface NextControlwordOptions {
  /** Reset a fault on the way (default false: a fault blocks the path). */
  allowFaultReset?: boolean;
  /** The controlword written last; decides how to make the bit-7 rising edge. */
  previousCw?: number;
}

/** Per target: the command to write in each state on the way (planner table above). */
const STEP: Readonly<
  Record<Exclude<PlanTarget, 'QUICK_STOP_ACTIVE'>, Partial<Record<Cia402State, ControlCommand>>>
> = {
  OPERATION_ENABLED: {
    SWITCH_ON_DISABLED: 'SHUTDOWN', // 2
    READY_TO_SWITCH_ON: 'SWITCH_ON', // 3
    SWITCHED_ON: 'ENABLE_OPERATION', // 4
  },
  SWITCHED_ON: {
    SWITCH_ON_DISABLED: 'SHUTDOWN', // 2
    READY_TO_SWITCH_ON: 'SWITCH_ON', // 3
    OPERATION_ENABLED: 'DISABLE_OPERATION', // 5
  },
  READY_TO_SWITCH_ON: {
    SWITCH_ON_DISABLED: 'SHUTDOWN', // 2
    SWITCHED_ON: 'SHUTDOWN', // 6
    OPERATION_ENABLED: 'SHUTDOWN', // 8
  },
  SWITCH_ON_DISABLED: {
    READY_TO_SWITCH_ON: 'DISABLE_VOLTAGE', // 7
    SWITCHED_ON: 'DISABLE_VOLTAGE', // 10
    OPERATION_ENABLED: 'DISABLE_VOLTAGE', // 9
  },
};

const write = (cmd: ControlCommand): { controlword: number } => ({ controlword: Controlword[cmd] });

/**
 * The next controlword to write to move from `current` toward `target`, `null` when
 * there is nothing to write (already there), or why the path is blocked for now
 * (FAULT without `allowFaultReset`, or a state only the drive can leave:
 * NOT_READY_TO_SWITCH_ON and FAULT_REACTION_ACTIVE move on by themselves).
 * Throws CIA402_INVALID_TRANSITION for a target a master cannot command
 * (FAULT, FAULT_REACTION_ACTIVE, NOT_READY_TO_SWITCH_ON).
 */
export function nextControlword(
  current: Cia402State,
  target: Cia402State,
  opts: NextControlwordOptions = {},
): NextControlword {
  if (!(PLAN_TARGETS as readonly string[]).includes(target)) {
    throw new ProtocolError(
      'CIA402_INVALID_TRANSITION',
      `${target} is not a state a master can command (targets: ${PLAN_TARGETS.join(', ')})`,
    );
  }
  if (current === target) return null;
  if (target === S.QUICK_STOP_ACTIVE) return towardQuickStop(current);

  switch (current) {
    case S.NOT_READY_TO_SWITCH_ON:
      return { blocked: 'NOT_READY' }; // transition 1 is automatic
    case S.FAULT_REACTION_ACTIVE:
      return { blocked: 'FAULT_REACTION' }; // transition 14 is automatic
    case S.FAULT:
      return opts.allowFaultReset === true ? faultReset(opts.previousCw) : { blocked: 'FAULT' };
    case S.QUICK_STOP_ACTIVE:
      return write('DISABLE_VOLTAGE'); // 12
  }
  const cmd = STEP[target as Exclude<PlanTarget, 'QUICK_STOP_ACTIVE'>][current];
  // Every remaining (current, target) pair is in STEP; the guard keeps a caller
  // without types from getting `undefined`.
  if (cmd === undefined) {
    throw new ProtocolError('CIA402_INVALID_TRANSITION', `no path from ${current} to ${target}`);
  }
  return write(cmd);
}

function towardQuickStop(current: Cia402State): NextControlword {
  switch (current) {
    case S.OPERATION_ENABLED: // 11
    case S.READY_TO_SWITCH_ON: // 7
    case S.SWITCHED_ON: // 10
      return write('QUICK_STOP');
    case S.FAULT_REACTION_ACTIVE:
      return { blocked: 'FAULT_REACTION' };
    default:
      return null; // power stage already off: NOT_READY, SWITCH_ON_DISABLED, FAULT
  }
}

function faultReset(previousCw: number | undefined): { controlword: number } {
  // CiA 402-2 §6.1.1: fault reset is the 0 → 1 edge of bit 7; clear it first if set.
  const bit7 = 1 << ControlwordBit.FaultReset;
  if (previousCw !== undefined && (previousCw & bit7) !== 0) return write('DISABLE_VOLTAGE');
  return write('FAULT_RESET');
}
