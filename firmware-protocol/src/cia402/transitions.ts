/**
 * The CiA 402 state machine as a pure transition table (drive side).
 * CiA 402-2 §6.1.1 Figure 6 and Table 28 / IEC 61800-7-201 Figure 26, Table 29;
 * the same table as ros2_canopen `canopen_402_driver` Command402::TransitionTable.
 *
 * Transitions 0, 1 and 14 are automatic (`applyAutomatic`), 13 is a fault detected
 * by the drive (`applyFault`), every other one follows a controlword command
 * (`applyCommand`).
 */
import { ProtocolError } from '../errors.ts';
import type { ControlCommand } from './controlword.ts';
import { Cia402State } from './states.ts';

const S = Cia402State;

export type TransitionTrigger = ControlCommand | 'AUTOMATIC' | 'FAULT';

export interface Transition {
  /** The transition number in CiA 402-2 Figure 6 (3 + 4 for the combined enable). */
  readonly number: string;
  readonly from: Cia402State | 'START' | 'ANY';
  readonly to: Cia402State;
  readonly trigger: TransitionTrigger;
}

/**
 * Every transition this state machine makes. The table is data: `applyCommand`
 * is derived from it, and the tests walk it.
 */
export const TRANSITIONS: readonly Transition[] = Object.freeze(
  (
    [
      ['0', 'START', S.NOT_READY_TO_SWITCH_ON, 'AUTOMATIC'],
      ['1', S.NOT_READY_TO_SWITCH_ON, S.SWITCH_ON_DISABLED, 'AUTOMATIC'],
      ['2', S.SWITCH_ON_DISABLED, S.READY_TO_SWITCH_ON, 'SHUTDOWN'],
      ['3', S.READY_TO_SWITCH_ON, S.SWITCHED_ON, 'SWITCH_ON'],
      ['3', S.READY_TO_SWITCH_ON, S.SWITCHED_ON, 'DISABLE_OPERATION'], // same bits as switch on
      // Table 27 footnote: "switch on + enable operation" in READY_TO_SWITCH_ON runs
      // transition 3 then 4 without stopping in SWITCHED_ON.
      ['3+4', S.READY_TO_SWITCH_ON, S.OPERATION_ENABLED, 'ENABLE_OPERATION'],
      ['4', S.SWITCHED_ON, S.OPERATION_ENABLED, 'ENABLE_OPERATION'],
      ['5', S.OPERATION_ENABLED, S.SWITCHED_ON, 'DISABLE_OPERATION'],
      ['5', S.OPERATION_ENABLED, S.SWITCHED_ON, 'SWITCH_ON'], // same bits as disable operation
      ['6', S.SWITCHED_ON, S.READY_TO_SWITCH_ON, 'SHUTDOWN'],
      ['7', S.READY_TO_SWITCH_ON, S.SWITCH_ON_DISABLED, 'DISABLE_VOLTAGE'],
      ['7', S.READY_TO_SWITCH_ON, S.SWITCH_ON_DISABLED, 'QUICK_STOP'],
      ['8', S.OPERATION_ENABLED, S.READY_TO_SWITCH_ON, 'SHUTDOWN'],
      ['9', S.OPERATION_ENABLED, S.SWITCH_ON_DISABLED, 'DISABLE_VOLTAGE'],
      ['10', S.SWITCHED_ON, S.SWITCH_ON_DISABLED, 'DISABLE_VOLTAGE'],
      ['10', S.SWITCHED_ON, S.SWITCH_ON_DISABLED, 'QUICK_STOP'],
      ['11', S.OPERATION_ENABLED, S.QUICK_STOP_ACTIVE, 'QUICK_STOP'],
      // 12 is also automatic once the quick-stop ramp ends with quick stop option
      // codes 0–4 (0x605A); that timing is the drive's (simulator's) business.
      ['12', S.QUICK_STOP_ACTIVE, S.SWITCH_ON_DISABLED, 'DISABLE_VOLTAGE'],
      ['13', 'ANY', S.FAULT_REACTION_ACTIVE, 'FAULT'], // see applyFault
      ['14', S.FAULT_REACTION_ACTIVE, S.FAULT, 'AUTOMATIC'],
      ['15', S.FAULT, S.SWITCH_ON_DISABLED, 'FAULT_RESET'],
      // 16 needs quick stop option codes 5–8; a drive without them ignores the command.
      ['16', S.QUICK_STOP_ACTIVE, S.OPERATION_ENABLED, 'ENABLE_OPERATION'],
    ] as const
  ).map(([number, from, to, trigger]) => Object.freeze({ number, from, to, trigger })),
);

/**
 * A command that asks for the state the drive is already in: accepted, no
 * transition (the master writes 0x0F again and again while enabled, 0x1F for a
 * new set-point, and so on).
 */
const HOLDS: Readonly<Record<Cia402State, readonly ControlCommand[]>> = {
  NOT_READY_TO_SWITCH_ON: [],
  SWITCH_ON_DISABLED: ['DISABLE_VOLTAGE', 'QUICK_STOP'],
  READY_TO_SWITCH_ON: ['SHUTDOWN'],
  SWITCHED_ON: ['SWITCH_ON', 'DISABLE_OPERATION'],
  OPERATION_ENABLED: ['ENABLE_OPERATION'],
  QUICK_STOP_ACTIVE: ['QUICK_STOP'],
  FAULT_REACTION_ACTIVE: [],
  FAULT: [],
};

const BY_COMMAND = new Map<string, Cia402State>();
for (const t of TRANSITIONS) {
  if (t.from !== 'START' && t.from !== 'ANY' && t.trigger !== 'AUTOMATIC') {
    BY_COMMAND.set(`${t.from}/${t.trigger}`, t.to);
  }
}

/**
 * The state a drive in `state` moves to on `cmd`: the target of the CiA 402
 * transition, `state` itself when the command holds the current state (see HOLDS;
 * a fault reset outside FAULT also changes nothing), or `null` when CiA 402 does not
 * allow the command in that state (the drive ignores it and stays).
 */
export function applyCommand(state: Cia402State, cmd: ControlCommand): Cia402State | null {
  const to = BY_COMMAND.get(`${state}/${cmd}`);
  if (to !== undefined) return to;
  const holds: readonly ControlCommand[] | undefined = HOLDS[state];
  if (holds === undefined) return null; // not a state (a caller without types)
  if (holds.includes(cmd)) return state;
  // A fault reset outside FAULT changes nothing (CiA 402-2 §6.1.1), but is refused
  // while the drive is still initialising or reacting to a fault.
  if (
    cmd === 'FAULT_RESET' &&
    state !== S.FAULT_REACTION_ACTIVE &&
    state !== S.NOT_READY_TO_SWITCH_ON
  ) {
    return state;
  }
  return null;
}

/** Like `applyCommand`, but a forbidden command throws CIA402_INVALID_TRANSITION. */
export function applyCommandStrict(state: Cia402State, cmd: ControlCommand): Cia402State {
  const next = applyCommand(state, cmd);
  if (next === null) {
    throw new ProtocolError(
      'CIA402_INVALID_TRANSITION',
      `CiA 402 does not allow ${cmd} in ${state}`,
    );
  }
  return next;
}

/** Transition 13: a fault detected in any state starts the fault reaction. */
export function applyFault(state: Cia402State): Cia402State {
  // A fault while already in FAULT keeps the drive in FAULT.
  return state === S.FAULT ? S.FAULT : S.FAULT_REACTION_ACTIVE;
}

/**
 * The automatic transition out of `state`, if it has one: 1 (initialisation done)
 * and 14 (fault reaction done). The drive decides when; this says where.
 */
export function applyAutomatic(state: Cia402State): Cia402State | null {
  if (state === S.NOT_READY_TO_SWITCH_ON) return S.SWITCH_ON_DISABLED;
  if (state === S.FAULT_REACTION_ACTIVE) return S.FAULT;
  return null;
}
