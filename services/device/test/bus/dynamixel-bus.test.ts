import { afterEach, describe, expect, it } from 'vitest';
import { Simulator } from '../../../../device-sim/src/index.ts';
import { dynamixel, type profiles } from '../../../../firmware-protocol/src/index.ts';
import { Bus } from '../../src/bus/index.ts';
import { pollBlocks } from '../../src/bus/poll-plan.ts';
import { fastGroupLimit } from '../../src/bus/poller.ts';
import {
  dxlDrives,
  pollsIn,
  rigBus,
  runFor,
  runUntil,
  settle,
  simRig,
  TestClock,
  WireSpy,
  XM,
} from './harness.ts';

const I = dynamixel.Instruction;
const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

/** xm430 without its Indirect Address banks: polls read the objects at their own addresses. */
const { indirect: _banks, ...XM_DIRECT } = XM;

function dxlRig(
  opts: { fast?: boolean; direct?: boolean } = {},
  extra: Parameters<typeof rigBus>[2] = {},
) {
  const base = opts.direct ? XM_DIRECT : XM;
  const profile = opts.fast === false ? { ...base, fastSyncRead: false } : base;
  const rig = simRig('dynamixel2', { xm: profile });
  const r = rigBus(rig, 'dynamixel2', { drives: dxlDrives(50, profile), ...extra });
  stops.push(() => settle(rig, r.bus.stop()));
  return { rig, ...r };
}

describe('Bus over Dynamixel 2.0 (xm430 ×2, simulator on a memory link)', () => {
  it('polls both servos with one Fast Sync Read per cycle and decodes the values', async () => {
    const { rig, bus, spy, polls } = dxlRig({ direct: true });
    bus.start();
    await runFor(rig, 1000);
    await settle(rig, bus.stop());
    for (const id of ['dxl-1', 'dxl-2']) {
      const list = polls.get(id)!;
      expect(list.length).toBeGreaterThanOrEqual(49); // 50 Hz over 1 s
      const v = list.at(-1)!.values;
      expect(v.torqueEnable).toBe(0);
      expect(v.hardwareErrorStatus).toBe(0);
      expect(v.moving).toBe(0);
      expect(v.presentInputVoltage).toBeGreaterThan(40);
      expect(Object.keys(v).sort()).toEqual([...XM.poll!].sort());
    }
    const sent = spy.dxlInstructions();
    // Addresses 64–146: one block of 83 bytes, both IDs, one instruction per cycle
    const params = Uint8Array.of(64, 0, 83, 0, 1, 2);
    for (const p of sent) {
      expect(p.instruction).toBe(I.FastSyncRead);
      expect(p.id).toBe(dynamixel.BROADCAST_ID);
      expect(p.params).toEqual(params);
    }
    expect(sent.length).toBe(polls.get('dxl-1')!.length);
    expect(sent.length).toBe(polls.get('dxl-2')!.length);
  });

  it('uses Sync Read (0x82) when the profile does not claim Fast Sync Read', async () => {
    const { rig, bus, spy, polls } = dxlRig({ fast: false, direct: true });
    bus.start();
    await runFor(rig, 500);
    await settle(rig, bus.stop());
    const sent = spy.dxlInstructions();
    expect(new Set(sent.map((p) => p.instruction))).toEqual(new Set([I.SyncRead]));
    expect(sent.length).toBe(polls.get('dxl-2')!.length);
    expect(polls.get('dxl-1')!.length).toBeGreaterThanOrEqual(24);
  });

  it('writes merged objects, moves the servo, and reports status errors as DRIVE_REJECTED', async () => {
    const { rig, bus, spy, polls } = dxlRig();
    bus.start();
    await runFor(rig, 100);
    const from = spy.events.length;
    expect(
      await settle(
        rig,
        bus.write('dxl-2', [
          ['profileAcceleration', 40_000],
          ['profileVelocity', 4000],
        ]),
      ),
    ).toEqual({ ok: undefined });
    const writes = spy.dxlInstructions(from).filter((p) => p.instruction === I.Write);
    expect(writes).toHaveLength(1); // addresses 108–115 in one Write
    expect(writes[0]!.params.slice(0, 2)).toEqual(Uint8Array.of(108, 0));
    expect(writes[0]!.params.length).toBe(2 + 8);

    expect(await settle(rig, bus.write('dxl-2', [['torqueEnable', 1]]))).toEqual({ ok: undefined });
    expect(await settle(rig, bus.write('dxl-2', [['goalPosition', 3000]]))).toEqual({
      ok: undefined,
    });
    await runFor(rig, 3000);
    const v = polls.get('dxl-2')!.at(-1)!.values;
    expect(v.torqueEnable).toBe(1);
    expect(Math.abs(v.presentPosition! - 3000)).toBeLessThanOrEqual(10);
    expect(v.goalPosition).toBe(3000);

    // Position mode limits the goal to 0–4095: DATA_LIMIT error (6)
    const r = await settle(rig, bus.write('dxl-2', [['goalPosition', 5000]]));
    expect(r).toMatchObject({
      err: { code: 'DRIVE_REJECTED', wireCode: 6, cause: { code: 'DXL_STATUS_ERROR' } },
    });
    // EEPROM is locked while torque is on: ACCESS error (7)
    const eeprom = await settle(rig, bus.write('dxl-2', [['operatingMode', 1]]));
    expect(eeprom).toMatchObject({ err: { code: 'DRIVE_REJECTED', wireCode: 7 } });
    expect(bus.breakerState('dxl-2')).toBe('closed');
    expect(bus.availability('dxl-2')).toBe('online');
    const read = await settle(rig, bus.read('dxl-1', ['modelNumber', 'id']));
    expect(read).toEqual({ ok: { modelNumber: 1020, id: 1 } });
  });

  it('a hardware alert does not fail the polls; reboot clears it', async () => {
    const { rig, bus, polls } = dxlRig();
    bus.start();
    await runFor(rig, 100);
    rig.sim.inject({ drive: 'dxl-1', fault: 'drive-fault', code: '0x4310' }); // overtemperature
    await runFor(rig, 100);
    expect(polls.get('dxl-1')!.at(-1)!.values.hardwareErrorStatus).toBe(0x04); // overheating
    expect(bus.availability('dxl-1')).toBe('online');
    expect(await settle(rig, bus.reboot('dxl-1'))).toEqual({ ok: undefined });
    await runFor(rig, 100);
    expect(polls.get('dxl-1')!.at(-1)!.values.hardwareErrorStatus).toBe(0);
  });

  for (const [dead, alive] of [
    ['dxl-1', 'dxl-2'],
    ['dxl-2', 'dxl-1'],
  ] as const) {
    for (const fast of [true, false]) {
      it(`${dead} dead (${fast ? 'fast ' : ''}sync read): ${alive} is still polled, ${dead} is found and comes back`, async () => {
        const { rig, bus, spy, polls } = dxlRig({ fast });
        bus.start();
        await runFor(rig, 200);
        rig.sim.inject({ drive: dead, fault: 'no-response' });
        const from = rig.clock.wallNow();
        await runFor(rig, 2000);
        const to = rig.clock.wallNow();
        expect(pollsIn(polls, alive, from, to)).toBeGreaterThanOrEqual(99); // 50 Hz
        expect(pollsIn(polls, dead, from, to)).toBe(0);
        expect(bus.breakerState(dead)).not.toBe('closed'); // open, or half-open for a probe
        expect(bus.availability(dead)).toBe('unreachable');
        expect(bus.availability(alive)).toBe('online');
        expect(bus.stats().drives[alive]!.timeouts).toBe(0);
        // Once the dead one is known, the other is read on its own (no group timeout a cycle)
        const late = spy.dxlInstructions().filter((p) => p.at > rig.clock.now() - 500);
        const deadId = Number(dead.slice(-1));
        const aliveId = Number(alive.slice(-1));
        expect(late.every((p) => p.instruction === I.Read || p.id === deadId)).toBe(true);
        expect(late.filter((p) => p.id === aliveId).length).toBeGreaterThanOrEqual(24);

        rig.sim.clear();
        expect(await runUntil(rig, () => bus.availability(dead) === 'online', 15_000)).toBe(true);
        const back = rig.clock.wallNow();
        await runFor(rig, 500);
        expect(pollsIn(polls, dead, back, rig.clock.wallNow())).toBeGreaterThanOrEqual(24);
        const group = fast ? I.FastSyncRead : I.SyncRead;
        expect(spy.dxlInstructions().at(-1)!.instruction).toBe(group); // group read again
      });
    }
  }
});

/** 24 xm430 servos on one 1 Mbaud link (three Fast Sync Read groups), polled at 10 Hz. */
describe('polls through Indirect Data (xm430: Indirect Address 1–28)', () => {
  const poll = XM.poll!;
  const rig2 = (simProfile: profiles.DriveProfile, busProfile: profiles.DriveProfile) => {
    const rig = simRig('dynamixel2', { xm: simProfile });
    const r = rigBus(rig, 'dynamixel2', { drives: dxlDrives(50, busProfile) });
    stops.push(() => settle(rig, r.bus.stop()));
    return { rig, ...r };
  };
  const zeroPolls = (polls: Map<string, { values: Record<string, number> }[]>, id: string) =>
    polls.get(id)!.filter((p) => !(p.values.presentInputVoltage! > 40)).length;

  it('writes the entries once per servo, then reads 21 bytes a servo in one Fast Sync Read a cycle', async () => {
    const { rig, bus, spy, polls } = dxlRig();
    bus.start();
    await runFor(rig, 200);
    expect(await settle(rig, bus.write('dxl-2', [['torqueEnable', 1]]))).toEqual({ ok: undefined });
    expect(await settle(rig, bus.write('dxl-2', [['goalPosition', 3000]]))).toEqual({
      ok: undefined,
    });
    await runFor(rig, 3000);
    const sent = spy.dxlInstructions();
    const entries = sent.filter((p) => p.instruction === I.Write && p.params[0] === 168);
    expect(entries.map((p) => [p.id, p.params.length])).toEqual([
      [1, 2 + 42],
      [2, 2 + 42],
    ]);
    // Each after a Ping that showed the profile's model.
    expect(sent.filter((p) => p.instruction === I.Ping).map((p) => p.id)).toEqual([1, 2]);
    // Each servo's first poll on its own, right after its entries; then one group read a cycle.
    expect(sent.filter((p) => p.instruction === I.Read).map((p) => p.id)).toEqual([1, 2]);
    const fast = sent.filter((p) => p.instruction === I.FastSyncRead);
    for (const p of fast) expect(p.params).toEqual(Uint8Array.of(224, 0, 21, 0, 1, 2));
    expect(fast.length).toBe(polls.get('dxl-2')!.length - 1);
    const v = polls.get('dxl-2')!.at(-1)!.values;
    expect(Object.keys(v).sort()).toEqual([...poll, 'statusReturnLevel'].sort());
    expect(v.torqueEnable).toBe(1);
    expect(v.goalPosition).toBe(3000);
    expect(Math.abs(v.presentPosition! - 3000)).toBeLessThanOrEqual(10);
    // The same values as a read of the objects at their own addresses.
    const direct = await settle(rig, bus.read('dxl-1', ['presentTemperature', 'goalPosition']));
    const last = polls.get('dxl-1')!.at(-1)!.values;
    expect(direct).toEqual({
      ok: { presentTemperature: last.presentTemperature, goalPosition: last.goalPosition },
    });
    expect(zeroPolls(polls, 'dxl-1') + zeroPolls(polls, 'dxl-2')).toBe(0);
    expect(bus.stats().drives['dxl-1']).toMatchObject({ reads: 'indirect', indirectMaps: 1 });
  });

  it('a servo that forgets its entries (a reboot) is never read as zeros: they are written again', async () => {
    const { rig, bus, polls } = dxlRig();
    bus.start();
    await runFor(rig, 200);
    rig.sim.inject({ drive: 'dxl-1', fault: 'drive-fault', code: '0x4310' });
    await runFor(rig, 100);
    expect(polls.get('dxl-1')!.at(-1)!.values.hardwareErrorStatus).toBe(0x04);
    expect(await settle(rig, bus.reboot('dxl-1'))).toEqual({ ok: undefined });
    const n = polls.get('dxl-1')!.length;
    await runFor(rig, 300);
    expect(polls.get('dxl-1')!.length).toBeGreaterThan(n + 10);
    expect(polls.get('dxl-1')!.at(-1)!.values.hardwareErrorStatus).toBe(0);
    expect(zeroPolls(polls, 'dxl-1')).toBe(0);
    expect(bus.stats().drives['dxl-1']).toMatchObject({ reads: 'indirect', indirectMaps: 2 });
    expect(bus.stats().drives['dxl-2']).toMatchObject({ reads: 'indirect', indirectMaps: 1 });
  });

  it("a servo that does not keep the entries, or refuses them, is read at the objects' own addresses", async () => {
    // No banks in the simulated servo: the entries go nowhere and the check reads 0.
    const a = rig2(XM_DIRECT, XM);
    a.bus.start();
    await runFor(a.rig, 1000);
    expect(a.bus.stats().drives['dxl-1']).toMatchObject({ reads: 'direct', indirectMaps: 3 });
    expect(a.polls.get('dxl-1')!.length).toBeGreaterThanOrEqual(45);
    expect(zeroPolls(a.polls, 'dxl-1')).toBe(0);
    // Operating Mode is EEPROM: no entry may name it (Data Range error), so no bank at all.
    const b = rig2(XM, { ...XM, poll: [...poll, 'operatingMode'] });
    b.bus.start();
    await runFor(b.rig, 1000);
    expect(b.bus.stats().drives['dxl-2']).toMatchObject({ reads: 'direct', indirectMaps: 1 });
    expect(b.polls.get('dxl-2')!.at(-1)!.values.operatingMode).toBe(3);
    expect(zeroPolls(b.polls, 'dxl-2')).toBe(0);
  });

  it("writes no entries to a servo whose Ping shows another model than the profile's", async () => {
    const { rig, bus, spy, polls } = rig2(XM, { ...XM, modelNumber: 1030 });
    bus.start();
    await runFor(rig, 500);
    const sent = spy.dxlInstructions();
    expect(sent.filter((p) => p.instruction === I.Write)).toEqual([]);
    expect(sent.filter((p) => p.instruction === I.Ping).map((p) => p.id)).toEqual([1, 2]);
    expect(bus.stats().drives['dxl-1']).toMatchObject({ reads: 'direct', indirectMaps: 0 });
    expect(polls.get('dxl-1')!.length).toBeGreaterThanOrEqual(20);
    expect(zeroPolls(polls, 'dxl-1')).toBe(0);
  });

  it('24 servos: one group read of all of them a cycle', async () => {
    const { ids, rig, spy, bus } = longBus(XM);
    stops.push(() => settle(rig, bus.stop()));
    bus.start();
    await runFor(rig, 1000);
    const fast = spy.dxlInstructions().filter((p) => p.instruction === I.FastSyncRead);
    expect(fast.length).toBeGreaterThanOrEqual(8);
    for (const p of fast) expect([...p.params.subarray(4)]).toEqual(ids);
  });
});

function longBus(profile: profiles.DriveProfile = XM_DIRECT) {
  const XM = profile;
  const clock = new TestClock(0);
  const ids = Array.from({ length: 24 }, (_, i) => i + 1);
  const sim = new Simulator({
    clock,
    seed: 3,
    links: [
      {
        id: 'bus-b',
        protocol: 'dynamixel2',
        baud: 1_000_000,
        listen: 'memory://bus-b',
        drives: ids.map((u) => ({ id: `dxl-${u}`, unit: u, profile: XM })),
      },
    ],
  });
  const spy = new WireSpy(clock);
  const bus = new Bus({
    linkId: 'bus-b',
    protocol: 'dynamixel2',
    baud: 1_000_000,
    drives: ids.map((u) => ({ id: `dxl-${u}`, unit: u, profile: XM, pollHz: 10 })),
    link: async () => spy.wrap(sim.connect('bus-b')),
    clock,
  });
  return { ids, rig: { clock, sim }, spy, bus };
}

describe('Fast Sync Read on a long bus', () => {
  it('24 servos: groups small enough for the status packet limit, no servo falls back to its own read', async () => {
    const { ids, rig, spy, bus } = longBus();
    const polls = new Map<string, number>();
    bus.onPoll((id) => polls.set(id, (polls.get(id) ?? 0) + 1));
    stops.push(() => settle(rig, bus.stop()));
    bus.start();
    await runFor(rig, 1000);
    const sent = spy.dxlInstructions();
    const fast = sent.filter((p) => p.instruction === I.FastSyncRead);
    // params: address (2), length (2), then one byte per ID
    const sizes = fast.map((p) => p.params.length - 4);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(fastGroupLimit(pollBlocks(XM_DIRECT, 0.01)));
    expect(new Set(fast.flatMap((p) => [...p.params.subarray(4)]))).toEqual(new Set(ids));
    expect(sent.filter((p) => p.instruction === I.Read)).toEqual([]);
    for (const u of ids) expect(polls.get(`dxl-${u}`)).toBeGreaterThanOrEqual(9); // 10 Hz, 1 s
  });
});

describe('a poll cycle on a long bus', () => {
  it("reads its groups back to back, once per period, and a write sent as it starts goes right after the first group's read", async () => {
    const { rig, spy, bus } = longBus();
    stops.push(() => settle(rig, bus.stop()));
    bus.start();
    await runFor(rig, 1000);
    const reads = spy.dxlInstructions().filter((p) => p.instruction === I.FastSyncRead);
    const groups = new Set(reads.map((p) => p.params.subarray(4).join(','))).size;
    expect(groups).toBeGreaterThanOrEqual(3); // 24 xm430 servos: 10 a group at most
    // Cycles: every group once, the reads one right after another (well within the
    // 100 ms period), then a pause until the next period.
    const cycles: number[][] = [];
    for (const p of reads) {
      const last = cycles.at(-1);
      if (last && p.at - last[0]! < 50) last.push(p.at);
      else cycles.push([p.at]);
    }
    expect(cycles.length).toBeGreaterThanOrEqual(9);
    for (const c of cycles.slice(1, -1)) expect(c).toHaveLength(groups);

    // Between cycles (the one at 1000 ms is over by 1050), then the next one starts: its
    // first group read goes on the wire, the others wait.
    await runFor(rig, 50);
    const before = spy.events.length;
    const n = spy.dxlInstructions().filter((p) => p.instruction === I.FastSyncRead).length;
    await runUntil(
      rig,
      () => spy.dxlInstructions().filter((p) => p.instruction === I.FastSyncRead).length > n,
      200,
    );
    const write = bus.write('dxl-24', [['goalPosition', 1000]]);
    expect('ok' in (await settle(rig, write))).toBe(true);
    await runFor(rig, 60);
    const order = spy
      .dxlInstructions(before)
      .map((p) => (p.instruction === I.FastSyncRead ? 'group read' : p.instruction))
      .slice(0, groups + 1);
    expect(order).toEqual(['group read', I.Write, ...Array(groups - 1).fill('group read')]);
  });
});
