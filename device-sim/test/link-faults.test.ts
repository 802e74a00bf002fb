import { createConnection, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { modbus } from '../../firmware-protocol/src/index.ts';
import { Simulator } from '../src/simulator.ts';
import { ModbusMaster, manualSim, PROFILES } from './harness.ts';

const READ = { fc: 0x03, address: 1, quantity: 1 } as const;

describe('link faults', () => {
  it('garbage before a reply: a resynchronising master still finds the reply', async () => {
    const { sim } = manualSim();
    const m = new ModbusMaster(sim.connect('bus-a'), sim);
    sim.inject({ link: 'bus-a', fault: 'garbage', rate: 1, bytes: 6 });
    for (let i = 0; i < 5; i++)
      expect(await m.request(1, READ)).toEqual({ fc: 3, values: [0x0250] });
    expect(m.framer.stats.discardedBytes).toBeGreaterThan(0);
  });

  it('truncated replies never complete; corrupted requests are never answered', async () => {
    const { sim } = manualSim();
    const m = new ModbusMaster(sim.connect('bus-a'), sim);
    sim.inject({ link: 'bus-a', fault: 'truncate', rate: 1 });
    expect(await m.request(1, READ)).toBeUndefined();
    sim.clear();
    sim.inject({ link: 'bus-a', fault: 'corrupt', rate: 1 });
    expect(await m.request(1, READ)).toBeUndefined();
    expect(sim.links()[0]!.counters.repliesSent).toBe(1); // only the truncated one
    sim.clear();
    expect(await m.request(1, READ)).toEqual({ fc: 3, values: [0x0250] });
  });

  it('a delayed drive answers late by the injected time', async () => {
    const { sim } = manualSim();
    const m = new ModbusMaster(sim.connect('bus-a'), sim);
    sim.inject({ drive: 'axis-1', fault: 'delay', ms: 40 });
    const t0 = sim.clock.now();
    expect(await m.request(1, READ, 100)).toEqual({ fc: 3, values: [0x0250] });
    expect(sim.clock.now() - t0).toBeGreaterThanOrEqual(40);
    expect(await m.request(1, READ, 30)).toBeUndefined();
  });

  it('disconnect closes the TCP client, refuses new ones for the time given, then serves again', async () => {
    const sim = new Simulator({
      links: [
        {
          id: 'bus-a',
          protocol: 'modbus-rtu',
          baud: 115200,
          listen: 'tcp://127.0.0.1:0',
          drives: [{ id: 'axis-1', unit: 1, profile: PROFILES.get('sf-servo')! }],
        },
      ],
    });
    try {
      const [where] = await sim.start();
      const port = Number(new URL(where!.address).port);
      const connect = () =>
        new Promise<Socket>((resolve, reject) => {
          const s = createConnection(port, '127.0.0.1', () => resolve(s));
          s.once('error', reject);
        });
      const ask = (s: Socket) =>
        new Promise<'answer' | 'closed'>((resolve) => {
          s.once('data', () => resolve('answer'));
          s.once('close', () => resolve('closed'));
          s.write(modbus.encodeRequest(1, READ));
        });
      const first = await connect();
      expect(await ask(first)).toBe('answer');
      const closed = new Promise((r) => first.once('close', r));
      sim.inject({ link: 'bus-a', fault: 'disconnect', ms: 300 });
      await closed;
      // While the fault lasts, a new client is dropped at once.
      expect(await ask(await connect())).toBe('closed');
      // Afterwards a client is served again (retry bounded: 100 × 20 ms).
      let result: string = 'closed';
      for (let i = 0; i < 100 && result !== 'answer'; i++) {
        await new Promise((r) => setTimeout(r, 20));
        const s = await connect();
        result = await ask(s);
        s.destroy();
      }
      expect(result).toBe('answer');
    } finally {
      await sim.close();
    }
  });
});
