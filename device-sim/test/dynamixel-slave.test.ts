import { describe, expect, it } from 'vitest';
import { dynamixel as dxl, profiles } from '../../firmware-protocol/src/index.ts';
import { DxlMaster, manualSim, PROFILES, run } from './harness.ts';

const XM = PROFILES.get('xm430')!;
const addr = (name: string) => profiles.objectInfo(XM, name).address;
const u32 = (v: number) => dxl.writeUint(v, 4);

describe('Dynamixel 2.0 slave (xm430)', () => {
  it('answers a ping with model number 1020 and a broadcast ping from both servos in id order', async () => {
    const { sim } = manualSim();
    const m = new DxlMaster(sim.connect('bus-b'), sim);
    const [one] = await m.request(dxl.ping(1), 1);
    expect(one!.id).toBe(1);
    expect(dxl.parsePingStatus(one!).modelNumber).toBe(1020);
    const all = await m.request(dxl.ping(dxl.BROADCAST_ID), 2);
    expect(all.map((p) => p.id)).toEqual([1, 2]);
    expect(await m.request(dxl.ping(7), 1, 5)).toEqual([]);
  });

  it('sync-reads both servos, and the present position follows a goal-position write', async () => {
    const { sim } = manualSim();
    const m = new DxlMaster(sim.connect('bus-b'), sim);
    const [w] = await m.request(dxl.write(2, addr('torqueEnable'), Uint8Array.of(1)), 1);
    expect(w!.error).toBe(0);
    // 100 units × 0.229 rev/min = 1563 counts/s
    await m.request(dxl.write(2, addr('profileVelocity'), u32(100)), 1);
    await m.request(dxl.write(2, addr('goalPosition'), u32(3000)), 1);
    await run(sim, 3000, 5);
    const base = addr('torqueEnable');
    const len = addr('presentTemperature') - base + 1;
    const replies = await m.request(dxl.syncRead(base, len, [1, 2]), 2);
    expect(replies.map((p) => p.id)).toEqual([1, 2]);
    const pos = replies.map((p) => profiles.decodeBytes(XM, 'presentPosition', p.params, base));
    expect(pos[0]).toBe(0);
    expect(Math.abs(pos[1]! - 3000)).toBeLessThanOrEqual(10);
    expect(profiles.decodeBytes(XM, 'torqueEnable', replies[1]!.params, base)).toBe(1);
    expect(
      profiles.decodeBytes(XM, 'presentInputVoltage', replies[1]!.params, base),
    ).toBeGreaterThan(40);
  });

  it('answers a fast sync read with one packet carrying both servos', async () => {
    const { sim } = manualSim();
    const m = new DxlMaster(sim.connect('bus-b'), sim);
    const base = addr('presentPosition');
    const [p] = await m.request(dxl.fastSyncRead(base, 4, [1, 2]), 1);
    expect(p!.id).toBe(dxl.BROADCAST_ID);
    const items = dxl.parseFastSyncReadStatus(p!, 4);
    expect(items.map((i) => [i.id, i.error])).toEqual([
      [1, 0],
      [2, 0],
    ]);
  });

  it('refuses EEPROM writes with torque on (access error) and goal positions past the limit', async () => {
    const { sim } = manualSim();
    const m = new DxlMaster(sim.connect('bus-b'), sim);
    await m.request(dxl.write(1, addr('torqueEnable'), Uint8Array.of(1)), 1);
    const [eeprom] = await m.request(dxl.write(1, addr('operatingMode'), Uint8Array.of(1)), 1);
    expect(dxl.decodeStatusError(eeprom!.error).name).toBe('ACCESS_ERROR');
    const [limit] = await m.request(dxl.write(1, addr('goalPosition'), u32(5000)), 1);
    expect(dxl.decodeStatusError(limit!.error).name).toBe('DATA_LIMIT_ERROR');
    const [ro] = await m.request(dxl.write(1, addr('presentPosition'), u32(1)), 1);
    expect(dxl.decodeStatusError(ro!.error).name).toBe('ACCESS_ERROR');
  });

  it('reports an injected fault as hardware error status with the alert bit; reboot clears it', async () => {
    const { sim } = manualSim();
    const m = new DxlMaster(sim.connect('bus-b'), sim);
    await m.request(dxl.write(1, addr('torqueEnable'), Uint8Array.of(1)), 1);
    sim.inject({ drive: 'dxl-1', fault: 'drive-fault', code: 0x4310 });
    await run(sim, 600, 5);
    const [r] = await m.request(dxl.read(1, addr('hardwareErrorStatus'), 1), 1);
    expect(r!.error & dxl.ALERT_BIT).not.toBe(0);
    expect(r!.params[0]).toBe(0x04); // overheating
    const [t] = await m.request(dxl.read(1, addr('torqueEnable'), 1), 1);
    expect(t!.params[0]).toBe(0);
    await m.request(dxl.reboot(1), 1);
    const [after] = await m.request(dxl.read(1, addr('hardwareErrorStatus'), 1), 1);
    expect(after!.error).toBe(0);
    expect(after!.params[0]).toBe(0);
  });

  it('keeps a dead servo silent while its neighbour answers', async () => {
    const { sim } = manualSim();
    const m = new DxlMaster(sim.connect('bus-b'), sim);
    sim.inject({ drive: 'dxl-1', fault: 'no-response' });
    expect(await m.request(dxl.ping(1), 1, 5)).toEqual([]);
    const replies = await m.request(dxl.syncRead(addr('presentPosition'), 4, [1, 2]), 2, 5);
    expect(replies.map((p) => p.id)).toEqual([2]);
  });
});
