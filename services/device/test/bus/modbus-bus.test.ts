import { afterEach, describe, expect, it } from 'vitest';
import { BusError } from '../../src/bus/index.ts';
import {
  modbusDrives,
  type Rig,
  rigBus,
  runFor,
  runUntil,
  settle,
  simRig,
  type WireSpy,
} from './harness.ts';

const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

function modbusRig(extra: Parameters<typeof rigBus>[2] = {}) {
  const rig = simRig('modbus-rtu');
  const r = rigBus(rig, 'modbus-rtu', extra);
  stops.push(() => settle(rig, r.bus.stop()));
  return { rig, ...r };
}

/** Every request is answered before the next one goes out, by the unit it was sent to. */
function expectOneAtATime(spy: WireSpy): void {
  let outstanding: number | undefined;
  for (const e of spy.events) {
    if (e.dir === 'tx') {
      expect(outstanding).toBeUndefined();
      outstanding = e.bytes[0];
    } else {
      expect(e.bytes[0]).toBe(outstanding);
      outstanding = undefined;
    }
  }
}

async function enable(rig: Rig, bus: ReturnType<typeof rigBus>['bus'], id: string) {
  for (const cw of [0x06, 0x07, 0x0f]) {
    const r = await settle(rig, bus.write(id, [['controlword', cw]]));
    expect(r).toEqual({ ok: undefined });
  }
}

describe('Bus over Modbus RTU (sf-servo ×4, simulator on a memory link)', () => {
  it('polls every drive with one FC 0x03 of 22 registers and decodes the values', async () => {
    const { rig, bus, spy, polls } = modbusRig();
    const online: string[] = [];
    bus.onAvailability((id, a) => {
      if (a === 'online') online.push(id);
    });
    bus.start();
    await runFor(rig, 1000);

    expect(online.sort()).toEqual(['axis-1', 'axis-2', 'axis-3', 'axis-4']);
    for (const id of ['axis-1', 'axis-2', 'axis-3', 'axis-4']) {
      const list = polls.get(id)!;
      expect(list.length).toBeGreaterThanOrEqual(19); // 20 Hz over 1 s
      const v = list.at(-1)!.values;
      expect(v.statusword).toBe(0x0250); // switch on disabled, voltage enabled, remote
      expect(v.modesOfOperationDisplay).toBe(1); // PP
      expect(v.errorCode).toBe(0);
      expect(v.dcBusVoltage).toBeGreaterThan(40);
      expect(Object.keys(v)).not.toContain('controlword'); // not in the profile's poll list
    }
    await settle(rig, bus.stop()); // the poll in flight completes
    const requests = spy.modbusRequests();
    expect(requests.length).toBeGreaterThan(0);
    for (const r of requests) expect(r.pdu).toEqual({ fc: 0x03, address: 0x0001, quantity: 22 });
    const total = [...polls.values()].reduce((s, l) => s + l.length, 0);
    expect(requests.length).toBe(total);
    const counters = rig.sim.links()[0]!.counters;
    expect(counters.bytesIn).toBe(8 * requests.length); // 8-byte requests, nothing else
    expect(counters.repliesSent).toBe(requests.length);
    expect(bus.stats().transactions).toBe(requests.length);
    // Deadline-based: unit 1 is asked every 50 ms on the dot, no drift
    const times = requests.filter((r) => r.unit === 1).map((r) => r.at);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeCloseTo(50, 6);
  });

  it('a move made with bus.write shows in the polled position', async () => {
    const { rig, bus, spy, polls } = modbusRig();
    bus.start();
    await runFor(rig, 100);
    expect(await settle(rig, bus.write('axis-3', [['modesOfOperation', 1]]))).toEqual({
      ok: undefined,
    });
    await enable(rig, bus, 'axis-3');
    const from = spy.events.length;
    const profile = bus.write('axis-3', [
      ['profileVelocity', 40_000],
      ['profileAcceleration', 400_000],
      ['profileDeceleration', 400_000],
    ]);
    expect(await settle(rig, profile)).toEqual({ ok: undefined });
    // Three adjacent u32 objects: one FC 0x10 of 6 registers
    expect(spy.modbusRequests(from).map((r) => r.pdu)).toContainEqual({
      fc: 0x10,
      address: 0x000c,
      values: [0, 40_000, 0x0006, 0x1a80, 0x0006, 0x1a80],
    });
    await settle(rig, bus.write('axis-3', [['targetPosition', 5000]]));
    await settle(rig, bus.write('axis-3', [['controlword', 0x1f]])); // new set-point
    await runFor(rig, 1500);
    const last = polls.get('axis-3')!.at(-1)!.values;
    expect(Math.abs(last.positionActual! - 5000)).toBeLessThanOrEqual(10);
    expect(last.targetPosition).toBe(5000);
    expect(last.statusword! & 0x6f).toBe(0x27); // operation enabled
    expect(last.statusword! & (1 << 10)).not.toBe(0); // target reached
    expect(polls.get('axis-1')!.at(-1)!.values.positionActual).toBe(0); // the others did not move
    expect(rig.sim.drive('axis-3').positionActual()).toBe(last.positionActual);
  });

  it('keeps one transaction on the wire while writes to several drives interleave with polls', async () => {
    const { rig, bus, spy } = modbusRig();
    bus.start();
    await runFor(rig, 60);
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 5; i++) {
      for (const id of ['axis-1', 'axis-2', 'axis-3', 'axis-4']) {
        writes.push(bus.write(id, [['targetPosition', 100 * i]]));
        writes.push(bus.write(id, [['targetVelocity', i]], { priority: 'high' }));
      }
    }
    const all = await settle(rig, Promise.all(writes), 2000);
    expect(all).toHaveProperty('ok');
    await runFor(rig, 300);
    await settle(rig, bus.stop());
    expectOneAtATime(spy);
    const requests = spy.modbusRequests();
    expect(requests.filter((r) => r.pdu.fc === 0x10)).toHaveLength(40);
    const counters = rig.sim.links()[0]!.counters;
    expect(counters.repliesSent).toBe(requests.length); // none lost to a collision
    expect(rig.sim.drive('axis-2').read('targetPosition')).toBe(400);
  });

  it('sends a high-priority write before the polls and requests queued ahead of it', async () => {
    // 4 drives × 100 Hz of 22-register reads (~8.5 ms each) saturate the bus: polls always wait.
    const { rig, bus, spy } = modbusRig({ drives: modbusDrives(100) });
    bus.start();
    await runFor(rig, 200);
    expect(bus.stats().queued).toBeGreaterThan(0);
    const from = spy.events.length;
    const reads = ['axis-1', 'axis-2', 'axis-3', 'axis-4'].map((id) => bus.read(id, ['errorCode']));
    const quickStop = bus.write('axis-3', [['controlword', 0x02]], { priority: 'high' });
    expect(await settle(rig, quickStop)).toEqual({ ok: undefined });
    await settle(rig, Promise.all(reads));
    const sent = spy.modbusRequests(from);
    const stopAt = sent.findIndex((q) => q.pdu.fc === 0x06);
    expect(stopAt).toBeGreaterThanOrEqual(0);
    expect(stopAt).toBeLessThanOrEqual(1); // only the transaction already on the wire went first
    const readsAt = sent.flatMap((q, i) => (q.pdu.fc === 0x03 && q.pdu.quantity === 1 ? [i] : []));
    expect(readsAt).toHaveLength(4);
    for (const i of readsAt) expect(i).toBeGreaterThan(stopAt);
    expect(rig.sim.drive('axis-3').read('controlword')).toBe(0x02);
  });

  it('an exception response rejects DRIVE_REJECTED and does not count towards the breaker', async () => {
    const { rig, bus, spy } = modbusRig();
    const breaker: string[] = [];
    bus.onBreaker((id, s) => breaker.push(`${id}:${s}`));
    bus.start();
    await runFor(rig, 100);
    for (let i = 0; i < 5; i++) {
      const r = await settle(rig, bus.write('axis-1', [['modesOfOperation', 4]])); // PT: unsupported
      expect('err' in r).toBe(true);
      const err = (r as { err: BusError }).err;
      expect(err).toBeInstanceOf(BusError);
      expect(err.code).toBe('DRIVE_REJECTED');
      expect(err.wireCode).toBe(3); // illegal data value
      expect((err.cause as { code: string }).code).toBe('MODBUS_EXCEPTION');
    }
    expect(spy.modbusRequests().filter((r) => r.pdu.fc === 0x06)).toHaveLength(5);
    expect(breaker).toEqual([]);
    expect(bus.breakerState('axis-1')).toBe('closed');
    expect(bus.availability('axis-1')).toBe('online');
    expect(bus.stats().drives['axis-1']!.exceptions).toBe(5);
  });

  it('refuses at once what the profile cannot encode, and unknown drives', async () => {
    const { rig, bus, spy } = modbusRig();
    bus.start();
    await runFor(rig, 100);
    const before = spy.tx().length;
    await expect(bus.write('axis-1', [['statusword', 1]])).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      cause: { code: 'PROFILE_READ_ONLY' },
    });
    await expect(bus.write('axis-1', [['nope', 1]])).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    await expect(bus.write('axis-1', [['controlword', 0x1_0000]])).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      cause: { code: 'VALUE_OUT_OF_RANGE' },
    });
    await expect(bus.read('axis-9', ['statusword'])).rejects.toMatchObject({
      code: 'UNKNOWN_DRIVE',
    });
    await expect(bus.reboot('axis-1')).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect(spy.tx().length).toBe(before);
  });

  it('reads named objects, merged', async () => {
    const { rig, bus, spy } = modbusRig();
    bus.start();
    await runFor(rig, 100);
    const from = spy.events.length;
    const r = await settle(
      rig,
      bus.read('axis-2', ['statusword', 'modesOfOperation', 'errorCode']),
    );
    expect(r).toEqual({ ok: { statusword: 0x0250, modesOfOperation: 1, errorCode: 0 } });
    const reads = spy
      .modbusRequests(from)
      .filter((q) => q.unit === 2 && !(q.pdu.fc === 3 && q.pdu.quantity === 22));
    expect(reads.map((q) => q.pdu)).toEqual([
      { fc: 0x03, address: 0x0001, quantity: 2 },
      { fc: 0x03, address: 0x0014, quantity: 1 },
    ]);
  });

  it('never sends a request whose deadline passed while it waited; EXPIRED at once when already past', async () => {
    const { rig, bus, spy } = modbusRig();
    bus.start();
    await runFor(rig, 100);
    await expect(
      bus.write('axis-1', [['targetPosition', 7]], { deadlineWallMs: rig.clock.wallNow() - 1 }),
    ).rejects.toMatchObject({ code: 'EXPIRED' });
    // Queue reads ahead (each ~8 ms on the wire), then a write that can wait 5 ms only.
    const ahead = ['axis-1', 'axis-2', 'axis-3', 'axis-4'].map((id) =>
      bus.read(id, ['statusword']),
    );
    const late = bus.write('axis-1', [['targetPosition', 7]], {
      deadlineWallMs: rig.clock.wallNow() + 5,
    });
    const r = await settle(rig, late);
    expect(r).toMatchObject({ err: { code: 'EXPIRED' } });
    await settle(rig, Promise.all(ahead));
    await runFor(rig, 100);
    expect(spy.modbusRequests().filter((q) => q.pdu.fc === 0x10 || q.pdu.fc === 0x06)).toEqual([]);
    expect(rig.sim.drive('axis-1').read('targetPosition')).toBe(0);
  });

  it('reports TIMEOUT, never success, when the answer does not come in time (the write took effect)', async () => {
    const { rig, bus } = modbusRig();
    bus.start();
    await runFor(rig, 100);
    rig.sim.inject({ drive: 'axis-4', fault: 'delay', ms: 40 });
    const r = await settle(rig, bus.write('axis-4', [['targetPosition', 1234]]));
    expect(r).toMatchObject({ err: { code: 'TIMEOUT' } });
    expect(rig.sim.drive('axis-4').read('targetPosition')).toBe(1234); // outcome was unknown
    rig.sim.clear();
    await runFor(rig, 100);
    // The late reply drained away: the next answers are the right ones.
    const again = await settle(rig, bus.read('axis-4', ['targetPosition']));
    expect(again).toEqual({ ok: { targetPosition: 1234 } });
    expect(bus.stats().drives['axis-4']!.timeouts).toBeGreaterThanOrEqual(1);
  });

  it('resynchronises on garbage before replies', async () => {
    const { rig, bus, polls } = modbusRig();
    rig.sim.inject({ link: 'bus-a', fault: 'garbage', rate: 1, bytes: 6 });
    bus.start();
    await runFor(rig, 500);
    for (const id of ['axis-1', 'axis-2', 'axis-3', 'axis-4']) {
      expect(polls.get(id)!.length).toBeGreaterThanOrEqual(9);
      expect(polls.get(id)!.every((p) => p.values.statusword === 0x0250)).toBe(true);
    }
  });

  it('stop: finishes the transaction in flight, drops the queue with BUS_STOPPED, closes the link', async () => {
    const { rig, bus, spy } = modbusRig();
    bus.start();
    await runFor(rig, 100);
    const first = bus.write('axis-1', [['targetPosition', 11]]);
    const second = bus.write('axis-2', [['targetPosition', 22]]);
    await runUntil(rig, () => spy.modbusRequests().some((q) => q.pdu.fc === 0x10), 50);
    const stopped = bus.stop();
    await expect(settle(rig, second)).resolves.toMatchObject({ err: { code: 'BUS_STOPPED' } });
    await expect(settle(rig, first)).resolves.toEqual({ ok: undefined });
    await settle(rig, stopped);
    expect(spy.links.at(-1)!.closed).toBe(true);
    expect(rig.sim.drive('axis-2').read('targetPosition')).toBe(0);
    await expect(bus.read('axis-1', ['statusword'])).rejects.toMatchObject({
      code: 'BUS_STOPPED',
    });
  });

  it('link drop: every drive unreachable, requests fail fast, then back online by itself', async () => {
    const { rig, bus, spy } = modbusRig({ reconnect: { initialDelayMs: 100, maxDelayMs: 400 } });
    const link: string[] = [];
    const avail: string[] = [];
    bus.onLink((s) => link.push(s));
    bus.onAvailability((id, a) => avail.push(`${id}:${a}`));
    bus.start();
    await runFor(rig, 200);
    expect(link).toEqual(['up']);
    avail.length = 0;
    spy.links.at(-1)!.close();
    await runFor(rig, 1);
    expect(link).toEqual(['up', 'down']);
    expect(avail.sort()).toEqual([
      'axis-1:unreachable',
      'axis-2:unreachable',
      'axis-3:unreachable',
      'axis-4:unreachable',
    ]);
    const sent = spy.tx().length;
    await expect(bus.write('axis-1', [['targetPosition', 1]])).rejects.toMatchObject({
      code: 'DRIVE_UNREACHABLE',
      cause: { code: 'LINK_DOWN' },
    });
    expect(spy.tx().length).toBe(sent);
    avail.length = 0;
    await runFor(rig, 500);
    expect(link).toEqual(['up', 'down', 'up']);
    expect(avail.sort()).toEqual([
      'axis-1:online',
      'axis-2:online',
      'axis-3:online',
      'axis-4:online',
    ]);
    expect(spy.links).toHaveLength(2);
    expect(bus.stats().linkUp).toBe(true);
  });
});
