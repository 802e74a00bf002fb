import { afterEach, describe, expect, it, vi } from 'vitest';
import { BusError, ERROR_CODES, modbusTimeoutMs } from '../../src/bus/index.ts';
import { dynamixelTimeoutMs } from '../../src/bus/timing.ts';
import { rigBus, runFor, settle, simRig } from './harness.ts';

describe('bus errors', () => {
  it('every code is documented and errors carry code, wire code and cause', () => {
    for (const [code, doc] of Object.entries(ERROR_CODES)) {
      expect(code).toMatch(/^[A-Z_]+$/);
      expect(doc.length).toBeGreaterThan(20);
    }
    const cause = new Error('exception 03');
    const e = new BusError('DRIVE_REJECTED', 'refused', { wireCode: 3, cause });
    expect(e).toMatchObject({ name: 'BusError', code: 'DRIVE_REJECTED', wireCode: 3, cause });
  });
});

describe('transaction timeouts are derived from the line, never fixed', () => {
  it('Modbus: 22-register read at 115200 baud 8N1 over an in-memory link', () => {
    const line = { baud: 115200, bitsPerChar: 10, latencyMs: 1 };
    // 1 ms latency + (8 + 49 bytes) × 0.0868 ms + 2 × 1.75 ms (t3.5 above 19200 baud)
    // + 2 ms turnaround + slack (1 ms + 2 chars + 10 % of the wire time)
    const wire = (57 * 10) / 115.2;
    const expected = 1 + wire + 3.5 + 2 + (1 + 20 / 115.2 + 0.1 * wire);
    expect(modbusTimeoutMs(line, 8, 49, 2)).toBeCloseTo(expected, 9);
    expect(modbusTimeoutMs(line, 8, 49, 2)).toBeLessThan(20);
  });

  it('Modbus at 9600 baud with parity: the silences are 3.5 characters of 11 bits', () => {
    const line = { baud: 9600, bitsPerChar: 11, latencyMs: 10 };
    const char = 11 / 9.6;
    const wire = 57 * char;
    const expected = 10 + wire + 2 * 3.5 * char + 2 + (1 + 2 * char + 0.1 * wire);
    expect(modbusTimeoutMs(line, 8, 49, 2)).toBeCloseTo(expected, 9);
  });

  it('Dynamixel: a sync read of two 83-byte blocks at 1 Mbaud waits for both return delays', () => {
    const line = { baud: 1_000_000, bitsPerChar: 10, latencyMs: 0 };
    const t = dynamixelTimeoutMs(line, 16, [94, 94], 2 * 0.5);
    expect(t).toBeCloseTo(204 * 0.01 + 1 + (1 + 0.02 + 0.1 * 2.04), 9);
  });
});

describe('CRC errors on a noisy line', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('are counted, never decoded as values, and the bus carries on', async () => {
    // The breakers' probe jitter uses Math.random: make the run repeatable.
    let seed = 1;
    vi.spyOn(Math, 'random').mockImplementation(() => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    });
    const rig = simRig('modbus-rtu', { seed: 3 });
    const { bus, polls } = rigBus(rig, 'modbus-rtu');
    rig.sim.inject({ link: 'bus-a', fault: 'corrupt', rate: 0.001 });
    bus.start();
    await runFor(rig, 5000);
    const stats = bus.stats();
    const crc = Object.values(stats.drives).reduce((s, d) => s + d.crcErrors, 0);
    const timeouts = Object.values(stats.drives).reduce((s, d) => s + d.timeouts, 0);
    expect(crc).toBeGreaterThan(0);
    expect(timeouts).toBeGreaterThanOrEqual(crc);
    for (const id of ['axis-1', 'axis-2', 'axis-3', 'axis-4']) {
      const list = polls.get(id)!;
      expect(list.length).toBeGreaterThan(80); // most of the 100 polls
      expect(list.every((p) => p.values.statusword === 0x0250)).toBe(true);
    }
    await settle(rig, bus.stop());
  });
});
