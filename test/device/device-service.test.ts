/**
 * The device service as a dashboard and a controller see it over MQTT, against the
 * simulator (in-memory links, wall clock) and the embedded aedes broker (MQTT 3.1.1).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Rig, startRig, Watcher } from './harness.ts';

const DRIVES = ['axis-1', 'axis-2', 'axis-3', 'axis-4', 'dxl-1', 'dxl-2'];

describe('device service over MQTT (aedes, in-memory links)', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig('aedes');
  });
  afterAll(async () => {
    await rig?.close();
  });

  it('a late subscriber sees retained meta, state and online for every drive', async () => {
    const w = rig.watcher;
    for (const id of DRIVES) {
      await w.next(
        (m) => m.topic === `servofleet/drives/${id}/availability` && m.json.status === 'online',
        `${id} online`,
      );
      await w.next((m) => m.topic === `servofleet/drives/${id}/state`, `${id} state`);
    }
    const late = await Watcher.connect(rig.broker.url, [
      'servofleet/drives/+/meta',
      'servofleet/drives/+/state',
      'servofleet/drives/+/availability',
    ]);
    try {
      for (const id of DRIVES) {
        const meta = await late.next(
          (m) => m.topic === `servofleet/drives/${id}/meta`,
          `${id} meta`,
        );
        expect(meta.retain).toBe(true);
        expect(meta.json).toMatchObject({
          driveId: id,
          contractVersion: 1,
          link: id.startsWith('axis') ? 'bus-a' : 'bus-b',
        });
        // The retained one: a live state message (retain flag off) may come first, as
        // states change while the subscription is made.
        const state = await late.next(
          (m) => m.topic === `servofleet/drives/${id}/state` && m.retain,
          `${id} retained state`,
        );
        expect(state.json).toMatchObject({
          driveId: id,
          cia402: 'SWITCH_ON_DISABLED',
          fault: null,
        });
        const a = await late.next(
          (m) => m.topic === `servofleet/drives/${id}/availability`,
          `${id} availability`,
        );
        expect(a.json.status).toBe('online');
      }
    } finally {
      await late.close();
    }
  });

  it('telemetry arrives at each poll, in sequence', async () => {
    const w = rig.watcher;
    const from = w.messages.length;
    await w.next(
      () =>
        w.messages.slice(from).filter((m) => m.topic === 'servofleet/drives/axis-1/telemetry')
          .length >= 10,
      '10 telemetry messages of axis-1',
    );
    const t = w.messages
      .slice(from)
      .filter((m) => m.topic === 'servofleet/drives/axis-1/telemetry');
    const seqs = t.map((m) => m.json.seq as number);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    // One telemetry message per poll: the poll rate itself is checked exactly on a
    // stepped clock in services/device/test/bus (no wall-clock timing asserted here).
    const stamps = t.map((m) => m.json.ts as number);
    expect(stamps).toEqual([...stamps].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it('its /metrics has a histogram of transaction round trips per link and outcome', async () => {
    const text = await (await fetch(`${rig.devices[0]!.adminUrl}/metrics`)).text();
    const count = text.match(
      /^servofleet_bus_transaction_seconds_count\{[^}]*link="bus-a"[^}]*outcome="ok"[^}]*\} (\d+)/m,
    );
    expect(Number(count?.[1])).toBeGreaterThan(0);
    expect(text).toMatch(/servofleet_bus_transaction_seconds_bucket\{[^}]*le="0.01"/);
  });

  it('enable → moveTo: accepted, then completed; the state shows the target reached', async () => {
    const w = rig.watcher;
    expect(await w.command('axis-1', { commandId: 'en-1', type: 'enable' })).toMatchObject({
      status: 'completed',
    });
    const from = w.messages.length;
    const reply = await w.command('axis-1', {
      commandId: 'mv-1',
      type: 'moveTo',
      position: 8000,
      velocity: 40000,
    });
    expect(reply).toMatchObject({ commandId: 'mv-1', status: 'completed', driveId: 'axis-1' });
    expect(
      w.messages
        .slice(from)
        .some((m) => m.topic === 'test/replies/mv-1' && m.json.status === 'accepted'),
    ).toBe(true);
    const state = await w.next(
      (m) =>
        m.topic === 'servofleet/drives/axis-1/state' &&
        m.json.targetReached === true &&
        Math.abs((m.json.position as number) - 8000) <= 10,
      'axis-1 at 8000',
      5000,
      from,
    );
    expect(state.json.cia402).toBe('OPERATION_ENABLED');
    expect(Math.abs(rig.sim.drive('axis-1').positionActual() - 8000)).toBeLessThanOrEqual(10);
    const events = w.messages
      .slice(from)
      .filter((m) => m.topic === 'servofleet/drives/axis-1/events' && m.json.commandId === 'mv-1')
      .map((m) => m.json.phase);
    expect(events).toEqual(['received', 'accepted', 'completed']);
  });

  it('a moveTo sent right after enable completes is not refused on a stale poll', async () => {
    const w = rig.watcher;
    await w.command('axis-2', { commandId: 'dis-2', type: 'disable' });
    expect(await w.command('axis-2', { commandId: 'en-2b', type: 'enable' })).toMatchObject({
      status: 'completed',
    });
    // No wait for the next poll: the device service decides on a fresh one.
    expect(
      await w.command('axis-2', {
        commandId: 'mv-2b',
        type: 'moveTo',
        position: 500,
        velocity: 40000,
      }),
    ).toMatchObject({
      status: 'completed',
    });
  });

  it('a Dynamixel servo enables and moves to a goal', async () => {
    const w = rig.watcher;
    expect(await w.command('dxl-2', { commandId: 'dx-en', type: 'enable' })).toMatchObject({
      status: 'completed',
    });
    expect(
      await w.command('dxl-2', {
        commandId: 'dx-mv',
        type: 'moveTo',
        position: 3000,
        velocity: 4000,
      }),
    ).toMatchObject({
      status: 'completed',
    });
    expect(Math.abs(rig.sim.drive('dxl-2').positionActual() - 3000)).toBeLessThanOrEqual(20);
    expect(
      await w.command('dxl-2', { commandId: 'dx-jog', type: 'jog', velocity: 100 }),
    ).toMatchObject({
      status: 'rejected',
      error: { code: 'BAD_REQUEST' },
    });
  });

  it('a duplicate commandId is answered with the first result and executed once', async () => {
    const w = rig.watcher;
    await w.command('axis-3', { commandId: 'en-3', type: 'enable' });
    const start = rig.sim.drive('axis-3').positionActual();
    const cmd = {
      commandId: 'rel-3',
      type: 'moveTo',
      position: 1500,
      relative: true,
      velocity: 40000,
    };
    const first = await w.command('axis-3', cmd);
    const second = await w.command('axis-3', cmd);
    expect(first.status).toBe('completed');
    expect(second).toEqual(first);
    expect(Math.abs(rig.sim.drive('axis-3').positionActual() - (start + 1500))).toBeLessThanOrEqual(
      10,
    );
  });

  it('answers expired, limit, faulted and malformed commands precisely, and nothing moves', async () => {
    const w = rig.watcher;
    await w.command('axis-4', { commandId: 'en-4', type: 'enable' });
    const before = rig.sim.drive('axis-4').positionActual();
    expect(
      await w.command('axis-4', {
        commandId: 'exp-4',
        type: 'moveTo',
        position: 5000,
        deadline: Date.now() - 1,
      }),
    ).toMatchObject({
      status: 'expired',
      error: { code: 'COMMAND_EXPIRED' },
    });
    expect(
      await w.command('axis-4', { commandId: 'lim-4', type: 'moveTo', position: 900000 }),
    ).toMatchObject({
      status: 'rejected',
      error: { code: 'LIMIT_EXCEEDED', message: 'position 900000 outside [-100000, 100000]' },
    });
    expect(
      await w.command('axis-4', { commandId: 'vel-4', type: 'jog', velocity: 90000 }),
    ).toMatchObject({
      status: 'rejected',
      error: { code: 'LIMIT_EXCEEDED' },
    });
    expect(
      await w.command('axis-4', { commandId: 'bad-4', type: 'moveTo', position: 'far' }),
    ).toMatchObject({
      status: 'rejected',
      error: { code: 'BAD_REQUEST', path: '/position' },
    });
    expect(
      await w.command('axis-4', { commandId: 'unk-4', type: 'moveTo', position: 1, colour: 'red' }),
    ).toMatchObject({
      status: 'rejected',
      error: { code: 'BAD_REQUEST', path: '/colour' },
    });
    expect(await w.command('axis-4', { commandId: 'typ-4', type: 'fly' })).toMatchObject({
      status: 'rejected',
      error: { code: 'BAD_REQUEST', path: '/type' },
    });
    // Not JSON, and a huge payload: no reply address to answer, and the service lives on.
    await w.publish('servofleet/drives/axis-4/commands', '{"commandId":');
    await w.publish(
      'servofleet/drives/axis-4/commands',
      `{"commandId":"huge","type":"stop","pad":"${'x'.repeat(10_000)}"}`,
    );
    expect(rig.sim.drive('axis-4').positionActual()).toBe(before);

    rig.sim.inject({ drive: 'axis-4', fault: 'drive-fault', code: '0x4310' });
    await w.next(
      (m) => m.topic === 'servofleet/drives/axis-4/state' && m.json.cia402 === 'FAULT',
      'axis-4 FAULT in state',
    );
    const faulted = await w.command('axis-4', {
      commandId: 'flt-4',
      type: 'moveTo',
      position: 100,
    });
    expect(faulted).toMatchObject({ status: 'rejected', error: { code: 'DRIVE_FAULT' } });
    expect(String((faulted.error as { message: string }).message)).toContain('0x4310');
    expect(rig.sim.drive('axis-4').positionActual()).toBe(before);
    const state = w.latest('servofleet/drives/axis-4/state')!;
    expect(state.json.fault).toMatchObject({ code: 0x4310, hex: '0x4310' });
    // Reset and enable in one go.
    expect(
      await w.command('axis-4', { commandId: 'rst-4', type: 'enable', resetFault: true }),
    ).toMatchObject({ status: 'completed' });
    expect(rig.sim.drive('axis-4').state).toBe('OPERATION_ENABLED');
  });

  it('a dead unit: breaker opens, it turns unreachable, its neighbours keep polling, and it comes back by itself', async () => {
    const w = rig.watcher;
    const from = w.messages.length;
    rig.sim.inject({ drive: 'axis-2', fault: 'no-response' });
    await w.next(
      (m) => m.topic === 'servofleet/drives/axis-2/availability' && m.json.status === 'unreachable',
      'axis-2 unreachable',
      8000,
      from,
    );
    await w.next(
      (m) =>
        m.topic === 'servofleet/drives/axis-2/events' &&
        m.json.type === 'breaker' &&
        m.json.state === 'open',
      'breaker open event',
      8000,
      from,
    );
    // Commands fail fast while it is unreachable.
    expect(await w.command('axis-2', { commandId: 'dead-2', type: 'enable' })).toMatchObject({
      status: 'failed',
      error: { code: 'DRIVE_UNREACHABLE' },
    });
    // Its neighbours keep polling meanwhile.
    const mark = w.messages.length;
    await w.next(
      () =>
        ['axis-1', 'axis-3', 'axis-4'].every(
          (id) =>
            w.messages.slice(mark).filter((m) => m.topic === `servofleet/drives/${id}/telemetry`)
              .length >= 5,
        ),
      'neighbours polled 5 times while axis-2 is dead',
    );
    rig.sim.clear({ drive: 'axis-2' });
    await w.next(
      (m) => m.topic === 'servofleet/drives/axis-2/availability' && m.json.status === 'online',
      'axis-2 online again',
      8000,
      mark,
    );
  });
});
