/**
 * Watch reads (`watchHz`): the statusword alone, read in idle bus time, and a poll at
 * once when it changed. Simulator and bus on one manual clock, so the times below are
 * simulated milliseconds, exact and repeatable.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cia402 } from '../../../../firmware-protocol/src/index.ts';
import type { BusDrive } from '../../src/bus/index.ts';
import { type Rig, rigBus, runFor, runUntil, SF, settle, simRig } from './harness.ts';

const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

function drives(pollHz: number, watchHz?: number): BusDrive[] {
  return [1, 2, 3, 4].map((u) => ({
    id: `axis-${u}`,
    unit: u,
    profile: SF,
    pollHz,
    ...(watchHz !== undefined ? { watchHz } : {}),
  }));
}

function rigWith(list: BusDrive[]) {
  const rig = simRig('modbus-rtu');
  const r = rigBus(rig, 'modbus-rtu', { drives: list });
  stops.push(() => settle(rig, r.bus.stop()));
  r.bus.start();
  return { rig, ...r };
}

/** Raises a fault on axis-1; resolves with the simulated ms until a poll showed it. */
async function faultSeenAfter(
  rig: Rig,
  polls: Map<string, { values: Record<string, number> }[]>,
): Promise<number> {
  const seen = () =>
    polls.get('axis-1')!.some((p) => cia402.decodeStatusword(p.values.statusword!) === 'FAULT');
  expect(seen()).toBe(false);
  const t0 = rig.clock.now();
  rig.sim.drive('axis-1').raiseFault(cia402.ErrorCode.OVERTEMPERATURE);
  expect(await runUntil(rig, seen, 3000)).toBe(true);
  return rig.clock.now() - t0;
}

describe('watch reads', () => {
  it('see a state change in a few ms of idle bus, not at the next 1 Hz poll', async () => {
    const watched = rigWith(drives(1, 100));
    await runFor(watched.rig, 1500);
    const withWatch = await faultSeenAfter(watched.rig, watched.polls);

    const plain = rigWith(drives(1));
    await runFor(plain.rig, 1500);
    const without = await faultSeenAfter(plain.rig, plain.polls);

    // 10 ms watch period + one 1-register read + the poll it triggers, ≈ 25 ms.
    expect(withWatch).toBeLessThan(40);
    // Without: the next 1 Hz poll (the fault was raised 500 ms after the last one).
    expect(without).toBeGreaterThan(400);
    // The poll that showed it carried the whole view, fault code included.
    const last = watched.polls.get('axis-1')!.at(-1)!.values;
    expect(last.errorCode).toBe(cia402.ErrorCode.OVERTEMPERATURE);
    expect(watched.bus.stats().drives['axis-1']!.watchPolls).toBeGreaterThanOrEqual(1);
  });

  it('read only the statusword, at most watchHz per drive, and poll nothing extra while nothing changes', async () => {
    const { rig, bus, spy } = rigWith(drives(1, 50));
    await runFor(rig, 1200);
    const from = spy.events.length;
    const before = bus.stats().drives;
    await runFor(rig, 2000);
    const after = bus.stats().drives;
    const reqs = spy.modbusRequests(from);
    const single = reqs.filter((r) => r.pdu.fc === 0x03 && r.pdu.quantity === 1);
    expect(single.length).toBeGreaterThan(0);
    for (const r of single)
      expect(r.pdu).toMatchObject({ address: SF.objects.statusword!.address });
    for (const id of ['axis-1', 'axis-2', 'axis-3', 'axis-4']) {
      const watches = after[id]!.watches - before[id]!.watches;
      expect(watches).toBeGreaterThanOrEqual(80); // 50 Hz over 2 s on an idle bus
      expect(watches).toBeLessThanOrEqual(101); // never more than watchHz
      expect(after[id]!.watchPolls - before[id]!.watchPolls).toBe(0);
      expect(after[id]!.polls - before[id]!.polls).toBe(2); // just the 1 Hz polls
    }
    expect(single.length).toBe(
      ['axis-1', 'axis-2', 'axis-3', 'axis-4'].reduce(
        (s, id) => s + after[id]!.watches - before[id]!.watches,
        0,
      ),
    );
  });

  it('never take wire time from polls: a saturated bus polls as much with watches as without', async () => {
    // 4 × 200 Hz asked of a 115200 link that carries ≈ 110 reads/s: never idle.
    const watched = rigWith(drives(200, 1000));
    await runFor(watched.rig, 2000);
    const plain = rigWith(drives(200));
    await runFor(plain.rig, 2000);
    const total = (s: ReturnType<typeof watched.bus.stats>) =>
      Object.values(s.drives).reduce((n, d) => n + d.polls, 0);
    const w = watched.bus.stats();
    expect(Object.values(w.drives).reduce((n, d) => n + d.watches, 0)).toBeLessThanOrEqual(1);
    expect(Math.abs(total(w) - total(plain.bus.stats()))).toBeLessThanOrEqual(2);
  });

  it('leave a dead drive to its breaker: no watch reads to it while the breaker is open', async () => {
    const { rig, bus } = rigWith(drives(5, 100));
    await runFor(rig, 500);
    rig.sim.inject({ drive: 'axis-2', fault: 'no-response' });
    expect(await runUntil(rig, () => bus.breakerState('axis-2') === 'open', 3000)).toBe(true);
    const at = bus.stats().drives['axis-2']!.watches;
    const healthy = bus.stats().drives['axis-1']!.watches;
    await runFor(rig, 2000); // probes go out (polls, not watch reads); it stays dead
    expect(bus.breakerState('axis-2')).not.toBe('closed');
    expect(bus.stats().drives['axis-2']!.watches).toBe(at);
    expect(bus.stats().drives['axis-1']!.watches - healthy).toBeGreaterThan(50);
  });

  it('refuses watchHz on a profile without watch objects', () => {
    const rig = simRig('modbus-rtu');
    const { watch: _w, ...noWatch } = SF;
    expect(() =>
      rigBus(rig, 'modbus-rtu', {
        drives: [{ id: 'axis-1', unit: 1, profile: noWatch, pollHz: 20, watchHz: 100 }],
      }),
    ).toThrow(/no watch objects/);
  });
});
