/**
 * `npm run bench -- sim`: how many drives one simulator process runs at 1 kHz physics
 * in real time, and the simulator's own answer latency on an unpaced in-memory link.
 *
 * Capacity: N drives (sf-servo, in buses of 32), all enabled in profile-velocity mode
 * reversing every 200 ms so every step integrates a moving axis; the physics is run
 * for 2 simulated seconds on a stepped clock and the CPU it costs is measured. CPU per
 * drive = CPU per simulated second / N; the largest fleet that keeps up on one core is
 * the largest of the measured fleets that stays within 90 % of one core.
 */
import { resolve } from 'node:path';
import { ManualClock, realClock, Simulator } from '../device-sim/src/index.ts';
import { cia402, modbus, profiles } from '../firmware-protocol/src/index.ts';
import { percentile, type Row } from './harness.ts';

const SF = profiles
  .loadProfileDir(resolve(import.meta.dirname, '../config/profiles'))
  .get('sf-servo')!;

function fleet(n: number, clock = new ManualClock(0)) {
  const links = [];
  for (let b = 0; b * 32 < n; b++) {
    const count = Math.min(32, n - b * 32);
    links.push({
      id: `bus-${b}`,
      protocol: 'modbus-rtu' as const,
      baud: 115200,
      listen: 'memory://',
      drives: Array.from({ length: count }, (_, i) => ({
        id: `d-${b}-${i}`,
        unit: i + 1,
        profile: SF,
      })),
    });
  }
  const sim = new Simulator({ clock, seed: 1, links });
  const drives = links.flatMap((l) => l.drives.map((d) => sim.drive(d.id)));
  for (const d of drives) {
    d.write('modesOfOperation', cia402.Mode.PV);
    for (const cw of [0x06, 0x07, 0x0f]) d.write('controlword', cw);
  }
  return { sim, clock, drives };
}

/** CPU ms per simulated second with n drives. */
function physicsCost(n: number): number {
  const { sim, drives } = fleet(n);
  const run = (ms: number) => {
    for (let t = 0; t < ms; t += 200) {
      const v = (t / 200) % 2 === 0 ? 20_000 : -20_000;
      for (const d of drives) d.write('targetVelocity', v);
      sim.advance(200);
    }
  };
  run(400); // warm-up
  const cpu0 = process.cpuUsage();
  run(2000);
  const cpu = process.cpuUsage(cpu0);
  void sim.close();
  return (cpu.user + cpu.system) / 1000 / 2;
}

async function answerLatency(samples: number): Promise<number[]> {
  const sim = new Simulator({
    clock: realClock,
    links: [
      {
        id: 'bus',
        protocol: 'modbus-rtu',
        baud: 115200,
        listen: 'memory://',
        paced: false,
        turnaroundMs: 0,
        drives: [{ id: 'd', unit: 1, profile: SF }],
      },
    ],
  });
  await sim.start();
  const link = sim.connect('bus');
  const framer = new modbus.RtuMasterFramer({ baud: 115200, gapMs: null });
  const req = { fc: 0x03, address: 1, quantity: 22 } as const;
  const bytes = modbus.encodeRequest(1, req);
  let resolveOne: (() => void) | undefined;
  link.onData((b) => {
    if (framer.feed(b, performance.now()).length > 0) resolveOne?.();
  });
  const out: number[] = [];
  for (let i = 0; i < samples; i++) {
    framer.expect(1, req);
    const t0 = performance.now();
    await new Promise<void>((r) => {
      resolveOne = r;
      link.write(bytes);
    });
    out.push(performance.now() - t0);
  }
  await sim.close();
  return out.sort((a, b) => a - b);
}

export async function simSuite(): Promise<Row[]> {
  const rows: Row[] = [];
  // Measured, not extrapolated: the cost per drive grows with the fleet (caches, GC).
  const sizes = [100, 500, 1000, 2000];
  let largest = 0;
  for (const n of sizes) {
    const ms = physicsCost(n);
    if (ms <= 900) largest = n;
    rows.push({
      suite: 'sim',
      name: `physics 1 kHz, ${n} drives`,
      value: ms / 10,
      unit: '% of a core',
      note: `${((ms / n) * 1000).toFixed(1)} µs CPU per drive per simulated second`,
    });
  }
  rows.push({
    suite: 'sim',
    name: 'largest measured fleet in real time (≤ 90% of 1 core)',
    value: largest,
    unit: 'drives',
    note: `of ${sizes.join(', ')} drives measured (target ≥ 500 drives)`,
  });
  const lat = await answerLatency(2000);
  rows.push({
    suite: 'sim',
    name: 'answer latency, unpaced memory link, p50',
    value: percentile(lat, 50),
    unit: 'ms',
  });
  rows.push({
    suite: 'sim',
    name: 'answer latency, unpaced memory link, p99',
    value: percentile(lat, 99),
    unit: 'ms',
  });
  return rows;
}
