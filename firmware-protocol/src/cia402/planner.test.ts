import { describe, expect, it } from 'vitest';
import { decodeControlCommand } from './controlword.ts';
import { nextControlword, PLAN_TARGETS } from './planner.ts';
import { CIA402_STATES, Cia402State } from './states.ts';
import { applyAutomatic, applyCommand } from './transitions.ts';

const S = Cia402State;
const POWER_OFF = new Set<Cia402State>([S.NOT_READY_TO_SWITCH_ON, S.SWITCH_ON_DISABLED, S.FAULT]);

interface Run {
  state: Cia402State;
  writes: number[];
}

/**
 * A master and a simulated drive: the master writes what the planner returns, the
 * drive decodes it (with the edge on bit 7) and applies the transition table; while
 * blocked the drive makes its own automatic transition.
 */
function drive(
  start: Cia402State,
  target: Cia402State,
  registerCw: number,
  opts: { allowFaultReset: boolean; tellPrevious: boolean },
): Run {
  let state = start;
  let cw = registerCw; // what the drive's controlword register holds
  const writes: number[] = [];
  for (let step = 0; step < 12; step++) {
    const next = nextControlword(state, target, {
      allowFaultReset: opts.allowFaultReset,
      ...(opts.tellPrevious || step > 0 ? { previousCw: cw } : {}),
    });
    if (next === null) return { state, writes };
    if ('blocked' in next) {
      const auto = applyAutomatic(state);
      if (auto === null) return { state, writes }; // blocked for good (FAULT)
      state = auto;
      continue;
    }
    const cmd = decodeControlCommand(next.controlword, cw);
    cw = next.controlword;
    writes.push(cw);
    if (cmd !== null) state = applyCommand(state, cmd) ?? state;
  }
  throw new Error(`no convergence from ${start} to ${target}: ${writes}`);
}

describe('nextControlword', () => {
  const matrix = CIA402_STATES.flatMap((from) => PLAN_TARGETS.map((to) => [from, to] as const));

  it.each(matrix)('reaches %s → %s from any controlword register content', (from, to) => {
    for (const registerCw of [0x00, 0x06, 0x0f, 0x80, 0x8f]) {
      const run = drive(from, to, registerCw, { allowFaultReset: true, tellPrevious: true });
      if (
        to === S.QUICK_STOP_ACTIVE &&
        from !== S.OPERATION_ENABLED &&
        from !== S.QUICK_STOP_ACTIVE
      ) {
        expect(POWER_OFF.has(run.state)).toBe(true); // quick stop ends with the power stage off
      } else {
        expect(run.state).toBe(to);
      }
      expect(run.writes.length).toBeLessThanOrEqual(7);
    }
  });

  it('reaches OPERATION_ENABLED in the fewest single steps', () => {
    const steps = (from: Cia402State) =>
      drive(from, S.OPERATION_ENABLED, 0, { allowFaultReset: true, tellPrevious: true }).writes;
    expect(steps(S.SWITCH_ON_DISABLED)).toEqual([0x06, 0x07, 0x0f]);
    expect(steps(S.READY_TO_SWITCH_ON)).toEqual([0x07, 0x0f]);
    expect(steps(S.SWITCHED_ON)).toEqual([0x0f]);
    expect(steps(S.OPERATION_ENABLED)).toEqual([]);
    expect(steps(S.QUICK_STOP_ACTIVE)).toEqual([0x00, 0x06, 0x07, 0x0f]);
    expect(steps(S.FAULT)).toEqual([0x80, 0x06, 0x07, 0x0f]);
    expect(steps(S.FAULT_REACTION_ACTIVE)).toEqual([0x80, 0x06, 0x07, 0x0f]);
    expect(steps(S.NOT_READY_TO_SWITCH_ON)).toEqual([0x06, 0x07, 0x0f]);
  });

  it('makes a real 0 → 1 edge on bit 7 when the register already holds it', () => {
    const run = drive(S.FAULT, S.SWITCH_ON_DISABLED, 0x80, {
      allowFaultReset: true,
      tellPrevious: true,
    });
    expect(run.writes).toEqual([0x00, 0x80]);
    expect(run.state).toBe(S.SWITCH_ON_DISABLED);
  });

  it('without previousCw assumes bit 7 clear, and recovers once told', () => {
    expect(nextControlword(S.FAULT, S.OPERATION_ENABLED, { allowFaultReset: true })).toEqual({
      controlword: 0x80,
    });
    const run = drive(S.FAULT, S.SWITCH_ON_DISABLED, 0x80, {
      allowFaultReset: true,
      tellPrevious: false,
    });
    expect(run.writes).toEqual([0x80, 0x00, 0x80]);
    expect(run.state).toBe(S.SWITCH_ON_DISABLED);
  });

  it('never resets a fault unless allowed: FAULT blocks', () => {
    for (const from of CIA402_STATES) {
      for (const to of PLAN_TARGETS) {
        const run = drive(from, to, 0, { allowFaultReset: false, tellPrevious: true });
        expect(run.writes.every((cw) => (cw & 0x80) === 0)).toBe(true);
      }
    }
    expect(nextControlword(S.FAULT, S.OPERATION_ENABLED)).toEqual({ blocked: 'FAULT' });
    expect(nextControlword(S.FAULT, S.SWITCH_ON_DISABLED, { allowFaultReset: false })).toEqual({
      blocked: 'FAULT',
    });
  });

  it('waits for the states only the drive leaves', () => {
    expect(nextControlword(S.NOT_READY_TO_SWITCH_ON, S.OPERATION_ENABLED)).toEqual({
      blocked: 'NOT_READY',
    });
    expect(
      nextControlword(S.FAULT_REACTION_ACTIVE, S.SWITCHED_ON, { allowFaultReset: true }),
    ).toEqual({
      blocked: 'FAULT_REACTION',
    });
    expect(nextControlword(S.FAULT_REACTION_ACTIVE, S.QUICK_STOP_ACTIVE)).toEqual({
      blocked: 'FAULT_REACTION',
    });
  });

  it('quick stop: 0x02 where the power stage is on, nothing to do where it is off', () => {
    expect(nextControlword(S.OPERATION_ENABLED, S.QUICK_STOP_ACTIVE)).toEqual({
      controlword: 0x02,
    });
    expect(nextControlword(S.SWITCHED_ON, S.QUICK_STOP_ACTIVE)).toEqual({ controlword: 0x02 });
    expect(nextControlword(S.READY_TO_SWITCH_ON, S.QUICK_STOP_ACTIVE)).toEqual({
      controlword: 0x02,
    });
    expect(nextControlword(S.SWITCH_ON_DISABLED, S.QUICK_STOP_ACTIVE)).toBeNull();
    expect(nextControlword(S.FAULT, S.QUICK_STOP_ACTIVE)).toBeNull();
    expect(nextControlword(S.NOT_READY_TO_SWITCH_ON, S.QUICK_STOP_ACTIVE)).toBeNull();
    expect(nextControlword(S.QUICK_STOP_ACTIVE, S.QUICK_STOP_ACTIVE)).toBeNull();
  });

  it('leaves quick stop through SWITCH_ON_DISABLED (12), not transition 16', () => {
    for (const to of PLAN_TARGETS.filter((t) => t !== S.QUICK_STOP_ACTIVE)) {
      expect(nextControlword(S.QUICK_STOP_ACTIVE, to)).toEqual({ controlword: 0x00 });
    }
  });

  it('refuses targets a master cannot command', () => {
    for (const to of [S.FAULT, S.FAULT_REACTION_ACTIVE, S.NOT_READY_TO_SWITCH_ON]) {
      expect(() => nextControlword(S.OPERATION_ENABLED, to)).toThrow(
        expect.objectContaining({ code: 'CIA402_INVALID_TRANSITION' }),
      );
    }
  });

  it('refuses a current value that is not a state', () => {
    expect(() => nextControlword('BOGUS' as Cia402State, S.OPERATION_ENABLED)).toThrow(
      expect.objectContaining({ code: 'CIA402_INVALID_TRANSITION' }),
    );
  });
});
