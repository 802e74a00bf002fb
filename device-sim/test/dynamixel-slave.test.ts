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

  describe("Indirect Address and Indirect Data (the profile's banks)", () => {
    const ENTRY = 168;
    const DATA = 224;
    /** Entries naming torque enable (64) and present position (132–135), from entry `k`. */
    const mapping = (k = 0) => {
      const targets = [64, 132, 133, 134, 135];
      const bytes = new Uint8Array(2 * targets.length);
      targets.forEach((t, i) => {
        bytes.set(dxl.writeUint(t, 2), 2 * i);
      });
      return dxl.write(1, ENTRY + 2 * k, bytes);
    };
    const error = (p: { error: number } | undefined) => dxl.decodeStatusError(p!.error).name;

    it('reads and writes far-apart items as one block once mapped', async () => {
      const { sim } = manualSim();
      const m = new DxlMaster(sim.connect('bus-b'), sim);
      // Defaults: each entry names its own data byte, a plain byte of RAM.
      const [d] = await m.request(dxl.read(1, ENTRY, 4), 1);
      expect([...d!.params]).toEqual([224, 0, 225, 0]);
      await m.request(dxl.write(1, DATA, Uint8Array.of(7)), 1);
      expect([...(await m.request(dxl.read(1, DATA, 2), 1))[0]!.params]).toEqual([7, 0]);

      const [w] = await m.request(mapping(), 1);
      expect(w!.error).toBe(0);
      // Torque on through Indirect Data 1, a move, then one read of the five bytes.
      const [on] = await m.request(dxl.write(1, DATA, Uint8Array.of(1)), 1);
      expect(on!.error).toBe(0);
      await m.request(dxl.write(1, addr('goalPosition'), u32(2000)), 1);
      await run(sim, 2000, 5);
      const [ind] = await m.request(dxl.read(1, DATA, 5), 1);
      const [dir] = await m.request(dxl.read(1, addr('presentPosition'), 4), 1);
      expect(ind!.params[0]).toBe(1);
      expect([...ind!.params.subarray(1)]).toEqual([...dir!.params]);
      expect(profiles.decodeBytes(XM, 'presentPosition', dir!.params, 132)).toBeGreaterThan(1000);
      // Fast Sync Read of the mapped block: servo 2 is unmapped (its data bytes are 0).
      const [fast] = await m.request(dxl.fastSyncRead(DATA, 5, [1, 2]), 1);
      const items = dxl.parseFastSyncReadStatus(fast!, 5);
      expect([...items[0]!.data]).toEqual([...ind!.params]);
      expect([...items[1]!.data]).toEqual([0, 0, 0, 0, 0]);
    });

    it("keeps the mapped items' rules, refuses bad entries, and changes nothing on error", async () => {
      const { sim } = manualSim();
      const m = new DxlMaster(sim.connect('bus-b'), sim);
      await m.request(mapping(), 1);
      // Present position is read-only through Indirect Data too; half of it is a length error.
      expect(error((await m.request(dxl.write(1, DATA + 1, u32(5)), 1))[0])).toBe('ACCESS_ERROR');
      expect(error((await m.request(dxl.write(1, DATA + 1, Uint8Array.of(1, 2)), 1))[0])).toBe(
        'DATA_LENGTH_ERROR',
      );
      // An entry may name RAM only (64–661), and is written whole.
      const eeprom = dxl.write(1, ENTRY + 10, dxl.writeUint(11, 2));
      expect(error((await m.request(eeprom, 1))[0])).toBe('DATA_RANGE_ERROR');
      const half = dxl.write(1, ENTRY + 10, Uint8Array.of(65));
      expect(error((await m.request(half, 1))[0])).toBe('DATA_LENGTH_ERROR');
      // A write that fails part-way changes nothing: entry 6 and torque stay as they were.
      const both = dxl.write(1, ENTRY + 10, Uint8Array.of(65, 0, 7));
      expect(error((await m.request(both, 1))[0])).toBe('DATA_LENGTH_ERROR');
      const [e] = await m.request(dxl.read(1, ENTRY + 10, 2), 1);
      expect([...e!.params]).toEqual([229, 0]);
      const [t] = await m.request(dxl.read(1, addr('torqueEnable'), 1), 1);
      expect(t!.params[0]).toBe(0);
    });

    it('forgets the mapping on reboot, as RAM does', async () => {
      const { sim } = manualSim();
      const m = new DxlMaster(sim.connect('bus-b'), sim);
      await m.request(mapping(), 1);
      await m.request(dxl.reboot(1), 1);
      const [d] = await m.request(dxl.read(1, ENTRY, 2), 1);
      expect([...d!.params]).toEqual([224, 0]);
      // The second bank (Protocol 2.0 only, up to address 661) is there too.
      const [hi] = await m.request(dxl.read(1, 578, 2), 1);
      expect([...hi!.params]).toEqual([634 & 0xff, 634 >> 8]);
      expect((await m.request(dxl.read(1, 661, 1), 1))[0]!.error).toBe(0);
    });
  });
});
