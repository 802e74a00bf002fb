/**
 * Modbus over serial line V1.02 §2.5.1.1: frames are separated by at least 3.5
 * character times of silence. The bus never puts a request on the wire sooner than that
 * after the last byte it received (modbus-serial sends the next request at once).
 */
import { describe, expect, it } from 'vitest';
import { modbus } from '../../../../firmware-protocol/src/index.ts';
import { rigBus, runFor, SF, settle, simRig } from './harness.ts';

describe('inter-frame silence', () => {
  it('every request starts at least 3.5 characters after the previous reply arrived', async () => {
    const rig = simRig('modbus-rtu');
    // Polled as fast as the bus allows, so requests follow replies back to back.
    const { bus, spy } = rigBus(rig, 'modbus-rtu', {
      drives: [1, 2, 3, 4].map((u) => ({ id: `axis-${u}`, unit: u, profile: SF, pollHz: 500 })),
    });
    bus.start();
    await runFor(rig, 1000);
    const events = spy.events;
    const gap = modbus.silenceMs(115200);
    let lastRx = Number.NEGATIVE_INFINITY;
    let checked = 0;
    for (const e of events) {
      if (e.dir === 'rx') lastRx = e.at;
      else {
        expect(e.at - lastRx).toBeGreaterThanOrEqual(gap - 1e-9);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(50);
    await settle(rig, bus.stop());
  });
});
