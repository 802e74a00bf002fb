/**
 * `npm run bench -- gateway`: the HTTP gateway in front of the whole fleet — embedded
 * aedes broker, simulator with unpaced TCP serial links and a device service per link,
 * each its own `servofleet` process as in production — on loopback. The gateway (and a
 * hello-world fastify for reference) run in this process; autocannon in a worker thread.
 *
 * - Reads: `GET /api/v1/drives/{id}` requests/s (key checked, rate limit and security
 *   headers on, the fleet's MQTT traffic coming in meanwhile) as a fraction of a bare
 *   fastify hello-world served by the same process in the same run. The two are
 *   measured in 7 alternating pairs of 1 s slices and compared pair by pair (median ratio), so
 *   that a machine whose load changes under the benchmark skews both alike.
 *   Target ≥ 60%.
 * - Command round trip: HTTP → gateway → MQTT → device service → bus read → reply →
 *   HTTP, for `enable` on an enabled drive (one statusword read on the wire), closed
 *   loop, one client per healthy drive (axis-1…3), p50/p99; the reference is the same
 *   loop straight over MQTT (no gateway), which shows what the gateway adds. Then the
 *   same through the gateway while axis-4, on the same link, is dead (no response, its
 *   breaker open), once its probes have backed off (and, reported beside it, in the
 *   first seconds after its breaker opened, while probes are frequent). Target:
 *   healthy p99 within 1.2× of the no-fault run.
 * - Fail fast: commands to the dead drive, answered 503 DRIVE_UNREACHABLE without
 *   publishing, at a set load of 1000 req/s (bench/paced-load.ts, its own process,
 *   4 connections); p99. Target < 5 ms. Beside it, autocannon at saturation.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { sha256Hex } from '../services/gateway/src/auth/api-keys.ts';
import { startGateway } from '../services/gateway/src/index.ts';
import { loadFleetFile, waitForTcpPort } from '../services/runtime/src/index.ts';
import { percentile, type Row } from './harness.ts';
// Types only: erased, so the script does not run here.
import type { PacedResult, PacedSpec } from './paced-load.ts';

const CLI = resolve(import.meta.dirname, '../bin/servofleet.js');
const silent = pino({ level: 'silent' });
const KEY = 'bench-operator-key';
const AUTH = { authorization: `Bearer ${KEY}` };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => res(port));
    });
  });
}

/**
 * The fleet as production runs it: broker, simulator and one device service per link,
 * each its own `servofleet` process (unpaced TCP serial links); the gateway in this
 * process, so that what is measured is the gateway, not its neighbours' event loops.
 */
async function startFleet() {
  const [mqttPort, busA, busB, simPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const dir = mkdtempSync(join(tmpdir(), 'sf-bench-gw-'));
  const file = join(dir, 'fleet.yaml');
  writeFileSync(
    file,
    `
profilesDir: ${resolve(import.meta.dirname, '../config/profiles')}
broker: { url: mqtt://127.0.0.1:${mqttPort}, embedded: true }
links:
  - id: bus-a
    protocol: modbus-rtu
    transport: tcp://127.0.0.1:${busA}
    baud: 115200
    drives:
${[1, 2, 3, 4].map((u) => `      - { id: axis-${u}, unit: ${u}, profile: sf-servo, pollHz: 20 }`).join('\n')}
  - id: bus-b
    protocol: dynamixel2
    transport: tcp://127.0.0.1:${busB}
    baud: 1000000
    drives:
      - { id: dxl-1, unit: 1, profile: xm430, pollHz: 50 }
      - { id: dxl-2, unit: 2, profile: xm430, pollHz: 50 }
gateway:
  apiKeys:
    - { name: bench, role: operator, sha256: ${sha256Hex(KEY)} }
simulator:
  controlPort: ${simPort}
  links:
    - { link: bus-a, listen: tcp://127.0.0.1:${busA}, paced: false, turnaroundMs: 0 }
    - { link: bus-b, listen: tcp://127.0.0.1:${busB}, paced: false, turnaroundMs: 0 }
`,
  );
  const children: ChildProcess[] = [];
  const spawnPart = (...args: string[]) => {
    const child = spawn(process.execPath, [CLI, ...args, '--config', file], {
      stdio: 'ignore',
      env: { ...process.env, LOG_LEVEL: 'warn', SERVOFLEET_CONFIG: file },
    });
    children.push(child);
    return child;
  };
  const stopAll = async () => {
    for (const c of [...children].reverse()) {
      if (c.exitCode !== null || c.signalCode !== null) continue;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      const t = setTimeout(() => c.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    spawnPart('broker');
    await waitForTcpPort({ host: '127.0.0.1', port: mqttPort, timeoutMs: 20_000 });
    spawnPart('sim');
    await waitForTcpPort({ host: '127.0.0.1', port: simPort, timeoutMs: 20_000 });
    spawnPart('device', '--link', 'bus-a');
    spawnPart('device', '--link', 'bus-b');
    const { fleet } = loadFleetFile(file);
    // The rate limit stays on (its cost is part of the measurement), with a budget no
    // benchmark reaches.
    const gw = await startGateway({
      fleet,
      log: silent,
      port: 0,
      options: { rateLimitMax: 1_000_000_000 },
    });
    return {
      gw,
      brokerUrl: fleet.broker.url,
      async inject(fault: Record<string, unknown>) {
        const r = await fetch(`http://127.0.0.1:${simPort}/sim/faults`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(fault),
        });
        if (!r.ok) throw new Error(`bench: fault injection: ${r.status} ${await r.text()}`);
      },
      async close() {
        await gw.close();
        await stopAll();
      },
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

function call(
  url: string,
  method: string,
  body?: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolvePromise, reject) => {
    const req = httpRequest(
      url,
      {
        method,
        agent,
        headers: { ...AUTH, ...(body ? { 'content-type': 'application/json' } : {}) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
        });
        res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** The middle value (the lower one of the two middle values for an even count). */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
}

async function cannon(url: string, seconds: number, o: Partial<autocannon.Options> = {}) {
  return autocannon({
    url,
    connections: 10,
    duration: seconds,
    workers: 1,
    headers: AUTH,
    ...o,
  } as autocannon.Options);
}

const PACED = resolve(import.meta.dirname, 'paced-load.ts');
const RUN_TS = resolve(import.meta.dirname, '../bin/run-ts.js');

/** An open-loop load at a set rate from its own process (bench/paced-load.ts). */
async function pacedLoad(spec: PacedSpec): Promise<PacedResult> {
  const child = spawn(process.execPath, [RUN_TS, PACED, JSON.stringify(spec)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (c: string) => {
    out += c;
  });
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  if (code !== 0) throw new Error(`bench: paced load exited with ${code}`);
  return JSON.parse(out);
}

/** Closed loop: one client per drive, as fast as answers come; every latency, ms. */
async function roundTrips(base: string, drives: string[], seconds: number) {
  const body = JSON.stringify({ type: 'enable' });
  const until = performance.now() + seconds * 1000;
  const all: number[] = [];
  const failures: string[] = [];
  await Promise.all(
    drives.map(async (id) => {
      while (performance.now() < until) {
        const t0 = performance.now();
        const r = await call(`${base}/api/v1/drives/${id}/commands`, 'POST', body);
        const dt = performance.now() - t0;
        // Latencies of completed round trips only; the others are counted apart.
        if (r.status === 200) all.push(dt);
        else failures.push(`${r.status} ${JSON.parse(r.text).error?.code}`);
      }
    }),
  );
  return { ms: all.sort((a, b) => a - b), failures };
}

/** The same closed loop straight over MQTT 3.1.1 with `replyTo`: the device service alone. */
async function mqttRoundTrips(brokerUrl: string, drives: string[], seconds: number) {
  const client = await mqtt.connectAsync(brokerUrl, { protocolVersion: 4 });
  const replyTo = 'bench/direct/replies';
  await client.subscribeAsync(replyTo, { qos: 1 });
  const waiting = new Map<string, (status: string) => void>();
  client.on('message', (_t, payload) => {
    const r = JSON.parse(payload.toString('utf8')) as {
      commandId: string;
      status: string;
      error?: { code: string };
    };
    if (r.status !== 'accepted') waiting.get(r.commandId)?.(r.error?.code ?? r.status);
  });
  const failures: string[] = [];
  let n = 0;
  const until = performance.now() + seconds * 1000;
  const all: number[] = [];
  await Promise.all(
    drives.map(async (id) => {
      while (performance.now() < until) {
        const commandId = `direct-${n++}`;
        const t0 = performance.now();
        const status = await new Promise<string>((resolveStatus) => {
          waiting.set(commandId, resolveStatus);
          client.publish(
            `servofleet/drives/${id}/commands`,
            // The same deadline the gateway gives a command (now + its 10 s timeout).
            JSON.stringify({ commandId, type: 'enable', replyTo, deadline: Date.now() + 10_000 }),
            { qos: 1 },
          );
        });
        waiting.delete(commandId);
        if (status === 'completed') all.push(performance.now() - t0);
        else failures.push(status);
      }
    }),
  );
  await client.endAsync();
  return { ms: all.sort((a, b) => a - b), failures };
}

export async function gatewaySuite(): Promise<Row[]> {
  const rows: Row[] = [];
  const hello = Fastify({ logger: false });
  hello.get('/hello', async () => ({ hello: 'world' }));
  await hello.listen({ host: '127.0.0.1', port: 0 });
  const helloUrl = `http://127.0.0.1:${(hello.server.address() as { port: number }).port}/hello`;
  const fx = await startFleet();
  const base = fx.gw.url;
  try {
    await waitFor('every drive online', async () => {
      const r = await call(`${base}/api/v1/drives`, 'GET');
      const drives = JSON.parse(r.text).drives as
        | { availability: { status: string } | null }[]
        | undefined;
      return drives?.every((d) => d.availability?.status === 'online') ?? false;
    });

    // Reads vs hello world, in alternating slices, after a warm-up of each.
    const readUrl = `${base}/api/v1/drives/axis-1`;
    await cannon(helloUrl, 1);
    await cannon(readUrl, 1);
    const pairs: { hello: number; read: number }[] = [];
    for (let i = 0; i < 7; i++) {
      const h = await cannon(helloUrl, 1);
      const r = await cannon(readUrl, 1);
      if (r.non2xx > 0) throw new Error(`bench: ${r.non2xx} non-2xx answers to GET /drives/axis-1`);
      pairs.push({ hello: h.requests.average, read: r.requests.average });
    }
    const ratios = pairs.map((p) => p.read / p.hello).sort((a, b) => a - b);
    rows.push({
      suite: 'gateway',
      name: 'GET /api/v1/drives/{id} throughput',
      value: median(ratios) * 100,
      unit: '% of hello world',
      reference: { name: 'fastify hello world', value: 100 },
      note: `median of 7 paired 1 s slices (10 connections): ${Math.round(median(pairs.map((p) => p.read)))} vs ${Math.round(median(pairs.map((p) => p.hello)))} req/s; ratios ${ratios.map((x) => x.toFixed(2)).join(' ')}; target ≥ 60%`,
    });

    // Command round trips.
    const healthy = ['axis-1', 'axis-2', 'axis-3'];
    for (const id of [...healthy, 'axis-4']) {
      const r = await call(`${base}/api/v1/drives/${id}/commands`, 'POST', '{"type":"enable"}');
      if (r.status !== 200) throw new Error(`bench: enable ${id}: ${r.status} ${r.text}`);
    }
    await roundTrips(base, healthy, 1);
    const okRun = await roundTrips(base, healthy, 4);
    const directRun = await mqttRoundTrips(fx.brokerUrl, healthy, 3);
    const ok = okRun.ms;
    const direct = directRun.ms;
    const failed = (f: string[]) =>
      f.length === 0
        ? 'all completed'
        : `${f.length} not completed (${[...new Set(f)].join(', ')})`;
    rows.push(
      {
        suite: 'gateway',
        name: 'command round trip p50, no fault',
        value: percentile(ok, 50),
        unit: 'ms',
        reference: { name: 'straight over MQTT', value: percentile(direct, 50) },
        note: `${ok.length} enable commands through the gateway (${failed(okRun.failures)}), ${direct.length} straight over MQTT (${failed(directRun.failures)}); 3 drives, closed loop, unpaced link`,
      },
      {
        suite: 'gateway',
        name: 'command round trip p99, no fault',
        value: percentile(ok, 99),
        unit: 'ms',
        reference: { name: 'straight over MQTT', value: percentile(direct, 99) },
      },
    );

    await fx.inject({ drive: 'axis-4', fault: 'no-response' });
    await waitFor(
      'axis-4 unreachable in the gateway',
      async () => {
        const r = await call(`${base}/api/v1/drives/axis-4`, 'GET');
        return JSON.parse(r.text).availability?.status === 'unreachable';
      },
      20_000,
    );
    const openedAt = performance.now();
    // Right after the breaker opened, the device service probes the dead drive at
    // 0.25–0.5 s, then 0.5–1 s, 1–2 s… (half jitter, doubling): each probe holds the
    // link for a timeout and the quiet period after it (~50 ms on a tcp:// link with
    // its 20 ms latency allowance), and the healthy drives' commands that arrive
    // meanwhile wait. That transient is reported; the target is judged once the probes
    // have backed off to their cap (every 5–10 s), i.e. while a drive *stays* dead.
    const earlyRun = await roundTrips(base, healthy, 4);
    const early = earlyRun.ms;
    const directDead = (await mqttRoundTrips(fx.brokerUrl, healthy, 3)).ms;
    await sleep(Math.max(0, openedAt + 16_000 - performance.now()));
    const deadRun = await roundTrips(base, healthy, 10);
    const withDead = deadRun.ms;
    rows.push(
      {
        suite: 'gateway',
        name: 'command round trip p50, 1 drive of the link dead',
        value: percentile(withDead, 50),
        unit: 'ms',
        reference: { name: 'no fault', value: percentile(ok, 50) },
      },
      {
        suite: 'gateway',
        name: 'command round trip p99, 1 drive of the link dead',
        value: percentile(withDead, 99),
        unit: 'ms',
        reference: { name: 'no fault', value: percentile(ok, 99) },
        note: `${withDead.length} commands over 10 s from 16 s after the breaker opened (${failed(deadRun.failures)}); target ≤ 1.2× no fault`,
      },
      {
        suite: 'gateway',
        name: 'command round trip p99, first 4 s after the breaker opened',
        value: percentile(early, 99),
        unit: 'ms',
        reference: { name: 'no fault', value: percentile(ok, 99) },
        note: `${early.length} commands (${failed(earlyRun.failures)}), p50 ${percentile(early, 50).toFixed(1)} ms, while probes are frequent; straight over MQTT right after p50/p99 ${percentile(directDead, 50).toFixed(1)}/${percentile(directDead, 99).toFixed(1)} ms (no fault ${percentile(direct, 50).toFixed(1)}/${percentile(direct, 99).toFixed(1)})`,
      },
    );

    // A latency target is measured at a set load (1000 req/s, far above what a line
    // sends to one drive): at saturation p99 is only the length of the queue the load
    // generator keeps full. The saturated run (autocannon) is reported beside it.
    const ffOpts = {
      connections: 4,
      method: 'POST' as const,
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: '{"type":"enable"}',
    };
    // The saturated run first: it also warms the 503 path up (JIT) for the set-load run.
    const ffMax = await cannon(`${base}/api/v1/drives/axis-4/commands`, 3, ffOpts);
    // The gateway's own event loop meanwhile (it runs in this process): how long a
    // request can wait for it, from its side.
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    const ff = await pacedLoad({
      url: `${base}/api/v1/drives/axis-4/commands`,
      rate: 1000,
      seconds: 8,
      ...ffOpts,
    });
    loop.disable();
    const loopMs = (q: number) => loop.percentile(q) / 1e6;
    if (!ff.statuses['503'] || Object.keys(ff.statuses).length !== 1 || ff.errors > 0)
      throw new Error(
        `bench: the dead drive did not answer 503 only: ${JSON.stringify(ff.statuses)}`,
      );
    const ffLat = ff.latencies.sort((a, b) => a - b);
    // The same load on the bare hello world, in this process too: what this machine
    // gives any server at 1000 req/s (its scheduling and timer noise), for comparison.
    const ref = await pacedLoad({ url: helloUrl, rate: 1000, seconds: 8, connections: 4 });
    const refLat = ref.latencies.sort((a, b) => a - b);
    rows.push({
      suite: 'gateway',
      name: 'fail-fast 503 p99 (dead drive, 1000 req/s)',
      value: percentile(ffLat, 99),
      unit: 'ms',
      reference: { name: 'hello world, same load', value: percentile(refLat, 99) },
      note: `open loop from its own process, 4 connections: p50 ${percentile(ffLat, 50).toFixed(2)} ms, max ${ffLat.at(-1)!.toFixed(1)} ms of ${ffLat.length} answers (sender at most ${ff.maxLagMs.toFixed(1)} ms behind schedule; the gateway's event-loop delay meanwhile p99 ${loopMs(99).toFixed(1)} ms, max ${(loop.max / 1e6).toFixed(1)} ms); at saturation (autocannon, 4 connections) ${Math.round(ffMax.requests.average)} req/s, p50/p99 ${ffMax.latency.p50}/${ffMax.latency.p99} ms; target < 5 ms; load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores; the hello world at the same load p50 ${percentile(refLat, 50).toFixed(2)} ms, max ${refLat.at(-1)!.toFixed(1)} ms (sender at most ${ref.maxLagMs.toFixed(1)} ms behind)`,
    });
  } finally {
    await fx.close();
    await hello.close();
    agent.destroy();
  }
  return rows;
}
