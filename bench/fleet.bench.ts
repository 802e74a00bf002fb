/**
 * `npm run bench -- fleet`: the whole stack on this machine, N simulated drives
 * (N = 10, 50, 100, 200, 500) polled at 20 Hz, each service its own OS process started
 * the way `servofleet up` and the compose image start it (`node` with the flags of
 * services/cli/node-flags.ts, `bin/servofleet.js sim|device|gateway|journal --config FILE`),
 * with a fleet file generated for N in a temp directory, and Mosquitto as in production
 * (the embedded aedes broker when Mosquitto is not installed), on 127.0.0.1 with free
 * ports:
 *
 * - the simulator serves the drives on unpaced raw-TCP serial links, one
 *   `servofleet device --link` process per link: by default links of 50 Dynamixel 2.0
 *   servos at 1 Mbaud (one sync read per link per poll), or with BENCH_FLEET_BUS=modbus
 *   links of 10 Modbus RTU sf-servo drives (one transaction per drive per poll: an
 *   unpaced link carries ~250–300 transactions/s because the bus keeps the 1.75 ms
 *   Modbus silence between frames, so 10 drives a link at 20 Hz; N = 500 is then 50
 *   device processes);
 * - every drive is enabled and set moving (over MQTT, as a controller would command it,
 *   a few drives of a link at a time), so that its position changes at every poll: each
 *   poll a telemetry message, and a state message every `stateIntervalMs` (200 ms, the
 *   default) — the busiest case for the state path (a drive standing still publishes
 *   state only when something changes);
 * - after a 15 s warm-up (WARMUP_MS), a 10 s measuring window (for 500 drives on the move,
 *   the target, a second one from 40 s after they were set moving, SETTLED_MS, which is
 *   its figure; the first is reported beside it): CPU time of every process from /proc
 *   (utime + stime over `getconf CLK_TCK`), its peak RSS (VmRSS, sampled each second),
 *   successful polls/s (the device processes' own counts on /readyz), state messages/s
 *   seen by a subscriber on `{root}/drives/+/state` (QoS 0, in this process), the
 *   PUBLISH packets/s Mosquitto delivered ($SYS), and the state latency: the bus voltage
 *   of a drive is stepped in the simulator through its control API (`POST /sim/faults`
 *   bus-voltage +5 V, then `DELETE`), at a random phase of the poll period, and the time
 *   to the first state message showing it at the subscriber is measured, as
 *   device.bench.ts measures it in one process (there a fault is raised in the
 *   simulator in-process). Across processes the simulator is reached over HTTP, so each
 *   sample also holds that request's way in: its round trip is reported beside it.
 *
 * Reported per N: CPU % of one core per kind of service (device processes summed), the
 * stack without the simulator (which stands in for the hardware) and with it, and what
 * that is per poll; RSS; polls/s and state messages/s; state latency p99. Then how the
 * cost grows with N: CPU per drive and per 1000 polls/s, and RSS per drive, at 500
 * against 50, with a straight-line fit over the sizes where the stack kept up with 20 Hz.
 * Also how much else the machine was doing meanwhile (other users' load skews a
 * 2-core machine).
 *
 * Then 500 drives once more, standing (enabled, holding position): telemetry at every
 * poll, state only on a change. Knobs (environment): BENCH_FLEET_SIZES=50,500 to run
 * some sizes only; BENCH_FLEET_STANDING=500 (the default; empty: none) for the standing
 * runs;
 * BENCH_FLEET_BUS=modbus (see above); BENCH_FLEET_BROKER=embedded for aedes instead of
 * Mosquitto; BENCH_FLEET_CPU_PROF=DIR to run the device and gateway processes under
 * `node --cpu-prof` and print their top self-time functions over the measuring window
 * (this slows them: not for the table). About 40–70 s for each N, most of it starting
 * the processes.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SERVICE_NODE_FLAGS } from '../services/cli/node-flags.ts';
import { summariseProfiles } from './cpu-profile.ts';
import {
  type Observer,
  observe,
  type Probe,
  pollCount,
  probeLatency,
  setInMotion,
} from './fleet-client.ts';
import { BUS, type Layout, layout, mosquittoConf, writeFleetFiles } from './fleet-layout.ts';
import { growthRows, type Measured, rowsOf, STACK, TARGET } from './fleet-report.ts';
import type { Row } from './harness.ts';
import { cpuSeconds, machineCpu, rssBytes, type Service, ServiceGroup } from './processes.ts';

const CLI = resolve(import.meta.dirname, '../bin/servofleet.js');
const MOSQUITTO = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto'].find(
  (p) => existsSync(p),
);
const SIZES = (process.env.BENCH_FLEET_SIZES ?? '10,50,100,200,500')
  .split(',')
  .map(Number)
  .filter((n) => Number.isInteger(n) && n > 0);
/**
 * Sizes run once more with every drive standing (enabled, holding position): each poll
 * then publishes telemetry only, and state only when something changes (the latency
 * probe's voltage steps) and at the 10 s heartbeat. Most of a real line stands most of
 * the time; the runs above are the worst case. BENCH_FLEET_STANDING= (empty) skips it.
 */
const STANDING = (process.env.BENCH_FLEET_STANDING ?? '500')
  .split(',')
  .filter((x) => x.trim() !== '')
  .map(Number)
  .filter((n) => Number.isInteger(n) && n > 0);
/**
 * Steady state, as a line runs all day: V8 is still optimising and sizing its heap for
 * the first 15–25 s of a device process's polling. In a one-link probe (50 xm430 on the
 * move, 10 s windows from 3 s after they were set moving), the device process took
 * 96–130 µs of CPU per poll in the first window and 77–83 µs from the second on.
 */
const WARMUP_MS = 15_000;
const MEASURE_MS = 10_000;
/**
 * The target fleet (500 drives on the move) is measured a second time, from this long
 * after it was set moving, and that window is its figure; the first one is reported
 * beside it. A fleet of 500 keeps this 2-core machine busy enough that the device
 * processes' JIT warm-up runs longer: in three runs the stack's CPU in 5 s steps from
 * the motion on went 114–125, 87–89, 79–86, 79–93, 73–92 %, then 62–78 % from 25 s on
 * and 60–78 % from 40 s on (each drive's move takes about 80 s; it stops after that).
 * BENCH_FLEET_SETTLED_MS=0 measures the first window only.
 */
const SETTLED_MS = Number(process.env.BENCH_FLEET_SETTLED_MS ?? 40_000);
/** The stack's CPU is recorded in steps of this much while the runs wait. */
const STEP_MS = 5000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** % of one core the stack (without the simulator) took in each STEP_MS until `until`. */
async function cpuSteps(group: ServiceGroup, until: number): Promise<number[]> {
  const steps: number[] = [];
  const stack = () =>
    group.services
      .filter((s) => STACK.includes(s.kind))
      .reduce((sum, s) => sum + cpuSeconds(s.pid), 0);
  let c = stack();
  let t = performance.now();
  while (until - t > 100) {
    await sleep(Math.min(STEP_MS, until - t));
    group.checkAlive();
    const c1 = stack();
    const t1 = performance.now();
    if (t1 - t >= STEP_MS / 2) steps.push(((c1 - c) / ((t1 - t) / 1000)) * 100);
    c = c1;
    t = t1;
  }
  return steps;
}

interface Window {
  cpu: Map<string, number>;
  rss: Map<string, number>;
  stackCpu: number;
  benchCpu: number;
  otherCpu: number;
  stateRate: number;
  pollRate: number | undefined;
  delivered: number | undefined;
  probe: Probe;
  hr0: bigint;
  hr1: bigint;
}

/** One MEASURE_MS window: CPU and peak RSS per kind of service, rates, the latency probe. */
async function measureWindow(group: ServiceGroup, obs: Observer, l: Layout): Promise<Window> {
  // Polls counted just outside the window (asking ten busy processes takes a while).
  const p0 = await pollCount(l);
  const tp0 = performance.now();
  const services = group.services;
  const c0 = services.map((s) => cpuSeconds(s.pid));
  const bench0 = process.cpuUsage();
  const m0 = machineCpu();
  const s0 = obs.stateCount;
  const sys0 = new Map(obs.sys);
  const t0 = performance.now();
  const hr0 = process.hrtime.bigint();
  const peak = new Map<Service, number>();
  const sampleRss = () => {
    for (const s of services) peak.set(s, Math.max(peak.get(s) ?? 0, rssBytes(s.pid)));
  };
  sampleRss();
  const rssTimer = setInterval(sampleRss, 1000);
  const probe = await probeLatency(obs, l, t0 + MEASURE_MS);
  const wait = t0 + MEASURE_MS - performance.now();
  if (wait > 0) await sleep(wait);
  clearInterval(rssTimer);
  sampleRss();
  const dt = (performance.now() - t0) / 1000;
  const hr1 = process.hrtime.bigint();
  const c1 = services.map((s) => cpuSeconds(s.pid));
  const m1 = machineCpu();
  const bench = process.cpuUsage(bench0);
  const stateRate = (obs.stateCount - s0) / dt;
  const tp1 = performance.now();
  const p1 = await pollCount(l);
  const pollRate =
    p0 !== undefined && p1 !== undefined ? ((p1 - p0) * 1000) / (tp1 - tp0) : undefined;
  group.checkAlive();

  const cpu = new Map<string, number>();
  const rss = new Map<string, number>();
  services.forEach((s, i) => {
    cpu.set(s.kind, (cpu.get(s.kind) ?? 0) + ((c1[i]! - c0[i]!) / dt) * 100);
    rss.set(s.kind, (rss.get(s.kind) ?? 0) + (peak.get(s) ?? 0));
  });
  const benchCpu = ((bench.user + bench.system) / 1e6 / dt) * 100;
  const allCpu = [...cpu.values()].reduce((a, b) => a + b, 0);
  const otherCpu = Math.max(0, ((m1.busy - m0.busy) / dt) * 100 - allCpu - benchCpu);
  const rate = (key: string) => {
    const a = sys0.get(key);
    const b = obs.sys.get(key);
    // $SYS is published once a second: the rate over whole updates.
    return a !== undefined && b !== undefined ? (b - a) / dt : undefined;
  };
  return {
    cpu,
    rss,
    stackCpu: STACK.reduce((a, k) => a + (cpu.get(k) ?? 0), 0),
    benchCpu,
    otherCpu,
    stateRate,
    pollRate,
    delivered: rate('$SYS/broker/publish/messages/sent'),
    probe,
    hr0,
    hr1,
  };
}

async function waitFor(
  what: string,
  ok: () => boolean | Promise<boolean>,
  timeoutMs: number,
  group?: ServiceGroup,
) {
  const deadline = performance.now() + timeoutMs;
  while (!(await ok())) {
    group?.checkAlive();
    if (performance.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function httpOk(url: string): Promise<boolean> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
    return r.ok;
  } catch {
    return false;
  }
}

async function runFleet(
  n: number,
  useMosquitto: boolean,
  profDir: string | undefined,
  standing = false,
): Promise<Measured> {
  const l = await layout(n);
  const dir = mkdtempSync(join(tmpdir(), `sf-bench-fleet-${n}-`));
  const file = writeFleetFiles(dir, l);
  const group = new ServiceGroup(() => rmSync(dir, { recursive: true, force: true }));
  const env = { ...process.env, LOG_LEVEL: 'warn', SERVOFLEET_CONFIG: file };
  const node = (kind: string, label: string, args: string[], prof = false) =>
    group.start(
      kind,
      label,
      process.execPath,
      [
        ...SERVICE_NODE_FLAGS,
        ...(prof && profDir
          ? ['--cpu-prof', `--cpu-prof-dir=${join(profDir, `${n}-${label.replace(/\s+/g, '-')}`)}`]
          : []),
        CLI,
        ...args,
        '--config',
        file,
      ],
      env,
    );
  let o: Observer | undefined;
  const t00 = performance.now();
  try {
    const url = `mqtt://127.0.0.1:${l.mqttPort}`;
    if (useMosquitto) {
      writeFileSync(join(dir, 'mosquitto.conf'), mosquittoConf(l.mqttPort));
      group.start('broker', 'mosquitto', MOSQUITTO!, ['-c', join(dir, 'mosquitto.conf')], env);
    } else {
      node('broker', 'broker', ['broker']);
    }
    // Everything that listens first, together (the gateway and the journal retry the
    // broker until it is up), so that no listening port is taken by one of the device
    // processes' hundreds of outgoing connections; then a device process per link.
    node('sim', 'sim', ['sim']);
    node('gateway', 'gateway', ['gateway'], true);
    node('journal', 'journal', ['journal']);
    await waitFor('the broker', () => portOpen(l.mqttPort), 20_000, group);
    o = await observe(url);
    const obs = o;
    for (const [what, port] of [
      ['simulator', l.simPort],
      ['gateway', l.gatewayPort],
      ['journal', l.journalPort],
    ] as const) {
      await waitFor(`the ${what}`, () => httpOk(`http://127.0.0.1:${port}/healthz`), 60_000, group);
    }
    for (const k of l.links) node('device', `device ${k.id}`, ['device', '--link', k.id], true);
    await waitFor(`state from all ${n} drives`, () => obs.seen.size >= n, 30_000 + 200 * n, group);
    for (const port of [l.gatewayPort, l.journalPort]) {
      await waitFor(
        `:${port}/readyz`,
        () => httpOk(`http://127.0.0.1:${port}/readyz`),
        30_000,
        group,
      );
    }
    const started = performance.now();
    // Standing: enabled and holding position (the first motion command only).
    const motion = await setInMotion(obs, l.links, standing ? BUS.motion.slice(0, 1) : BUS.motion);
    const phases = `start ${((started - t00) / 1000).toFixed(0)} s, motion ${((performance.now() - started) / 1000).toFixed(0)} s`;
    const inMotion = performance.now();
    const steps = await cpuSteps(group, inMotion + WARMUP_MS);
    const first = await measureWindow(group, obs, l);
    // The largest fleet on the move: measured again once settled (see SETTLED_MS).
    const settle = !standing && n === TARGET.drives && SETTLED_MS >= WARMUP_MS + MEASURE_MS;
    const later = settle ? await cpuSteps(group, inMotion + SETTLED_MS) : [];
    const w = settle ? await measureWindow(group, obs, l) : first;
    group.checkAlive();

    const moving = obs.moving.size;
    const measured: Measured = {
      n,
      standing,
      links: l.links.length,
      broker: useMosquitto ? `Mosquitto ${mosquittoVersion()}` : 'embedded aedes',
      cpu: w.cpu,
      rss: w.rss,
      benchCpu: w.benchCpu,
      otherCpu: w.otherCpu,
      stateRate: w.stateRate,
      pollRate: w.pollRate,
      delivered: w.delivered,
      moving,
      motion,
      phases,
      probe: w.probe,
      profiles: [],
      ...(settle
        ? {
            first: { cpu: first.cpu, pollRate: first.pollRate, atS: WARMUP_MS / 1000 },
            atS: SETTLED_MS / 1000,
            steps: [...steps, first.stackCpu, ...later],
          }
        : {}),
    };
    await o.client.endAsync(true);
    o = undefined;
    await group.stop();
    if (profDir) measured.profiles = profileSummaries(profDir, n, w.hr0, w.hr1);
    return measured;
  } finally {
    await o?.client.endAsync(true).catch(() => {});
    await group.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      res(true);
    });
    s.once('error', () => res(false));
  });
}

function mosquittoVersion(): string {
  try {
    const out = execFileSync(MOSQUITTO!, ['-h'], { encoding: 'utf8' });
    return /version (\S+)/.exec(out)?.[1] ?? '';
  } catch (err) {
    // mosquitto -h exits 3 after printing its usage
    const out = String((err as { stdout?: unknown }).stdout ?? '');
    return /version (\S+)/.exec(out)?.[1] ?? '';
  }
}

/** Top self-time functions over the window, per kind of profiled process (summed). */
function profileSummaries(profDir: string, n: number, from: bigint, to: bigint): string[] {
  const byKind = new Map<string, string[]>();
  for (const sub of readdirSync(profDir).filter((d) => d.startsWith(`${n}-`))) {
    const kind = sub.slice(String(n).length + 1).split('-')[0]!;
    for (const f of readdirSync(join(profDir, sub)).filter((x) => x.endsWith('.cpuprofile'))) {
      byKind.set(kind, [...(byKind.get(kind) ?? []), join(profDir, sub, f)]);
    }
  }
  return [...byKind].map(([kind, files]) => {
    const s = summariseProfiles(files, Number(from / 1000n), Number(to / 1000n), 20);
    const procs = new Set(files.map((f) => f.split('/').at(-2))).size;
    return `${kind} (${procs} process${procs > 1 ? 'es' : ''}, ${join(profDir, `${n}-${kind}*`)}):\n${s.text}`;
  });
}

export async function fleetSuite(): Promise<Row[]> {
  const useMosquitto = MOSQUITTO !== undefined && process.env.BENCH_FLEET_BROKER !== 'embedded';
  const profDir = process.env.BENCH_FLEET_CPU_PROF
    ? resolve(process.env.BENCH_FLEET_CPU_PROF)
    : undefined;
  if (profDir) mkdirSync(profDir, { recursive: true });
  const all: Measured[] = [];
  for (const n of SIZES) {
    const t = performance.now();
    let m: Measured;
    try {
      m = await runFleet(n, useMosquitto, profDir);
    } catch (err) {
      // A port taken by another program between choosing it and listening, a process
      // starved at start on a busy machine: once more, then the error stands.
      console.error(`fleet: ${n} drives failed, trying once more: ${(err as Error).message}`);
      m = await runFleet(n, useMosquitto, profDir);
    }
    all.push(m);
    console.error(
      `fleet: ${n} drives measured in ${((performance.now() - t) / 1000).toFixed(0)} s (${m.phases})`,
    );
    for (const p of m.profiles) console.log(`\nCPU profile, ${n} drives, ${p}`);
  }
  const standing: Measured[] = [];
  for (const n of STANDING) {
    const t = performance.now();
    const m = await runFleet(n, useMosquitto, profDir, true).catch((err: unknown) => {
      console.error(`fleet: ${n} standing drives failed, trying once more: ${String(err)}`);
      return runFleet(n, useMosquitto, profDir, true);
    });
    standing.push(m);
    console.error(
      `fleet: ${n} standing drives measured in ${((performance.now() - t) / 1000).toFixed(0)} s`,
    );
  }
  return [...all.flatMap(rowsOf), ...growthRows(all), ...standing.flatMap(rowsOf)];
}
