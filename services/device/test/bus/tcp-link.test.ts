import { describe, expect, it } from 'vitest';
import { Simulator } from '../../../../device-sim/src/index.ts';
import { Bus } from '../../src/bus/index.ts';
import { modbusDrives, SF } from './harness.ts';

/** Waits (wall clock, bounded) until `ok()` holds. */
async function waitFor(ok: () => boolean, maxMs: number): Promise<boolean> {
  const end = Date.now() + maxMs;
  while (!ok() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  return ok();
}

describe('Bus over a TCP serial bridge (simulator on loopback, wall clock)', () => {
  it('link drop and return: drives unreachable while down, back online by themselves', async () => {
    const sim = new Simulator({
      links: [
        {
          id: 'bus-a',
          protocol: 'modbus-rtu',
          baud: 115200,
          listen: 'tcp://127.0.0.1:0',
          drives: [1, 2, 3, 4].map((u) => ({ id: `axis-${u}`, unit: u, profile: SF })),
        },
      ],
    });
    const [where] = await sim.start();
    const bus = new Bus({
      linkId: 'bus-a',
      protocol: 'modbus-rtu',
      baud: 115200,
      drives: modbusDrives(20),
      link: where!.address,
      reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
    });
    const ids = ['axis-1', 'axis-2', 'axis-3', 'axis-4'];
    const link: string[] = [];
    let polls = 0;
    bus.onLink((s) => link.push(s));
    bus.onPoll(() => polls++);
    const all = (a: string) => ids.every((id) => bus.availability(id) === a);
    try {
      bus.start();
      expect(await waitFor(() => all('online'), 3000)).toBe(true);
      const r = await bus.read('axis-2', ['statusword']);
      expect(r).toEqual({ statusword: 0x0250 });

      sim.inject({ link: 'bus-a', fault: 'disconnect', ms: 300 });
      expect(await waitFor(() => link.includes('down') && all('unreachable'), 2000)).toBe(true);

      expect(await waitFor(() => all('online'), 5000)).toBe(true);
      const before = polls;
      expect(await waitFor(() => polls >= before + 8, 2000)).toBe(true);
      expect(link.at(-1)).toBe('up');
      expect(bus.stats().linkUp).toBe(true);
      await bus.write('axis-1', [['targetPosition', 77]]);
      expect(sim.drive('axis-1').read('targetPosition')).toBe(77);
    } finally {
      await bus.stop();
      await sim.close();
    }
  });
});
