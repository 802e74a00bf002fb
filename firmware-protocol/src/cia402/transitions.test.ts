import { describe, expect, it } from 'vitest';
import { CONTROL_COMMANDS, type ControlCommand } from './controlword.ts';
import { CIA402_STATES, Cia402State, isCia402State } from './states.ts';
import {
  applyAutomatic,
  applyCommand,
  applyCommandStrict,
  applyFault,
  TRANSITIONS,
} from './transitions.ts';

const S = Cia402State;
const _ = null;
const SOD = S.SWITCH_ON_DISABLED;
const RTSO = S.READY_TO_SWITCH_ON;
const SO = S.SWITCHED_ON;
const OE = S.OPERATION_ENABLED;
const QSA = S.QUICK_STOP_ACTIVE;
const FRA = S.FAULT_REACTION_ACTIVE;
const F = S.FAULT;

// CiA 402-2 Figure 6 / Table 28, written out by hand: the state after each command,
// the same state when the command holds it, null when it is not allowed.
//                         SHUTDOWN SWITCH_ON ENABLE_OP DIS_VOLT QUICK_STOP DIS_OP FAULT_RESET
const EXPECTED: Record<Cia402State, (Cia402State | null)[]> = {
  NOT_READY_TO_SWITCH_ON: [_, _, _, _, _, _, _],
  SWITCH_ON_DISABLED: [RTSO /*2*/, _, _, SOD, SOD, _, SOD],
  READY_TO_SWITCH_ON: [RTSO, SO /*3*/, OE /*3+4*/, SOD /*7*/, SOD /*7*/, SO /*3*/, RTSO],
  SWITCHED_ON: [RTSO /*6*/, SO, OE /*4*/, SOD /*10*/, SOD /*10*/, SO, SO],
  OPERATION_ENABLED: [RTSO /*8*/, SO /*5*/, OE, SOD /*9*/, QSA /*11*/, SO /*5*/, OE],
  QUICK_STOP_ACTIVE: [_, _, OE /*16*/, SOD /*12*/, QSA, _, QSA],
  FAULT_REACTION_ACTIVE: [_, _, _, _, _, _, _],
  FAULT: [_, _, _, _, _, _, SOD /*15*/],
};

const cases: [Cia402State, ControlCommand, Cia402State | null][] = [];
for (const state of CIA402_STATES) {
  CONTROL_COMMANDS.forEach((cmd, i) => {
    cases.push([state, cmd, EXPECTED[state][i]!]);
  });
}

describe('applyCommand', () => {
  it.each(cases)('%s + %s → %s', (state, cmd, next) => {
    expect(applyCommand(state, cmd)).toBe(next);
  });

  it('covers every state and command (56 cases)', () => {
    expect(cases).toHaveLength(56);
  });

  it('returns null for a value that is not a state', () => {
    expect(applyCommand('BOGUS' as Cia402State, 'SHUTDOWN')).toBeNull();
  });

  it('agrees with every command transition of the TRANSITIONS table', () => {
    for (const t of TRANSITIONS) {
      if (t.from === 'START' || t.from === 'ANY') continue;
      if (t.trigger === 'AUTOMATIC' || t.trigger === 'FAULT') continue;
      expect(applyCommand(t.from, t.trigger)).toBe(t.to);
    }
  });
});

describe('applyCommandStrict', () => {
  it('returns the next state of an allowed command', () => {
    expect(applyCommandStrict(SOD, 'SHUTDOWN')).toBe(RTSO);
  });
  it('throws CIA402_INVALID_TRANSITION for a forbidden one', () => {
    expect(() => applyCommandStrict(SOD, 'ENABLE_OPERATION')).toThrow(
      expect.objectContaining({
        code: 'CIA402_INVALID_TRANSITION',
        message: 'CiA 402 does not allow ENABLE_OPERATION in SWITCH_ON_DISABLED',
      }),
    );
  });
});

describe('applyFault / applyAutomatic', () => {
  it('a fault moves every state to FAULT_REACTION_ACTIVE (13), FAULT stays FAULT', () => {
    for (const s of CIA402_STATES) expect(applyFault(s)).toBe(s === F ? F : FRA);
  });
  it('automatic transitions 1 and 14 only', () => {
    expect(CIA402_STATES.map((s) => applyAutomatic(s))).toEqual([SOD, _, _, _, _, _, F, _]);
  });
  it('a fault then the automatic transition ends in FAULT, which only fault reset leaves', () => {
    const s = applyAutomatic(applyFault(OE));
    expect(s).toBe(F);
    expect(applyCommand(F, 'FAULT_RESET')).toBe(SOD);
  });
});

describe('TRANSITIONS', () => {
  it('numbers every CiA 402 transition 0–16', () => {
    const numbers = new Set(TRANSITIONS.flatMap((t) => t.number.split('+')));
    expect([...numbers].map(Number).sort((a, b) => a - b)).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
    ]);
  });
  it('is frozen', () => {
    expect(Object.isFrozen(TRANSITIONS)).toBe(true);
    expect(Object.isFrozen(TRANSITIONS[0])).toBe(true);
  });
});

describe('isCia402State', () => {
  it('accepts the eight states only', () => {
    for (const s of CIA402_STATES) expect(isCia402State(s)).toBe(true);
    for (const v of ['ENABLED', 'toString', '', 7, null, undefined])
      expect(isCia402State(v)).toBe(false);
  });
});
