import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify } from 'yaml';
import { parseFleet } from '../../../runtime/src/index.ts';
import { LineError } from '../errors.ts';
import { planLine } from './parse-cycle.ts';

const demoText = readFileSync(
  resolve(import.meta.dirname, '../../../../config/demo-fleet.yaml'),
  'utf8',
);

/** The demo fleet with line-1's cycle replaced. */
function withCycle(cycle: unknown[]) {
  const raw = parseYaml(demoText) as { lines: Record<string, unknown>[] };
  raw.lines[0]!.cycle = cycle;
  return parseFleet(stringify(raw));
}

function issues(cycle: unknown[]): { path: string; message: string }[] {
  try {
    planLine(withCycle(cycle), 'line-1');
  } catch (err) {
    expect(err).toBeInstanceOf(LineError);
    expect((err as LineError).code).toBe('CYCLE_INVALID');
    return (err as LineError).issues ?? [];
  }
  throw new Error('the cycle was accepted');
}

describe('planLine', () => {
  it("plans the demo fleet's line-1: stations, drives and steps in one normal form", () => {
    const plan = planLine(parseFleet(demoText), 'line-1');
    expect(plan.stations.map((s) => [s.id, s.bypassable])).toEqual([
      ['conveyor', false],
      ['pick', false],
      ['label', true],
      ['gripper', false],
    ]);
    expect(plan.drives).toEqual(['axis-1', 'axis-2', 'axis-3', 'axis-4', 'dxl-1', 'dxl-2']);
    expect(plan.steps.map((s) => [s.id, s.parts.length])).toEqual([
      ['index', 1],
      ['pick-down', 2],
      ['grip-close', 2],
      ['lift-and-label', 3],
      ['label-press', 1],
      ['release', 4],
    ]);
    const index = plan.steps[0]!.parts[0]!;
    // No compensate given: a motion step's safe move defaults to a stop of its drive.
    expect(index).toMatchObject({
      kind: 'command',
      drive: 'axis-1',
      station: 'conveyor',
      action: { type: 'moveTo', position: 5000, velocity: 50000, acceleration: 500000 },
      compensate: { drive: 'axis-1', action: { type: 'stop' } },
      timeoutMs: 3000,
    });
    expect(plan.steps[1]!.parts[0]).toMatchObject({
      compensate: { drive: 'axis-2', action: { type: 'moveTo', position: 0, velocity: 20000 } },
      timeoutMs: 3000,
    });
    expect(plan.steps[4]!.parts[0]).toEqual({ kind: 'dwell', station: 'label', ms: 100 });
    expect(plan.autoRejoin).toBe(true);
  });

  it('accepts jog, waitFor and explicit compensations, with defaults named', () => {
    const plan = planLine(
      withCycle([
        { jog: { drive: 'axis-1', velocity: 2000 }, compensate: { jog: { velocity: 0 } } },
        { waitFor: { drive: 'axis-1', position: 100 }, timeoutMs: 1500 },
        { moveTo: { drive: 'dxl-1', position: 100 }, compensate: 'none' },
        {
          moveTo: { drive: 'axis-2', position: 5 },
          compensate: { moveTo: { drive: 'axis-3', position: 0 } },
        },
      ]),
      'line-1',
    );
    expect(plan.steps.map((s) => s.id)).toEqual(['s0-jog', 's1-waitFor', 's2-moveTo', 's3-moveTo']);
    expect(plan.steps[0]!.parts[0]).toMatchObject({
      action: { type: 'jog', velocity: 2000 },
      compensate: { drive: 'axis-1', action: { type: 'jog', velocity: 0 } },
      timeoutMs: 5000,
    });
    expect(plan.steps[1]!.parts[0]).toEqual({
      kind: 'waitFor',
      drive: 'axis-1',
      station: 'conveyor',
      until: { position: 100, tolerance: 20 },
      timeoutMs: 1500,
    });
    expect(plan.steps[2]!.parts[0]).toMatchObject({ compensate: null });
    expect(plan.steps[3]!.parts[0]).toMatchObject({
      compensate: { drive: 'axis-3', action: { type: 'moveTo', position: 0 } },
    });
  });

  it('reports every problem at once, each with its JSON pointer', () => {
    const found = issues([
      { moveTo: { drive: 'axis-9', position: 1 } },
      { moveTo: { drive: 'axis-1', position: 1 }, dwell: 5 },
      { fly: { drive: 'axis-1' } },
      { moveTo: { drive: 'axis-1', position: 900000, velocty: 5 } },
      { moveTo: { drive: 'axis-1', position: 900000, velocity: 90000 } },
      { jog: { drive: 'dxl-1', velocity: 10 } },
      { id: 'twice', dwell: 10 },
      { id: 'twice', dwell: 10 },
      {
        parallel: [
          { moveTo: { drive: 'axis-2', position: 1 } },
          { moveTo: { drive: 'axis-2', position: 2 } },
          { dwell: 5 },
        ],
      },
      { waitFor: { drive: 'axis-1' } },
      { dwell: 10, station: 'paint' },
      { moveTo: { drive: 'axis-1', position: 1 }, station: 'pick' },
      { moveTo: { drive: 'axis-1', position: 1 }, compensate: { undo: {} } },
      { moveTo: { drive: 'axis-1', position: 1 }, timeoutMs: 0 },
    ]);
    const at = (i: number | string) => `/lines/0/cycle/${i}`;
    expect(found).toEqual(
      expect.arrayContaining([
        { path: `${at(0)}/moveTo/drive`, message: "drive 'axis-9' is in no station of the line" },
        {
          path: at(1),
          message: expect.stringContaining('exactly one of moveTo, jog, waitFor, dwell, parallel'),
        },
        { path: at(2), message: expect.stringContaining('exactly one of') },
        { path: `${at(3)}/moveTo/velocty`, message: 'unknown field' },
        {
          path: `${at(4)}/moveTo/position`,
          message: "position 900000 outside drive 'axis-1' limits [-100000, 100000]",
        },
        {
          path: `${at(4)}/moveTo/velocity`,
          message: "velocity 90000 above drive 'axis-1' limit 50000",
        },
        {
          path: `${at(5)}/jog`,
          message: "drive 'dxl-1' (Dynamixel) does not take jog: use moveTo",
        },
        { path: `${at(7)}/id`, message: "step id 'twice' is already used by step 6" },
        {
          path: `${at(8)}/parallel/1/moveTo/drive`,
          message: "drive 'axis-2' already acts in part 0 of this parallel step",
        },
        {
          path: `${at(8)}/parallel/2`,
          message: expect.stringContaining('a parallel part is an object'),
        },
        {
          path: `${at(9)}/waitFor`,
          message: 'give at least one of position, state, targetReached',
        },
        { path: `${at(10)}/station`, message: "no station 'paint' in the line" },
        {
          path: `${at(11)}/station`,
          message: "drive 'axis-1' belongs to station 'conveyor', not 'pick'",
        },
        { path: `${at(12)}/compensate`, message: expect.stringContaining("compensate is 'none'") },
        { path: `${at(13)}/timeoutMs`, message: expect.stringContaining('greater or equal to 1') },
      ]),
    );
    expect(found).toHaveLength(15);
  });

  it('refuses a line without a cycle, and a line that does not exist', () => {
    const raw = parseYaml(demoText) as { lines: Record<string, unknown>[] };
    delete raw.lines[0]!.cycle;
    const fleet = parseFleet(stringify(raw));
    expect(() => planLine(fleet, 'line-1')).toThrow(/has no cycle/);
    expect(() => planLine(fleet, 'line-9')).toThrow(
      expect.objectContaining({
        code: 'LINE_NOT_FOUND',
        message: "no line 'line-9' in the fleet file (lines: line-1)",
      }),
    );
  });
});
