/**
 * A stop or quick stop ends everything asked before it, in any phase: a moveTo still
 * writing its set-point must not re-enable the drive after the quick stop, and the
 * commands queued behind it are never sent. The real bus and command runner against
 * the simulator, on one manual clock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Command, Reply } from '../../../contract/src/index.ts';
import { CommandRunner } from '../../src/commands/command-runner.ts';
import type { Poll } from '../../src/commands/context.ts';
import { normalizeCia402 } from '../../src/drive/drive-view.ts';
import { rigBus, runFor, runUntil, SF, settle, simRig } from '../bus/harness.ts';

const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

async function enabledDrive() {
  const rig = simRig('modbus-rtu');
  const { bus, spy } = rigBus(rig, 'modbus-rtu');
  stops.push(() => settle(rig, bus.stop()));
  let latest: Poll | undefined;
  const waiters = new Set<() => void>();
  bus.onPoll((id, values, at) => {
    if (id !== 'axis-1') return;
    latest = { values, state: normalizeCia402(values), at };
    for (const w of waiters) w();
  });
  const runner = new CommandRunner({
    ctx: {
      driveId: 'axis-1',
      kind: 'cia402',
      profile: SF,
      limits: {},
      bus,
      clock: rig.clock,
      latest: () => latest,
      waitForPoll: (ok, after, timeoutMs, signal) =>
        new Promise<Poll | undefined>((resolve) => {
          const end = (p: Poll | undefined) => {
            waiters.delete(check);
            rig.clock.clearTimer(timer);
            resolve(p);
          };
          const check = () => {
            if (signal.aborted) end(undefined);
            else if (latest && latest.at > after && ok(latest)) end(latest);
          };
          const timer = rig.clock.setTimer(timeoutMs, () => end(undefined));
          signal.addEventListener('abort', () => end(undefined), { once: true });
          waiters.add(check);
        }),
    },
    availability: () => bus.availability('axis-1') ?? 'unreachable',
  });
  const finals = new Map<string, Reply>();
  const submit = (cmd: Command) =>
    runner.submit(cmd, (r) => {
      if (r.status !== 'accepted') finals.set(r.commandId, r);
    });
  bus.start();
  await runFor(rig, 200);
  submit({ commandId: 'en', type: 'enable' } as Command);
  expect(await runUntil(rig, () => finals.has('en'), 2000)).toBe(true);
  expect(finals.get('en')?.status).toBe('completed');
  await runFor(rig, 200); // a poll shows OPERATION_ENABLED
  return { rig, spy, finals, submit };
}

describe('stop and quick stop preempt everything asked before them', () => {
  it('a quick stop during a moveTo set-up: the moveTo ends ABORTED, the drive stays quick-stopped and does not move', async () => {
    const { rig, spy, finals, submit } = await enabledDrive();
    const from = spy.events.length;
    // Same tick: the moveTo is still writing its target when the quick stop arrives.
    submit({ commandId: 'mv', type: 'moveTo', position: 50_000, velocity: 40_000 } as Command);
    submit({ commandId: 'qs', type: 'quickStop' } as Command);
    submit({ commandId: 'after', type: 'moveTo', position: 1000 } as Command);
    expect(await runUntil(rig, () => finals.has('mv') && finals.has('qs'), 2000)).toBe(true);
    await runFor(rig, 1000);

    expect(finals.get('qs')).toMatchObject({ status: 'completed' });
    expect(finals.get('mv')).toMatchObject({ status: 'failed', error: { code: 'ABORTED' } });
    // A command sent after the quick stop is judged on its own: refused in QUICK_STOP_ACTIVE.
    expect(finals.get('after')?.status).not.toBe('completed');
    const drive = rig.sim.drive('axis-1');
    expect(drive.state).toBe('QUICK_STOP_ACTIVE');
    expect(Math.abs(drive.positionActual())).toBeLessThanOrEqual(10);
    // Nothing of the moveTo was written after the quick stop's controlword.
    const writes = spy
      .modbusRequests(from)
      .filter((q) => q.pdu.fc === 0x06 || q.pdu.fc === 0x10)
      .map((q) => q.pdu);
    const qsAt = writes.findIndex((p) => 'value' in p && p.value === 0x02);
    expect(qsAt).toBeGreaterThanOrEqual(0);
    expect(writes.slice(qsAt + 1)).toEqual([]);
  });

  it('commands queued behind the running one end ABORTED without being sent', async () => {
    const { rig, finals, submit } = await enabledDrive();
    submit({ commandId: 'mv1', type: 'moveTo', position: 20_000, velocity: 40_000 } as Command);
    submit({ commandId: 'sm', type: 'setMode', mode: 'PV' } as Command);
    submit({ commandId: 'mv2', type: 'moveTo', position: -20_000 } as Command);
    submit({ commandId: 'st', type: 'stop' } as Command);
    expect(await runUntil(rig, () => finals.size >= 5, 5000)).toBe(true);
    expect(finals.get('st')).toMatchObject({ status: 'completed' });
    for (const id of ['mv1', 'sm', 'mv2']) {
      expect(finals.get(id)).toMatchObject({ status: 'failed', error: { code: 'ABORTED' } });
    }
    expect(finals.get('sm')?.error?.message).toMatch(/interrupted by stop st: not sent/);
    // Still in profile position mode: the queued setMode never reached the drive.
    expect(rig.sim.drive('axis-1').read('modesOfOperationDisplay')).toBe(1);
  });
});
