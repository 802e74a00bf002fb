/**
 * `servofleet up` end to end: a copy of the demo fleet on free loopback ports, the
 * real command in a child process, then Ctrl-C (SIGINT). The broker must accept MQTT
 * connections, the simulator must list its six drives, and after SIGINT the supervisor
 * must exit 0 with none of the processes it started left running.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connectAsync } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify } from 'yaml';
import { eventually } from '../../services/runtime/test/helpers.ts';

const root = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'servofleet-up-'));
let up: ChildProcess | undefined;
const pids = new Set<number>();

afterAll(() => {
  if (up && up.exitCode === null && up.signalCode === null) up.kill('SIGKILL');
  for (const pid of pids) {
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

interface Raw {
  profilesDir: string;
  broker: { url: string };
  links: { id: string; transport: string; adminPort?: number }[];
  lines: { id: string; adminPort?: number; sagaLog?: string }[];
  gateway: { port: number };
  journal?: { port?: number; path?: string };
  simulator: { controlPort: number; links: { link: string; listen: string }[] };
}

describe('servofleet up', () => {
  it('runs broker, simulator, device services, gateway, line controller and journal, and stops them all on SIGINT', async () => {
    const raw = parseYaml(readFileSync(resolve(root, 'config/demo-fleet.yaml'), 'utf8')) as Raw;
    const [mqttPort, simPort, gatewayPort, journalPort, ...linkPorts] = await freePorts(
      4 + raw.links.length,
    );
    const linkPort = new Map(raw.links.map((l, i) => [l.id, linkPorts[i]!]));
    raw.profilesDir = resolve(root, 'config/profiles');
    raw.broker.url = `mqtt://127.0.0.1:${mqttPort}`;
    for (const l of raw.links) {
      l.transport = `tcp://127.0.0.1:${linkPort.get(l.id)}`;
      l.adminPort = 0;
    }
    raw.journal = { ...raw.journal, port: journalPort!, path: join(dir, 'journal.db') };
    for (const line of raw.lines) {
      line.adminPort = 0;
      line.sagaLog = join(dir, `${line.id}.saga.jsonl`);
    }
    raw.gateway.port = gatewayPort!;
    raw.simulator.controlPort = simPort!;
    for (const s of raw.simulator.links) s.listen = `tcp://127.0.0.1:${linkPort.get(s.link)}`;
    const config = join(dir, 'fleet.yaml');
    writeFileSync(config, stringify(raw));

    const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'info', NO_COLOR: '1' };
    for (const k of Object.keys(env)) if (k.startsWith('SERVOFLEET_')) delete env[k];
    const child = spawn(
      process.execPath,
      [join(root, 'bin/servofleet.js'), 'up', '--config', config],
      {
        cwd: root,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    up = child;
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      for (const m of out.matchAll(/\[up\] (?:re)?started .* \(pid (\d+)/g)) pids.add(Number(m[1]));
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));

    // What runs where, printed at start.
    expect(
      await eventually(() => out.includes('Ctrl-C stops everything.'), 'the summary', 10_000),
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
      20_000,
      200,
    );
    const drives = await eventually(
      async () => {
        try {
          const res = await fetch(`http://127.0.0.1:${simPort}/sim/drives`);
          const body = (await res.json()) as { drives: { id: string }[] };
          return res.ok && body.drives.length === 6 && body.drives.map((d) => d.id);
        } catch {
          return false;
        }
      },
      'the simulator to list its drives',
      20_000,
      200,
    );
    expect(drives.sort()).toEqual(['axis-1', 'axis-2', 'axis-3', 'axis-4', 'dxl-1', 'dxl-2']);
    await eventually(
      () => out.includes('[up] every part started'),
      'every part to be started',
      10_000,
    );

    child.kill('SIGINT');
    const code = await Promise.race([
      exited,
      new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 15_000)),
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
