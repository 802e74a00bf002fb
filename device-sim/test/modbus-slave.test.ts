import { describe, expect, it } from 'vitest';
import { cia402, crc16Modbus, modbus } from '../../firmware-protocol/src/index.ts';
import { Capture, ModbusMaster, manualSim, run } from './harness.ts';

const S = cia402.Cia402State;

async function enable(m: ModbusMaster, unit: number) {
  for (let i = 0; i < 10; i++) {
    const state = cia402.decodeStatusword(await m.get(unit, 'statusword'));
    const next = cia402.nextControlword(state, S.OPERATION_ENABLED, { allowFaultReset: true });
    if (next === null) return state;
    if (!('controlword' in next)) throw new Error(`blocked: ${next.blocked}`);
    await m.set(unit, 'controlword', next.controlword);
  }
  return cia402.decodeStatusword(await m.get(unit, 'statusword'));
}

describe('Modbus RTU slave (sf-servo)', () => {
  it('answers every unit of the bus with SWITCH_ON_DISABLED after power-up', async () => {
    const { sim } = manualSim();
    const m = new ModbusMaster(sim.connect('bus-a'), sim);
    for (const unit of [1, 2, 3, 4]) {
      expect(cia402.decodeStatusword(await m.get(unit, 'statusword'))).toBe(S.SWITCH_ON_DISABLED);
    }
  });

  it('walks to OPERATION_ENABLED and runs a profile-position move to the target', async () => {
    const { sim } = manualSim();
    const m = new ModbusMaster(sim.connect('bus-a'), sim);
    expect(await enable(m, 2)).toBe(S.OPERATION_ENABLED);
    await m.set(2, 'profileVelocity', 20_000);
    await m.set(2, 'profileAcceleration', 200_000);
    await m.set(2, 'profileDeceleration', 200_000);
    await m.set(2, 'targetPosition', 12_000);
    await m.set(2, 'controlword', cia402.newSetpoint(cia402.Controlword.ENABLE_OPERATION, {}));
    const sw = await m.get(2, 'statusword');
    expect(sw & (1 << cia402.StatuswordBit.SetpointAck)).not.toBe(0);
    await m.set(2, 'controlword', cia402.Controlword.ENABLE_OPERATION);
    await run(sim, 1200, 5);
    expect(Math.abs((await m.get(2, 'positionActual')) - 12_000)).toBeLessThanOrEqual(10);
    expect((await m.get(2, 'statusword')) & (1 << cia402.StatuswordBit.TargetReached)).not.toBe(0);
    // The neighbours did not move.
    expect(await m.get(1, 'positionActual')).toBe(0);
    // Relative move: bit 6 with the new set-point.
    await m.set(2, 'targetPosition', -2000);
    await m.set(
      2,
      'controlword',
      cia402.newSetpoint(cia402.Controlword.ENABLE_OPERATION, { relative: true }),
    );
    await m.set(2, 'controlword', cia402.Controlword.ENABLE_OPERATION);
    await run(sim, 800, 5);
    expect(Math.abs((await m.get(2, 'positionActual')) - 10_000)).toBeLessThanOrEqual(10);
  });

  it('follows a profile-velocity target and homes to the switch', async () => {
    const { sim } = manualSim();
    const m = new ModbusMaster(sim.connect('bus-a'), sim);
    await m.set(1, 'modesOfOperation', cia402.Mode.PV);
    expect(await enable(m, 1)).toBe(S.OPERATION_ENABLED);
    await m.set(1, 'targetVelocity', 5000);
    await run(sim, 500, 5);
    expect(Math.abs((await m.get(1, 'velocityActual')) - 5000)).toBeLessThan(100);
    await m.set(1, 'targetVelocity', 0);
    await run(sim, 300, 5);
    await m.set(1, 'modesOfOperation', cia402.Mode.HOMING);
    expect(await m.get(1, 'modesOfOperationDisplay')).toBe(cia402.Mode.HOMING);
    await m.set(1, 'controlword', cia402.newSetpoint(cia402.Controlword.ENABLE_OPERATION, {}));
    await run(sim, 3000, 10);
    const sw = await m.get(1, 'statusword');
    expect(sw & (1 << cia402.StatuswordBit.SetpointAck)).not.toBe(0); // homing attained
    expect(Math.abs(await m.get(1, 'positionActual'))).toBeLessThanOrEqual(10);
  });

  it('answers exception 02 outside the map or on a read-only object, 03 for a bad value', async () => {
    const { sim } = manualSim();
    const m = new ModbusMaster(sim.connect('bus-a'), sim);
    expect(await m.request(1, { fc: 0x03, address: 0x0010, quantity: 10 })).toEqual({
      fc: 0x03,
      exception: 2,
    });
    expect(await m.request(1, { fc: 0x06, address: 0x0001, value: 1 })).toEqual({
      fc: 0x06,
      exception: 2,
    });
    expect(await m.request(1, { fc: 0x06, address: 0x0002, value: 4 })).toEqual({
      fc: 0x06,
      exception: 3,
    });
    expect(await m.get(1, 'modesOfOperation')).toBe(cia402.Mode.PP);
    // FC 0x04 reads the same map; 0x17 writes then reads.
    const r = await m.request(1, {
      fc: 0x17,
      readAddress: 2,
      readQuantity: 2,
      writeAddress: 2,
      values: [3],
    });
    expect(r).toEqual({ fc: 0x17, values: [3, 3] });
    expect(await m.request(1, { fc: 0x04, address: 3, quantity: 1 })).toEqual({
      fc: 0x04,
      values: [3],
    });
  });

  it('keeps silent for a corrupted request, another unit, and a dead unit, while the others answer', async () => {
    const { sim, clock } = manualSim();
    const link = sim.connect('bus-a');
    const cap = new Capture(link, clock);
    const bad = modbus.encodeRequest(1, { fc: 0x03, address: 0, quantity: 2 });
    bad[bad.length - 1] ^= 0x01; // CRC no longer checks
    link.write(bad);
    link.write(modbus.encodeRequest(9, { fc: 0x03, address: 0, quantity: 2 }));
    await run(sim, 20, 0.5);
    expect(cap.take()).toEqual(new Uint8Array(0));

    sim.inject({ drive: 'axis-2', fault: 'no-response' });
    const m = new ModbusMaster(link, sim);
    expect(await m.request(2, { fc: 0x03, address: 1, quantity: 1 })).toBeUndefined();
    expect(await m.request(3, { fc: 0x03, address: 1, quantity: 1 })).toEqual({
      fc: 0x03,
      values: [0x0250],
    });
    sim.clear({ drive: 'axis-2' });
    expect(await m.request(2, { fc: 0x03, address: 1, quantity: 1 })).toEqual({
      fc: 0x03,
      values: [0x0250],
    });
  });

  it('loses a request to another unit sent without the 3.5-character silence after a reply, as a real RS-485 bus does', async () => {
    const { sim } = manualSim();
    const m = new ModbusMaster(sim.connect('bus-a'), sim);
    const read = { fc: 0x03, address: 1, quantity: 1 } as const;
    const answer = { fc: 0x03, values: [0x0250] };
    expect(await m.request(1, read)).toEqual(answer);
    // Unit 2 heard unit 1's reply; a request right after it is that reply's tail to it.
    expect(await m.request(2, read, 50, { skipSilence: true })).toBeUndefined();
    expect(sim.links()[0]!.counters.lateRequests).toBe(1);
    // The unit that just answered hears it cleanly (its receiver was off while it sent).
    expect(await m.request(1, read)).toEqual(answer);
    expect(await m.request(1, read, 50, { skipSilence: true })).toEqual(answer);
    // With the silence, unit 2 answers.
    expect(await m.request(2, read)).toEqual(answer);
    expect(sim.links()[0]!.counters.lateRequests).toBe(1);
  });

  it('answers such a request anyway with lenientFraming (a bus with one drive behaves so)', async () => {
    const { sim } = manualSim({ lenientFraming: true });
    const m = new ModbusMaster(sim.connect('bus-a'), sim);
    const read = { fc: 0x03, address: 1, quantity: 1 } as const;
    expect(await m.request(1, read)).toEqual({ fc: 0x03, values: [0x0250] });
    expect(await m.request(2, read, 50, { skipSilence: true })).toEqual({
      fc: 0x03,
      values: [0x0250],
    });
    expect(sim.links()[0]!.counters.lateRequests).toBe(0);
  });

  it('shows an injected over-temperature as 0x4310 and FAULT; a fault reset returns to SWITCH_ON_DISABLED', async () => {
    const { sim } = manualSim();
    const m = new ModbusMaster(sim.connect('bus-a'), sim);
    expect(await enable(m, 3)).toBe(S.OPERATION_ENABLED);
    sim.inject({ drive: 'axis-3', fault: 'drive-fault', code: '0x4310' });
    await run(sim, 50, 5);
    expect(cia402.decodeStatusword(await m.get(3, 'statusword'))).toBe(S.FAULT);
    expect(await m.get(3, 'errorCode')).toBe(0x4310);
    await m.set(3, 'controlword', 0x80); // rising edge of bit 7
    expect(cia402.decodeStatusword(await m.get(3, 'statusword'))).toBe(S.SWITCH_ON_DISABLED);
    expect(await m.get(3, 'errorCode')).toBe(0);
  });

  it('faults with 0x8611 when a load stalls the axis beyond the following-error window', async () => {
    const { sim } = manualSim();
    const m = new ModbusMaster(sim.connect('bus-a'), sim);
    expect(await enable(m, 4)).toBe(S.OPERATION_ENABLED);
    sim.inject({ drive: 'axis-4', fault: 'load', torque: 4000 }); // beyond peak torque
    await m.set(4, 'targetPosition', 50_000);
    await m.set(4, 'controlword', cia402.newSetpoint(cia402.Controlword.ENABLE_OPERATION, {}));
    await run(sim, 1000, 5);
    expect(cia402.decodeStatusword(await m.get(4, 'statusword'))).toBe(S.FAULT);
    expect(await m.get(4, 'errorCode')).toBe(0x8611);
  });

  it('paces a 33-byte exchange at 115200 baud: 8 + 25 bytes of 10 bits, the silence, the turnaround', async () => {
    const { sim, clock } = manualSim();
    const link = sim.connect('bus-a');
    const cap = new Capture(link, clock);
    const req = modbus.encodeRequest(1, { fc: 0x03, address: 0x0001, quantity: 10 });
    expect(req.length + modbus.expectedResponseLength({ fc: 0x03, address: 1, quantity: 10 })).toBe(
      33,
    );
    link.write(req);
    await Promise.resolve();
    const wireMs = (33 * 10 * 1000) / 115200; // 2.865 ms
    const expectedAt = wireMs + 1.75 + 1; // + the 3.5-character silence (fixed 1.75 ms) + 1 ms turnaround
    await run(sim, expectedAt - 0.02, 0.01);
    expect(cap.chunks).toEqual([]);
    await run(sim, 0.04, 0.01);
    expect(cap.take().length).toBe(25);
  });

  it('replays byte for byte with the same seed', async () => {
    const record = async () => {
      const { sim, clock } = manualSim({ seed: 99 });
      const link = sim.connect('bus-a');
      const cap = new Capture(link, clock);
      const m = new ModbusMaster(link, sim);
      await enable(m, 1);
      await m.set(1, 'targetPosition', 3000);
      await m.set(1, 'controlword', 0x1f);
      for (let i = 0; i < 20; i++) {
        await run(sim, 10, 1);
        await m.read(1, 1, 22);
      }
      return cap.take();
    };
    const a = await record();
    const b = await record();
    expect(a.length).toBeGreaterThan(500);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(crc16Modbus(a)).toBe(crc16Modbus(b));
  });
});
