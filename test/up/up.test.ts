/**
 * `servofleet up` end to end: a copy of the demo fleet on free loopback ports, the
 * real command in a child process, then Ctrl-C (SIGINT). The broker must accept MQTT
 * connections, the simulator must list its six drives, and after SIGINT the supervisor
 * must exit 0 with none of the processes it started left running.
 *
 * While the fleet runs, the README's commands run against it (issue 7: each command in
 * the README is one a test or CI runs): taken from README.md now, not copied here, and
 * run with `bash -c` as written but for the ports — readme-runs.ts says how, and what
 * each must print. In README order, one test each, so the Quick start's `enable` comes
 * before its `moveTo`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connectAsync } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify } from 'yaml';
import { eventually } from '../../services/runtime/test/helpers.ts';
import { readmeCommands } from './readme-extract.ts';
import { CURLRC, type RunContext, type RunResult, runFor, runnable } from './readme-runs.ts';

const root = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'servofleet-up-'));
let up: ChildProcess | undefined;
/** The parts `up` started (each a process group leader). */
const pids = new Set<number>();
/** README commands run (each a process group leader), to kill should a test fail half-way. */
const runs = new Set<number>();

afterAll(() => {
  if (up && up.exitCode === null && up.signalCode === null) up.kill('SIGKILL');
  for (const pid of [...pids, ...runs]) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {}
  }
  rmSync(dir, { recursive: true, force: true });
});

/** `n` distinct loopback ports, all free a moment ago. */
async function freePorts(n: number): Promise<number[]> {
  const servers: Server[] = [];
  for (let i = 0; i < n; i++) {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    servers.push(s);
  }
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const portOf = (url: string) => Number(new URL(url).port);

interface Raw {
  root: string;
  profilesDir: string;
  broker: { url: string };
  links: { id: string; transport: string; adminPort?: number; drives: { id: string }[] }[];
  lines: { id: string; adminPort?: number; sagaLog?: string }[];
  gateway: { port: number };
  journal?: { port?: number; path?: string };
  simulator: { controlPort: number; links: { link: string; listen: string }[] };
}

/** The journal's port when the fleet file leaves it out (services/runtime fleet schema). */
const DEFAULT_JOURNAL_PORT = 8090;

const demoText = readFileSync(resolve(root, 'config/demo-fleet.yaml'), 'utf8');
const demo = parseYaml(demoText) as Raw;
const raw = parseYaml(demoText) as Raw;
const config = join(dir, 'fleet.yaml');
const driveIds = raw.links.flatMap((l) => l.drives.map((d) => d.id));
const readme = readmeCommands(readFileSync(resolve(root, 'README.md'), 'utf8'));
const readmeRuns = readme.commands.flatMap((cmd) => {
  const run = runFor(cmd);
  return run ? [{ cmd, run }] : [];
});
let ctx: RunContext;
let out = '';
let exited: Promise<number | null>;

/** Writes the fleet files on free ports; the documented ports map onto them. */
async function writeFleets(): Promise<RunContext> {
  const n = raw.links.length;
  const [mqttPort, simPort, gatewayPort, journalPort, sim2Port, ...rest] = await freePorts(
    5 + 4 * n,
  );
  const linkPorts = rest.slice(0, n);
  const adminPorts = rest.slice(n, 2 * n);
  const sim2LinkPorts = rest.slice(2 * n);
  const ports = new Map<number, number>([
    [portOf(demo.broker.url), mqttPort!],
    [demo.simulator.controlPort, simPort!],
    [demo.gateway.port, gatewayPort!],
    [demo.journal?.port ?? DEFAULT_JOURNAL_PORT, journalPort!],
  ]);
  raw.profilesDir = resolve(root, 'config/profiles');
  raw.broker.url = `mqtt://127.0.0.1:${mqttPort}`;
  raw.links.forEach((l, i) => {
    ports.set(portOf(l.transport), linkPorts[i]!);
    l.transport = `tcp://127.0.0.1:${linkPorts[i]}`;
    // Fixed, not 0: the README's `curl …:9101/metrics` needs to know where to go.
    if (l.adminPort !== undefined) ports.set(l.adminPort, adminPorts[i]!);
    l.adminPort = adminPorts[i]!;
  });
  raw.journal = { ...raw.journal, port: journalPort!, path: join(dir, 'journal.db') };
  for (const line of raw.lines) {
    line.adminPort = 0;
    line.sagaLog = join(dir, `${line.id}.saga.jsonl`);
  }
  raw.gateway.port = gatewayPort!;
  raw.simulator.controlPort = simPort!;
  const linkPort = new Map(raw.links.map((l, i) => [l.id, linkPorts[i]!]));
  for (const s of raw.simulator.links) s.listen = `tcp://127.0.0.1:${linkPort.get(s.link)}`;
  writeFileSync(config, stringify(raw));

  // A second simulator (the README's `servofleet sim --scenario …`) next to the fleet's.
  const sim2 = structuredClone(raw);
  sim2.simulator.controlPort = sim2Port!;
  sim2.simulator.links.forEach((s, i) => {
    s.listen = `tcp://127.0.0.1:${sim2LinkPorts[i]}`;
  });
  const simFleetPath = join(dir, 'sim-fleet.yaml');
  writeFileSync(simFleetPath, stringify(sim2));

  const curlHome = join(dir, 'curl');
  mkdirSync(curlHome);
  writeFileSync(join(curlHome, '.curlrc'), CURLRC);
  const scratch = join(dir, 'scratch');
  mkdirSync(scratch);
  return {
    root,
    fleetPath: config,
    ports,
    topicRoot: raw.root,
    driveIds,
    linkIds: raw.links.map((l) => l.id),
    scratch,
    simFleetPath,
    simControlPort: sim2Port!,
    curlHome,
  };
}

function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'info', NO_COLOR: '1' };
  for (const k of Object.keys(env)) if (k.startsWith('SERVOFLEET_')) delete env[k];
  return env;
}

/**
 * Runs one README command with bash: until it exits, at most `timeoutMs`; or, with
 * `until`, until that holds (at most `timeoutMs`), then SIGINT and its exit (15 s).
 */
async function runBash(
  text: string,
  opts: {
    cwd: string;
    env: NodeJS.ProcessEnv;
    timeoutMs: number;
    until?: (out: string) => boolean | Promise<boolean>;
  },
): Promise<RunResult> {
  const child = spawn('bash', ['-c', text], {
    cwd: opts.cwd,
    env: opts.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  runs.add(child.pid!);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const done = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
  let timer: NodeJS.Timeout | undefined;
  const exitWithin = async (ms: number) => {
    const code = await Promise.race([
      done,
      new Promise<'timeout'>((r) => {
        timer = setTimeout(() => r('timeout'), ms);
      }),
    ]);
    if (code === 'timeout') throw new Error(`still running after ${ms} ms`);
    return code;
  };
  try {
    if (!opts.until) return { code: await exitWithin(opts.timeoutMs), stdout, stderr };
    const until = opts.until;
    await eventually(
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`exited early (${child.exitCode ?? child.signalCode})`);
        }
        return until(stdout);
      },
      'what it should do',
      opts.timeoutMs,
      200,
    );
    process.kill(-child.pid!, 'SIGINT');
    return { code: await exitWithin(15_000), stdout, stderr };
  } catch (err) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {}
    throw new Error(
      `${(err as Error).message}: ${text}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`,
    );
  } finally {
    clearTimeout(timer);
  }
}

async function fetchJson(url: string, headers: Record<string, string> = {}) {
  try {
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(2000) });
    return res.ok ? ((await res.json()) as unknown) : undefined;
  } catch {
    return undefined;
  }
}

describe('servofleet up', () => {
  beforeAll(async () => {
    ctx = await writeFleets();
    const child = spawn(
      process.execPath,
      [join(root, 'bin/servofleet.js'), 'up', '--config', config],
      { cwd: root, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    up = child;
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      for (const m of out.matchAll(/\[up\] (?:re)?started .* \(pid (\d+)/g)) pids.add(Number(m[1]));
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  });

  it('runs broker, simulator, device services, gateway, line controller and journal', async () => {
    const mqttPort = portOf(raw.broker.url);
    const simPort = raw.simulator.controlPort;
    // What runs where, printed at start.
    expect(
      await eventually(() => out.includes('Ctrl-C stops everything.'), 'the summary', 20_000),
    ).toBe(true);
    expect(out).toContain(`mosquitto_sub -h 127.0.0.1 -p ${mqttPort} -t 'servofleet/#' -v`);
    expect(out).toContain(`curl http://127.0.0.1:${simPort}/sim/drives`);

    await eventually(
      async () => {
        try {
          const c = await connectAsync(raw.broker.url, {
            protocolVersion: 4,
            reconnectPeriod: 0,
            connectTimeout: 1000,
          });
          await c.endAsync();
          return true;
        } catch {
          return false;
        }
      },
      'the broker to accept an MQTT connection',
      30_000,
      200,
    );
    const drives = await eventually(
      async () => {
        const body = (await fetchJson(`http://127.0.0.1:${simPort}/sim/drives`)) as
          | { drives: { id: string }[] }
          | undefined;
        return body?.drives.length === 6 && body.drives.map((d) => d.id);
      },
      'the simulator to list its drives',
      30_000,
      200,
    );
    expect(drives.sort()).toEqual(['axis-1', 'axis-2', 'axis-3', 'axis-4', 'dxl-1', 'dxl-2']);
    await eventually(
      () => out.includes('[up] every part started'),
      'every part to be started',
      20_000,
    );
  }, 90_000);

  describe('the README commands, against this fleet', () => {
    // As a newcomer does after "Then, in another terminal": once the fleet is up.
    beforeAll(async () => {
      const gw = `http://127.0.0.1:${raw.gateway.port}`;
      await eventually(
        async () => {
          const list = (await fetchJson(`${gw}/api/v1/drives`, {
            authorization: 'Bearer demo-viewer',
          })) as { drives: { availability: { status: string } | null }[] } | undefined;
          if (list?.drives.length !== driveIds.length) return false;
          if (!list.drives.every((d) => d.availability?.status === 'online')) return false;
          for (const line of raw.lines) {
            const l = await fetchJson(`${gw}/api/v1/lines/${line.id}`, {
              authorization: 'Bearer demo-viewer',
            });
            if (!l) return false;
          }
          for (const link of raw.links) {
            if (!(await fetchJson(`http://127.0.0.1:${link.adminPort}/readyz`))) return false;
          }
          return true;
        },
        'every drive online at the gateway, the line controller and the device services ready',
        60_000,
        250,
      );
    }, 90_000);

    it('finds commands in README.md to run', () => {
      expect(readme.problems).toEqual([]);
      expect(readmeRuns.length).toBeGreaterThan(0);
    });

    for (const { cmd, run } of readmeRuns) {
      it(`README.md:${cmd.line} ${cmd.text.replace(/\s+/g, ' ')}`, async () => {
        const cwd = run.scratch ? ctx.scratch : root;
        run.prepare?.(cmd, ctx);
        const env = {
          ...cleanEnv(),
          SERVOFLEET_CONFIG: ctx.fleetPath,
          CURL_HOME: ctx.curlHome,
          ...run.env?.(ctx),
        };
        const until = run.until;
        const r = await runBash(runnable(cmd, ctx), {
          cwd,
          env,
          timeoutMs: 40_000,
          ...(until ? { until: (o: string) => until(o, cmd, ctx) } : {}),
        });
        expect(
          r.code,
          `${runnable(cmd, ctx)}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`,
        ).toBe(0);
        await run.check(r, cmd, ctx);
      }, 75_000);
    }
  });

  it('stops every part on SIGINT and exits 0', async () => {
    expect(up).toBeDefined();
    up!.kill('SIGINT');
    const code = await Promise.race([
      exited,
      new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 30_000)),
    ]);
    expect(code, out).toBe(0);
    expect(out).toContain('[up] stopped');
    const names = [...out.matchAll(/\[up\] started (.*) \(pid/g)].map((m) => m[1]);
    expect(names.sort()).toEqual([
      'broker',
      'device bus-a',
      'device bus-b',
      'gateway',
      'journal',
      'line line-1',
      'sim',
    ]);
    expect([...pids].filter(alive)).toEqual([]);
  }, 45_000);
});
