import { describe, expect, it, vi } from 'vitest';
import { DriveBreaker, PROBE_EARLY_MS } from '../../src/bus/breaker.ts';
import { BusError } from '../../src/bus/index.ts';
import { pollsIn, rigBus, runFor, runUntil, SF, settle, simRig, TestClock } from './harness.ts';

describe('a dead unit on a Modbus bus (per-drive circuit breaker)', () => {
  it('opens its breaker, costs the others nothing, is probed ever less often, and comes back by itself', async () => {
    const rig = simRig('modbus-rtu');
    const { bus, spy, polls } = rigBus(rig, 'modbus-rtu', {
      breaker: { failures: 3, probeInitialMs: 500, probeMaxMs: 10_000 },
    });
    const breaker: { s: string; at: number }[] = [];
    const avail: { a: string; reason: string }[] = [];
    bus.onBreaker((id, s) => {
      if (id === 'axis-2') breaker.push({ s, at: rig.clock.now() });
    });
    bus.onAvailability((id, a, reason) => {
      if (id === 'axis-2') avail.push({ a, reason });
    });
    bus.start();
    await runFor(rig, 500);
    expect(bus.availability('axis-2')).toBe('online');

    rig.sim.inject({ drive: 'axis-2', fault: 'no-response' });
    const faultAt = rig.clock.now();
    await runUntil(rig, () => breaker.length > 0, 1000);
    // Three polls at 20 Hz, three timeouts: the breaker opens, the drive is unreachable.
    expect(breaker[0]!.s).toBe('open');
    expect(bus.availability('axis-2')).toBe('unreachable');
    expect(avail.at(-1)).toMatchObject({ a: 'unreachable' });
    expect(avail.at(-1)!.reason).toMatch(/circuit breaker open: axis-2: no valid answer/);
    expect(bus.stats().drives['axis-2']!.timeouts).toBe(3);

    // While it is open, writes fail fast and send nothing.
    const sent = spy.modbusRequests().length;
    await expect(
      bus.write('axis-2', [['controlword', 0x02]], { priority: 'high' }),
    ).rejects.toMatchObject({ code: 'DRIVE_UNREACHABLE' });
    await expect(bus.read('axis-2', ['statusword'])).rejects.toMatchObject({
      code: 'DRIVE_UNREACHABLE',
    });
    expect(spy.modbusRequests().length).toBe(sent);

    // Ten seconds of a dead unit: the other three keep their full 20 Hz.
    const from = rig.clock.wallNow();
    await runFor(rig, 10_000);
    const to = rig.clock.wallNow();
    for (const id of ['axis-1', 'axis-3', 'axis-4']) {
      expect(pollsIn(polls, id, from, to)).toBeGreaterThanOrEqual(199);
      expect(bus.stats().drives[id]!.timeouts).toBe(0);
    }
    // ... and axis-2 costs one probe now and then, each later than the one before.
    const openedAt = breaker[0]!.at;
    const probes = spy
      .modbusRequests()
      .filter((q) => q.unit === 2 && q.at > openedAt)
      .map((q) => q.at);
    expect(probes.length).toBeGreaterThanOrEqual(4);
    expect(probes.length).toBeLessThanOrEqual(6);
    const gaps = [probes[0]! - openedAt, ...probes.slice(1).map((t, i) => t - probes[i]!)];
    for (let i = 2; i < gaps.length; i++) expect(gaps[i]).toBeGreaterThan(gaps[i - 2]!);
    for (const g of gaps) expect(g).toBeLessThanOrEqual(10_000 + 50);
    expect(breaker.map((b) => b.s)).toContain('half-open');
    expect(bus.breakerState('axis-2')).toBe('open');
    expect(avail.filter((a) => a.a === 'online')).toHaveLength(1); // only the first answer
    expect(faultAt).toBeLessThan(openedAt);

    // The unit comes back: the next probe closes the breaker and polling resumes.
    rig.sim.clear();
    const back = await runUntil(rig, () => bus.availability('axis-2') === 'online', 20_000);
    expect(back).toBe(true);
    expect(bus.breakerState('axis-2')).toBe('closed');
    expect(breaker.at(-1)!.s).toBe('closed');
    const resumed = rig.clock.wallNow();
    await runFor(rig, 1000);
    expect(pollsIn(polls, 'axis-2', resumed, rig.clock.wallNow())).toBeGreaterThanOrEqual(19);
    expect(await settle(rig, bus.write('axis-2', [['targetPosition', 42]]))).toEqual({
      ok: undefined,
    });
    await settle(rig, bus.stop());
  });

  it('unanswered writes count too: three TIMEOUTs open it, the next write fails fast', async () => {
    const rig = simRig('modbus-rtu');
    const { bus } = rigBus(rig, 'modbus-rtu', {
      drives: [{ id: 'axis-1', unit: 1, profile: SF, pollHz: 1 }],
    });
    bus.start();
    await runFor(rig, 100);
    rig.sim.inject({ drive: 'axis-1', fault: 'no-response' });
    for (let i = 0; i < 3; i++) {
      const r = await settle(rig, bus.write('axis-1', [['targetPosition', i]]));
      expect(r).toMatchObject({ err: { code: 'TIMEOUT' } });
    }
    expect(bus.breakerState('axis-1')).toBe('open');
    const r = await settle(rig, bus.write('axis-1', [['targetPosition', 9]]));
    expect(r).toMatchObject({ err: { code: 'DRIVE_UNREACHABLE' } });
    await settle(rig, bus.stop());
  });
});

describe('DriveBreaker', () => {
  it('is timed by the injected clock, not Date.now(); refusals do not count as failures', async () => {
    const now = vi.spyOn(Date, 'now').mockReturnValue(0); // the wall clock stands still
    try {
      const clock = new TestClock(0);
      const states: string[] = [];
      const b = new DriveBreaker(clock, { failures: 2, probeInitialMs: 100 }, (s) =>
        states.push(s),
      );
      const refused = () =>
        Promise.reject(new BusError('DRIVE_REJECTED', 'exception 03', { wireCode: 3 }));
      for (let i = 0; i < 5; i++) {
        await expect(b.execute('d', refused)).rejects.toMatchObject({ code: 'DRIVE_REJECTED' });
      }
      expect(b.state).toBe('closed');
      const timeout = () => Promise.reject(new BusError('TIMEOUT', 'no answer'));
      await expect(b.execute('d', timeout)).rejects.toMatchObject({ code: 'TIMEOUT' });
      await expect(b.execute('d', timeout)).rejects.toMatchObject({ code: 'TIMEOUT' });
      expect(b.state).toBe('open');
      const due = b.probeDueAt!;
      expect(due).toBeGreaterThanOrEqual(50); // [d/2, d) with d = 100
      expect(due).toBeLessThan(100);
      let ran = false;
      const probe = async () => {
        ran = true;
        return 7;
      };
      // Not due yet (beyond the PROBE_EARLY_MS allowance for early wall-clock timers).
      clock.advance(due - PROBE_EARLY_MS - 1);
      await expect(b.execute('d', probe)).rejects.toMatchObject({ code: 'DRIVE_UNREACHABLE' });
      expect(ran).toBe(false);
      clock.advance(PROBE_EARLY_MS + 1);
      await expect(b.execute('d', probe)).resolves.toBe(7);
      expect(states).toEqual(['open', 'half-open', 'closed']);
    } finally {
      now.mockRestore();
    }
  });
});
