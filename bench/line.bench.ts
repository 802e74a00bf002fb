/**
 * `node bin/run-ts.js bench/line.bench.ts` (or `npm run bench -- line` once listed in
 * bench/run.ts): the demo line (config/demo-fleet.yaml, line-1) on the simulator, with
 * the device services over in-memory links paced at the links' baud rates and aedes.
 *
 * - Cycles/min, healthy: the whole cycle.
 * - Cycles/min, healthy with the label station removed from the cycle (its parts taken
 *   out of the fleet file): what the line can do without that station.
 * - Cycles/min, degraded: the whole cycle with axis-4 (the bypassable label station)
 *   dead (no-response): the line bypasses it. As a fraction of the rate with the
 *   station removed (target ≥ 95%: bypassing costs nothing).
 * - Stall around the failure: the fault is injected as the label station's move starts;
 *   the stall is how much longer the cycle that met the failure took than the median
 *   degraded cycle after it; the target is below 2× the breaker's open threshold time,
 *   measured as the time from the fault to the device service's `breaker open` event.
 * Bounded: about 45 s.
 */
import { pathToFileURL } from 'node:url';
import { eventually, LINE, type LineRig, startLineRig } from '../test/line/harness.ts';
import { printTable, type Row } from './harness.ts';

const CYCLES = 5;
const SUITE = 'line';

function cycleEnds(r: LineRig, from = 0) {
  return r
    .events(from)
    .filter((e) => e.type === 'cycle' && e.phase === 'completed')
    .map((e) => ({ cycle: Number(e.cycle), ts: Number(e.ts), ms: Number(e.ms) }));
}

/** Cycles/min from the wall time between the first and the last of `n + 1` cycle ends. */
async function rate(r: LineRig, n: number): Promise<{ perMin: number; cycleMs: number[] }> {
  const from = r.w.messages.length;
  await eventually(() => cycleEnds(r, from).length >= n + 1, `${n + 1} cycles`, (n + 2) * 6000, 50);
  const ends = cycleEnds(r, from).slice(0, n + 1);
  const span = ends.at(-1)!.ts - ends[0]!.ts;
  return { perMin: (n * 60_000) / span, cycleMs: ends.slice(1).map((e) => e.ms) };
}

/** Start (a new) line controller on the rig's drives and let it complete a first cycle. */
async function run(r: LineRig, edit?: (line: Record<string, unknown>) => void): Promise<void> {
  const from = r.w.messages.length;
  await r.startInProcess(edit ? { edit } : {});
  await r.w.next(
    (m) => m.topic === `servofleet/lines/${LINE}/events` && m.json.type === 'recovery',
    'the controller up (its recovery report)',
    15_000,
    from,
  );
  const reply = await r.command('start');
  if (reply.status !== 'completed') throw new Error(`start: ${JSON.stringify(reply)}`);
  const c = Number(r.latestState()?.cyclesCompleted ?? 0);
  await r.waitState((s) => Number(s.cyclesCompleted) > c, 'a first cycle', 15_000);
}

/** line-1 without the label station's parts (and without the station). */
function withoutLabel(line: Record<string, unknown>): void {
  const steps = line.cycle as Record<string, unknown>[];
  line.cycle = steps
    .filter((s) => s.station !== 'label')
    .map((s) =>
      Array.isArray(s.parallel)
        ? {
            ...s,
            parallel: (s.parallel as Record<string, Record<string, unknown>>[]).filter(
              (p) => p.moveTo?.drive !== 'axis-4',
            ),
          }
        : s,
    );
  line.stations = (line.stations as { id: string }[]).filter((s) => s.id !== 'label');
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function lineSuite(): Promise<Row[]> {
  // One rig (simulator, device services, broker) for every measurement, so that they
  // are taken on the same drives: first the cycle without the label station, then the
  // whole cycle, healthy and with the label station's drive dead.
  const r = await startLineRig();
  try {
    await run(r, withoutLabel);
    const removed = (await rate(r, CYCLES)).perMin;
    await r.line!.stop();

    await run(r);
    const healthy = await rate(r, CYCLES);
    // The fault hits as the label station's drive starts a move.
    const from = r.w.messages.length;
    const started = await r.w.next(
      (m) =>
        m.topic === `servofleet/lines/${LINE}/events` &&
        m.json.type === 'step' &&
        m.json.phase === 'started' &&
        (m.json.driveIds as string[]).includes('axis-4'),
      'a label move starting',
      10_000,
      from,
    );
    r.rig.sim.inject({ drive: 'axis-4', fault: 'no-response' });
    const injectedAt = Date.now();
    const open = await r.w.next(
      (m) =>
        m.topic === 'servofleet/drives/axis-4/events' &&
        m.json.type === 'breaker' &&
        m.json.state === 'open',
      'axis-4 breaker open',
      10_000,
      from,
    );
    const bypass = await r.w.next(
      (m) =>
        m.topic === `servofleet/lines/${LINE}/events` &&
        m.json.type === 'station' &&
        m.json.change === 'bypassed',
      'label bypassed',
      10_000,
      from,
    );
    const cycle = Number(started.json.cycle);
    const step = Number(started.json.step);
    const stepEnd = await r.w.next(
      (m) =>
        m.topic === `servofleet/lines/${LINE}/events` &&
        m.json.type === 'step' &&
        m.json.cycle === cycle &&
        m.json.step === step &&
        m.json.phase !== 'started',
      'the step that met the failure',
      10_000,
      from,
    );
    // The step's other parts: when the last of them completed on its drive.
    const others = r.w.messages
      .slice(from)
      .filter(
        (m) =>
          m.json.type === 'command' &&
          m.json.phase === 'completed' &&
          String(m.json.commandId).startsWith(`${LINE}-${cycle}-${step}-`) &&
          m.json.driveId !== 'axis-4',
      )
      .map((m) => Number(m.json.ts));
    const blocked = Math.max(0, Number(stepEnd.json.ts) - Math.max(injectedAt, ...others));
    const breakerMs = Number(open.json.ts) - injectedAt;
    const toBypass = Number(bypass.json.ts) - injectedAt;
    const degraded = await rate(r, CYCLES);
    const bypassed = JSON.stringify(r.latestState()?.bypassedStations);
    return [
      {
        suite: SUITE,
        name: 'cycles/min, healthy',
        value: healthy.perMin,
        unit: 'cycles/min',
        note: `median cycle ${median(healthy.cycleMs)} ms`,
      },
      {
        suite: SUITE,
        name: 'cycles/min, label station removed',
        value: removed,
        unit: 'cycles/min',
      },
      {
        suite: SUITE,
        name: 'cycles/min, label station dead (bypassed)',
        value: degraded.perMin,
        unit: 'cycles/min',
        reference: { name: 'station removed', value: removed },
        note: `${((100 * degraded.perMin) / removed).toFixed(1)}% of the rate without the station (target ≥ 95%); bypassed ${bypassed}`,
      },
      {
        suite: SUITE,
        name: 'longest stall around the failure',
        value: toBypass,
        unit: 'ms',
        reference: { name: '2× breaker open time', value: 2 * breakerMs },
        note:
          `fault → station bypassed (the longest the line can wait on the dead drive); the breaker opened ${breakerMs} ms ` +
          `after the fault (target: stall < 2× that); the step that met the fault waited ${blocked} ms ` +
          'longer than its other parts',
      },
    ];
  } finally {
    await r.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rows = await lineSuite();
  printTable(rows);
  process.exit(0);
}
