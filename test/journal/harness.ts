/**
 * The journal as a separate process, exactly as `servofleet journal` runs it: a temp
 * fleet file pointing at a broker, a temp database, `node bin/servofleet.js journal
 * --config FILE` in a child process. Loopback only; every wait bounded.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { eventually, freePort } from '../../services/runtime/test/helpers.ts';

const root = resolve(import.meta.dirname, '../..');

export interface JournalConfig {
  /** The fleet file. */
  config: string;
  dbPath: string;
  url: string;
}

/** Writes a fleet file for a journal in `dir` (database `dir/<name>.db`). */
export async function journalConfig(dir: string, brokerUrl: string, name = 'journal') {
  const port = await freePort();
  const config = join(dir, `${name}.yaml`);
  writeFileSync(
    config,
    `root: servofleet
profilesDir: ${resolve(root, 'config/profiles')}
broker: { url: ${brokerUrl}, embedded: false }
links:
  - { id: bus-a, protocol: modbus-rtu, transport: memory://bus-a, drives: [{ id: axis-1, unit: 1, profile: sf-servo }] }
journal: { host: 127.0.0.1, port: ${port}, path: ${name}.db }
`,
  );
  return { config, dbPath: join(dir, `${name}.db`), url: `http://127.0.0.1:${port}` };
}

export interface JournalProcess {
  readonly child: ChildProcess;
  output(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
}

/** `servofleet journal --config FILE`, with no `SERVOFLEET_*` variables but `extraEnv`. */
export function spawnJournal(
  cfg: JournalConfig,
  extraEnv: Record<string, string> = {},
): JournalProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn' };
  for (const k of Object.keys(env)) if (k.startsWith('SERVOFLEET_')) delete env[k];
  Object.assign(env, extraEnv);
  const child = spawn(
    process.execPath,
    [join(root, 'bin/servofleet.js'), 'journal', '--config', cfg.config],
    { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr!.on('data', (c: Buffer) => {
    out += c.toString();
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  // Should the test process end first, the journal must not outlive it.
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  void exited.then(() => process.off('exit', kill));
  return { child, output: () => out, exited };
}

export async function waitReady(cfg: JournalConfig, p: JournalProcess, timeoutMs = 20_000) {
  await eventually(
    async () => {
      if (p.child.exitCode !== null) throw new Error(`journal exited:\n${p.output()}`);
      try {
        return (await fetch(`${cfg.url}/readyz`)).ok;
      } catch {
        return false;
      }
    },
    'the journal to be ready',
    timeoutMs,
    100,
  );
}
