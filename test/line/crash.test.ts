/**
 * kill -9 of the line controller (a child process: `servofleet line`) in the middle of a
 * step, then a restart on the same saga log: the interrupted cycle is resumed (or, past
 * the resume window, compensated), what it did is reported as a `recovery` event, and
 * no command runs twice — each of the line's commandIds is `received` exactly once by
 * the device services (a resend of a known commandId is answered from their cache),
 * and the simulated axes end where the cycle (or its compensation) puts them.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parseLog } from '../../services/line/src/index.ts';
import { type LineRig, receivedCounts, startLineRig } from './harness.ts';

describe('line controller killed with SIGKILL mid-step', () => {
  let r: LineRig | undefined;
  afterEach(async () => {
    await r?.close();
    r = undefined;
  });

  /** Start the line in a child, kill it while axis-2 executes the pick-down of the second cycle. */
  async function killMidStep(rig: LineRig): Promise<{ commandId: string; cycle: number }> {
    rig.spawnChild();
    await rig.w.next(
      (m) => m.topic === 'servofleet/lines/line-1/events' && m.json.type === 'recovery',
      'child controller up',
      30_000,
    );
    expect(await rig.command('start')).toMatchObject({ status: 'completed' });
    const first = await rig.w.next(
      (m) => m.topic === 'servofleet/lines/line-1/events' && m.json.type === 'cycle',
      'first cycle',
    );
    const cycle = Number(first.json.cycle) + 1;
    const accepted = await rig.w.next(
      (m) =>
        m.topic === 'servofleet/drives/axis-2/events' &&
        m.json.phase === 'accepted' &&
        m.json.commandId === `line-1-${cycle}-1-axis-2`,
      'second cycle pick-down under way',
      30_000,
    );
    rig.child!.kill('SIGKILL');
    await new Promise<void>((res) => rig.child!.once('exit', () => res()));
    // The broker publishes the controller's last will.
    await rig.w.next(
      (m) =>
        m.topic === 'servofleet/services/line-line-1/availability' && m.json.status === 'offline',
      'last will of the killed controller',
      15_000,
    );
    return { commandId: String(accepted.json.commandId), cycle };
  }

  function noCommandTwice(rig: LineRig): void {
    const counts = receivedCounts(rig.w, 'line-1-');
    expect(counts.size).toBeGreaterThan(10);
    const twice = [...counts].filter(([, n]) => n !== 1);
    expect(twice).toEqual([]);
  }

  it('restarted at once: the cycle resumes, the in-flight command is resent with its commandId, nothing runs twice', async () => {
    r = await startLineRig();
    const { commandId: inFlight, cycle } = await killMidStep(r);
    const from = r.w.messages.length;
    r.spawnChild();
    const rec = await r.w.next(
      (m) => m.topic === 'servofleet/lines/line-1/events' && m.json.type === 'recovery',
      'recovery event',
      30_000,
      from,
    );
    expect(rec.json).toMatchObject({ action: 'resumed', cycle });
    expect(rec.json.resent).toContain(inFlight);
    // The resumed cycle completes, and the line cycles on.
    await r.w.next(
      (m) =>
        m.topic === 'servofleet/lines/line-1/events' &&
        m.json.type === 'cycle' &&
        m.json.cycle === cycle &&
        m.json.phase === 'completed',
      'the interrupted cycle completed after the restart',
      20_000,
      from,
    );
    await r.waitState((s) => Number(s.cyclesCompleted) >= 3, 'one more cycle completed', 20_000);
    expect(await r.command('stop')).toMatchObject({ status: 'completed', state: 'STOPPED' });
    noCommandTwice(r);
    // The resent command was answered from the device's cache: completed, one execution.
    const phases = r.w.messages
      .filter((m) => m.topic === 'servofleet/drives/axis-2/events' && m.json.commandId === inFlight)
      .map((m) => m.json.phase);
    expect(phases).toEqual(['received', 'accepted', 'completed']);
    // Stopped at a cycle boundary: every axis where the cycle ends.
    for (const id of ['axis-1', 'axis-2', 'axis-3', 'axis-4']) {
      expect(Math.abs(r.rig.sim.drive(id).positionActual())).toBeLessThanOrEqual(20);
    }
    // The saga log has the intent of the in-flight command before its result.
    const log = parseLog(readFileSync(r.sagaLogPath, 'utf8')).records;
    const intent = log.findIndex((x) => x.t === 'intent' && x.commandId === inFlight);
    const result = log.findIndex((x) => x.t === 'result' && x.commandId === inFlight);
    expect(intent).toBeGreaterThanOrEqual(0);
    expect(result).toBeGreaterThan(intent);
  }, 90_000);

  it('restarted past the resume window: the cycle is compensated to safe positions, nothing runs twice', async () => {
    r = await startLineRig();
    const { commandId: inFlight, cycle } = await killMidStep(r);
    const from = r.w.messages.length;
    r.spawnChild(['--resume-within', '0']);
    const rec = await r.w.next(
      (m) => m.topic === 'servofleet/lines/line-1/events' && m.json.type === 'recovery',
      'recovery event',
      30_000,
      from,
    );
    expect(rec.json).toMatchObject({ action: 'compensated', cycle });
    expect(rec.json.resent).toContain(inFlight);
    const s = await r.waitState(
      (s) => s.state === 'STOPPED',
      'line STOPPED after compensation',
      30_000,
    );
    expect(String(s.reason)).toContain('recovery');
    expect(s.compensations).toBe(1);
    noCommandTwice(r);
    // Compensated: the pick axes retracted, the gripper open, the conveyor halted.
    expect(Math.abs(r.rig.sim.drive('axis-2').positionActual())).toBeLessThanOrEqual(20);
    expect(Math.abs(r.rig.sim.drive('axis-3').positionActual())).toBeLessThanOrEqual(20);
    expect(Math.abs(r.rig.sim.drive('dxl-1').positionActual() - 2048)).toBeLessThanOrEqual(25);
    expect(Math.abs(r.rig.sim.drive('dxl-2').positionActual() - 2048)).toBeLessThanOrEqual(25);
    const comps = [...receivedCounts(r.w, `line-1-${cycle}-`).keys()].filter((id) =>
      id.endsWith('-comp'),
    );
    expect(comps).toEqual(
      expect.arrayContaining([`line-1-${cycle}-1-axis-2-comp`, `line-1-${cycle}-1-axis-3-comp`]),
    );
  }, 90_000);
});
