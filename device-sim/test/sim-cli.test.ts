/**
 * `servofleet sim` as a test engineer runs it: a fleet file, a scenario, the control
 * API on the port given, the links on theirs; SIGINT stops it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../src/scenario.ts';

const ROOT = resolve(import.meta.dirname, '../..');

function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => res(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

describe('servofleet sim', () => {
  it('ships a valid example scenario', () => {
    const s = parseScenario(
      readFileSync(join(ROOT, 'config/scenarios/overheat-and-noise.yaml'), 'utf8'),
    );
    expect(s.steps.length).toBe(5);
  });

  it('serves the fleet file’s links, runs a scenario, answers the control API, and stops on SIGINT', async () => {
    const [api, a, b] = [await freePort(), await freePort(), await freePort()];
    const dir = mkdtempSync(join(tmpdir(), 'sf-simcli-'));
    const demo = readFileSync(join(ROOT, 'config/demo-fleet.yaml'), 'utf8')
      .replace('profilesDir: profiles', `profilesDir: ${join(ROOT, 'config/profiles')}`)
      .replaceAll('127.0.0.1:4001', `127.0.0.1:${a}`)
      .replaceAll('127.0.0.1:4002', `127.0.0.1:${b}`);
    writeFileSync(join(dir, 'fleet.yaml'), demo);
    writeFileSync(
      join(dir, 'scenario.yaml'),
      'name: t\nsteps:\n  - at: 0\n    inject: { drive: axis-2, fault: no-response }\n',
    );
    const child = spawn(
      process.execPath,
      [
        join(ROOT, 'bin/servofleet.js'),
        'sim',
        '--config',
        join(dir, 'fleet.yaml'),
        '--scenario',
        join(dir, 'scenario.yaml'),
      ],
      {
        env: { ...process.env, SERVOFLEET_SIM_PORT: String(api) },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      let faults: { fault: { drive: string } }[] = [];
      for (let i = 0; i < 200 && faults.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 50));
        faults = await fetch(`http://127.0.0.1:${api}/sim/faults`)
          .then((r) => r.json() as Promise<{ faults: typeof faults }>)
          .then((j) => j.faults)
          .catch(() => []);
      }
      expect(faults.map((f) => f.fault.drive)).toEqual(['axis-2']);
      const drives = (await (await fetch(`http://127.0.0.1:${api}/sim/drives`)).json()) as {
        drives: unknown[];
      };
      expect(drives.drives).toHaveLength(6);
      expect(out).toContain(`link bus-a listening on tcp://127.0.0.1:${a}`);
      expect(out).toContain(`link bus-b listening on tcp://127.0.0.1:${b}`);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  });

  it('refuses a bad fleet file with the path of the bad field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sf-simcli-'));
    writeFileSync(
      join(dir, 'bad.yaml'),
      readFileSync(join(ROOT, 'config/demo-fleet.yaml'), 'utf8')
        .replace('profilesDir: profiles', `profilesDir: ${join(ROOT, 'config/profiles')}`)
        .replace('baud: 115200', 'baudrate: 115200'),
    );
    const child = spawn(
      process.execPath,
      [join(ROOT, 'bin/servofleet.js'), 'sim', '--config', join(dir, 'bad.yaml')],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
    });
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    expect(code).toBe(1);
    expect(err).toContain('CONFIG_INVALID');
    expect(err).toContain('/links/0/baudrate: Unexpected property');
  });
});
