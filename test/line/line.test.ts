/**
 * The line controller against the simulator and the device services (aedes, in-memory
 * links): the demo line cycles; a dead drive of the bypassable station is bypassed and
 * rejoins at a cycle boundary; a dead drive of a non-bypassable station makes the line
 * compensate and safe-stop; estop reaches every drive even when one's breaker is open.
 * Everything asserted is what a subscriber sees on MQTT and what the simulated drives do.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, LINE_DRIVES, type LineRig, receivedCounts, startLineRig } from './harness.ts';

const DRIVE_EVENTS = /^servofleet\/drives\/([^/]+)\/events$/;

describe('line controller on the simulator', () => {
  let r: LineRig | undefined;
  afterEach(async () => {
    await r?.close();
    r = undefined;
  });

  async function running(): Promise<LineRig> {
    r = await startLineRig();
    await r.startInProcess();
    await r.waitState((s) => s.state === 'IDLE', 'line IDLE');
    expect(await r.command('start')).toMatchObject({ status: 'completed', state: 'RUNNING' });
    return r;
  }

  const cycles = (rig: LineRig) => Number(rig.latestState()?.cyclesCompleted ?? 0);

  it('the demo line cycles: cycles complete and every drive moves', async () => {
    const rig = await running();
    // Sample the simulated drives (their true state) while the line runs.
    const travel = new Map<string, { min: number; max: number }>();
    const sampler = setInterval(() => {
      for (const id of LINE_DRIVES) {
        const p = rig.rig.sim.drive(id).positionActual();
        const t = travel.get(id) ?? { min: p, max: p };
        travel.set(id, { min: Math.min(t.min, p), max: Math.max(t.max, p) });
      }
    }, 10);
    try {
      await rig.waitState((s) => Number(s.cyclesCompleted) >= 3, '3 cycles completed', 30_000);
    } finally {
      clearInterval(sampler);
    }
    expect(await rig.command('stop')).toMatchObject({ status: 'completed', state: 'STOPPED' });
    // Its own availability, and its admin endpoints.
    expect(rig.w.latest('servofleet/services/line-line-1/availability')?.json.status).toBe(
      'online',
    );
    const admin = rig.line!.adminUrl;
    expect((await fetch(`${admin}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${admin}/readyz`)).json()).toMatchObject({
      status: 'ready',
      details: { mqtt: 'connected', state: 'STOPPED' },
    });
    const metrics = await (await fetch(`${admin}/metrics`)).text();
    expect(metrics).toMatch(/servofleet_line_cycles_total\{[^}]*outcome="completed"[^}]*\} [3-9]/);
    const state = rig.latestState()!;
    expect(state).toMatchObject({ state: 'STOPPED', bypassedStations: [], compensations: 0 });
    expect(Number(state.lastCycleMs)).toBeGreaterThan(0);
    // Each drive went where the cycle sends it (sf-servo counts; xm430 counts around 2048).
    expect(travel.get('axis-1')!.max).toBeGreaterThan(4900);
    expect(travel.get('axis-2')!.max).toBeGreaterThan(5900);
    expect(travel.get('axis-3')!.min).toBeLessThan(-5900);
    expect(travel.get('axis-4')!.max).toBeGreaterThan(4900);
    expect(travel.get('dxl-1')!.max).toBeGreaterThan(2550);
    expect(travel.get('dxl-2')!.min).toBeLessThan(1550);
    // Stopped at a cycle boundary: where the cycle ends.
    for (const id of ['axis-1', 'axis-2', 'axis-3', 'axis-4']) {
      expect(Math.abs(rig.rig.sim.drive(id).positionActual())).toBeLessThanOrEqual(20);
    }
    // Every part of the first cycle completed on its drive: 12 commands (a reply lost on
    // the wire is issued again as `…-r1`, which must then complete).
    const first = rig.events().find((e) => e.type === 'cycle' && e.phase === 'started')!.cycle;
    const finals = rig.w.messages.filter(
      (m) =>
        DRIVE_EVENTS.test(m.topic) &&
        m.json.type === 'command' &&
        String(m.json.commandId).startsWith(`line-1-${first}-`) &&
        m.json.phase !== 'received' &&
        m.json.phase !== 'accepted',
    );
    const parts = new Set(finals.map((m) => String(m.json.commandId).replace(/-r\d+$/, '')));
    expect(parts.size).toBe(12);
    const incomplete = [...parts].filter(
      (id) =>
        !finals.some(
          (m) =>
            String(m.json.commandId).replace(/-r\d+$/, '') === id && m.json.phase === 'completed',
        ),
    );
    expect(incomplete).toEqual([]);
    // And none twice.
    const twice = [...receivedCounts(rig.w, 'line-1-')].filter(([, n]) => n !== 1);
    expect(twice).toEqual([]);
  }, 60_000);

  it('a dead drive of the bypassable station: the station is bypassed, cycles go on, it rejoins at a cycle boundary', async () => {
    const rig = await running();
    await rig.waitState((s) => Number(s.cyclesCompleted) >= 1, 'first cycle');
    const from = rig.w.messages.length;
    rig.rig.sim.inject({ drive: 'axis-4', fault: 'no-response' });
    const bypassed = await rig.w.next(
      (m) =>
        m.topic.endsWith('/lines/line-1/events') &&
        m.json.type === 'station' &&
        m.json.change === 'bypassed',
      'label bypassed',
      15_000,
      from,
    );
    expect(bypassed.json).toMatchObject({ station: 'label' });
    // Two cycles that started without the station complete, and nothing went to axis-4 in them.
    const withoutLabel = () => {
      const ev = rig.events(from).filter((e) => e.type === 'cycle');
      const started = ev
        .filter((e) => e.phase === 'started' && (e.bypassedStations as string[]).includes('label'))
        .map((e) => e.cycle);
      return ev
        .filter((e) => e.phase === 'completed' && started.includes(e.cycle))
        .map((e) => Number(e.cycle));
    };
    const done = await eventually(
      () => (withoutLabel().length >= 2 ? withoutLabel() : undefined),
      'two cycles without the label station',
      20_000,
    );
    expect(rig.latestState()).toMatchObject({ state: 'RUNNING', bypassedStations: ['label'] });
    for (const c of done) {
      const ids = [...receivedCounts(rig.w, `line-1-${c}-`).keys()];
      expect(ids.length).toBeGreaterThan(0);
      expect(ids.some((id) => id.endsWith('axis-4'))).toBe(false);
    }

    const mark = rig.w.messages.length;
    rig.rig.sim.clear({ drive: 'axis-4' });
    const rejoined = await rig.w.next(
      (m) =>
        m.topic.endsWith('/lines/line-1/events') &&
        m.json.type === 'station' &&
        m.json.change === 'rejoined',
      'label rejoined',
      20_000,
      mark,
    );
    expect(rejoined.json.station).toBe('label');
    // At a cycle boundary: the last cycle event before it ended a cycle, the next one starts one.
    const lineEvents = rig.w.messages.filter((m) => m.topic.endsWith('/lines/line-1/events'));
    const i = lineEvents.indexOf(rejoined);
    const before = lineEvents
      .slice(0, i)
      .reverse()
      .find((m) => m.json.type === 'cycle' || m.json.type === 'step');
    expect(before?.json).toMatchObject({ type: 'cycle', phase: 'completed' });
    const next = await rig.w.next(
      (m) =>
        m.topic.endsWith('/lines/line-1/events') &&
        m.json.type === 'cycle' &&
        m.json.phase === 'completed',
      'a cycle with the label station',
      15_000,
      rig.w.messages.indexOf(rejoined),
    );
    expect(next.json.bypassedStations).toEqual([]);
    expect(
      [...receivedCounts(rig.w, `line-1-${String(next.json.cycle)}-`).keys()].some((id) =>
        id.endsWith('axis-4'),
      ),
    ).toBe(true);
    expect(rig.latestState()).toMatchObject({ state: 'RUNNING', bypassedStations: [] });
  }, 60_000);

  it('a dead drive of a non-bypassable station: the line compensates, stops every drive and is FAULTED', async () => {
    const rig = await running();
    await rig.waitState((s) => Number(s.cyclesCompleted) >= 1, 'first cycle');
    // In the middle of a pick move.
    await rig.w.next(
      (m) =>
        m.topic === 'servofleet/drives/axis-2/events' &&
        m.json.phase === 'accepted' &&
        /^line-1-\d+-1-axis-2$/.test(String(m.json.commandId)),
      'axis-2 picking down',
      15_000,
      rig.w.messages.length,
    );
    const from = rig.w.messages.length;
    rig.rig.sim.inject({ drive: 'axis-2', fault: 'no-response' });
    const s = await rig.waitState((s) => s.state === 'FAULTED', 'line FAULTED', 20_000);
    expect(String(s.reason)).toContain('axis-2');
    expect(s.compensations).toBe(1);
    const ev = rig.events(from);
    const comp = ev.filter((e) => e.type === 'compensation');
    expect(comp.map((e) => e.phase)).toEqual(['started', 'completed']);
    // The compensation of axis-2 itself fails (it is dead); the others ran.
    expect((comp[1]!.failed as { driveId: string }[]).map((f) => f.driveId)).toContain('axis-2');
    expect(ev.some((e) => e.type === 'cycle' && e.phase === 'compensated')).toBe(true);
    // Every drive of the line ends stopped: no motion in the simulator.
    await eventually(
      () => LINE_DRIVES.every((id) => Math.abs(rig.rig.sim.drive(id).snapshot().velocity) < 1),
      'every drive at standstill',
      10_000,
    );
    // The pick station's live axis was retracted to its safe position.
    expect(Math.abs(rig.rig.sim.drive('axis-3').positionActual())).toBeLessThanOrEqual(20);
    // Nothing moves afterwards.
    const after = rig.w.messages.length;
    await new Promise((res) => setTimeout(res, 500));
    expect(
      rig.w.messages
        .slice(after)
        .some(
          (m) =>
            DRIVE_EVENTS.test(m.topic) &&
            m.json.phase === 'received' &&
            m.json.commandType === 'moveTo',
        ),
    ).toBe(false);
  }, 60_000);

  it('estop reaches every drive even with one drive breaker open, and only reset clears it', async () => {
    const rig = await running();
    rig.rig.sim.inject({ drive: 'axis-4', fault: 'no-response' });
    await rig.w.next(
      (m) =>
        m.topic === 'servofleet/drives/axis-4/events' &&
        m.json.type === 'breaker' &&
        m.json.state === 'open',
      'axis-4 breaker open',
      15_000,
    );
    const from = rig.w.messages.length;
    const reply = await rig.command('estop');
    expect(reply).toMatchObject({
      status: 'failed',
      state: 'ESTOPPED',
      error: { code: 'DRIVE_UNREACHABLE' },
    });
    expect(String((reply.error as { message: string }).message)).toContain('axis-4');
    // Every drive got its quickStop, axis-4 included (answered DRIVE_UNREACHABLE: breaker open).
    const quick = rig.w.messages
      .slice(from)
      .filter((m) => DRIVE_EVENTS.test(m.topic) && m.json.commandType === 'quickStop');
    for (const id of LINE_DRIVES) {
      expect(quick.some((m) => m.json.driveId === id && m.json.phase === 'received')).toBe(true);
    }
    const axis4 = quick.find((m) => m.json.driveId === 'axis-4' && m.json.phase === 'failed');
    expect(axis4?.json.error).toMatchObject({ code: 'DRIVE_UNREACHABLE' });
    for (const id of LINE_DRIVES.filter((d) => d !== 'axis-4')) {
      expect(quick.some((m) => m.json.driveId === id && m.json.phase === 'completed')).toBe(true);
    }
    // The estop's own event; the guard's quickStops to a drive enabled again (a
    // motion command still being set up) are `resent` events of one drive each.
    const estop = rig.events(from).find((e) => e.type === 'estop' && !e.resent);
    expect((estop!.results as unknown[]).length).toBe(6);
    await eventually(
      () =>
        ['axis-1', 'axis-2', 'axis-3'].every(
          (id) => rig.rig.sim.drive(id).state === 'QUICK_STOP_ACTIVE',
        ),
      'the sf-servo axes in QUICK_STOP_ACTIVE',
      5000,
    );
    await eventually(
      () => LINE_DRIVES.every((id) => Math.abs(rig.rig.sim.drive(id).snapshot().velocity) < 1),
      'every drive at standstill',
      10_000,
    );
    expect(rig.latestState()).toMatchObject({ state: 'ESTOPPED' });
    // Only reset clears it.
    expect(await rig.command('start')).toMatchObject({
      status: 'rejected',
      error: { code: 'INVALID_STATE' },
      state: 'ESTOPPED',
    });
    expect(await rig.command('reset')).toMatchObject({ status: 'completed', state: 'IDLE' });
    rig.rig.sim.clear({ drive: 'axis-4' });
    await rig.w.next(
      (m) => m.topic === 'servofleet/drives/axis-4/availability' && m.json.status === 'online',
      'axis-4 online again',
      15_000,
      from,
    );
    expect(await rig.command('start')).toMatchObject({ status: 'completed', state: 'RUNNING' });
    const c = cycles(rig);
    await rig.waitState((s) => Number(s.cyclesCompleted) > c, 'cycling again after reset', 15_000);
  }, 60_000);
});
