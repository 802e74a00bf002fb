/**
 * Test helpers for services/runtime: a logger that keeps its lines, free loopback
 * ports, a Mosquitto 2 broker on a temp config, and bounded waits. Every server binds
 * 127.0.0.1; every wait has a deadline.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from '../src/index.ts';
import { waitForTcpPort } from '../src/index.ts';

export interface MemoryLogger {
  log: Logger;
  /** Parsed JSON lines logged so far. */
  lines(): Record<string, unknown>[];
}

export function memoryLogger(level = 'debug'): MemoryLogger {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { log: pino({ level }, sink), lines: () => lines };
}

/** A loopback port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = addr && typeof addr === 'object' ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Polls `check` every `intervalMs` until it returns a value that is not undefined/false. */
export async function eventually<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  timeoutMs = 5000,
  intervalMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export const MOSQUITTO = [
  '/usr/sbin/mosquitto',
  '/usr/bin/mosquitto',
  '/usr/local/sbin/mosquitto',
].find((p) => existsSync(p));

export interface MosquittoProcess {
  port: number;
  url: string;
  stop(): Promise<void>;
}

export interface MosquittoOptions {
  /**
   * mosquitto.conf lines after the default listener, e.g. a TLS listener. Mosquitto
   * started as root reads some files as its own user: what they name must be readable
   * to others (directories 755, files 644).
   */
  extraConfig?: string;
}

/** Mosquitto 2 on 127.0.0.1 and a free port, anonymous, no persistence. */
export async function startMosquitto(opts: MosquittoOptions = {}): Promise<MosquittoProcess> {
  if (!MOSQUITTO) throw new Error('mosquitto is not installed');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'servofleet-mosquitto-'));
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nset_tcp_nodelay true\n${opts.extraConfig ?? ''}\n`,
  );
  const child: ChildProcess = spawn(MOSQUITTO, ['-c', conf], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Should the test process end without stop(), the broker must not outlive it.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = async () => {
    process.off('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForTcpPort({ host: '127.0.0.1', port, timeoutMs: 5000, intervalMs: 25 });
  } catch (err) {
    await stop();
    throw err;
  }
  return { port, url: `mqtt://127.0.0.1:${port}`, stop };
}
