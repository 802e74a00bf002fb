/**
 * Child processes for benchmarks that run the stack as a user would: each service its
 * own OS process, in its own process group (so that whatever it starts dies with it),
 * stopped by its own PID — never by name — at the end, on error, and when this process
 * exits or is interrupted. Plus what Linux says each one costs: CPU time
 * (`/proc/PID/stat` utime + stime, in clock ticks of `getconf CLK_TCK`) and resident
 * memory (`/proc/PID/status` VmRSS).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/PID/stat's times. */
export const CLK_TCK = (() => {
  try {
    const v = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(v) && v > 0 ? v : 100;
  } catch {
    return 100;
  }
})();

/** CPU time the process has used so far (every thread, user + system), seconds. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // proc(5): field 2 (comm) is in parentheses and may hold spaces; fields 14 and 15 are
  // utime and stime, i.e. indexes 11 and 12 after the closing parenthesis and state.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

/** Resident set size, bytes (0 when the process has gone). */
export function rssBytes(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Busy and total CPU time of the whole machine so far (/proc/stat), seconds. */
export function machineCpu(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  // cpu user nice system idle iowait irq softirq steal ...
  const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  const idle = v[3]! + v[4]!;
  return { busy: (total - idle) / CLK_TCK, total: total / CLK_TCK };
}

export interface Service {
  /** What it is, for the report: `device`, `gateway`, … */
  kind: string;
  /** Which one: `device bus-3`. */
  label: string;
  child: ChildProcess;
  pid: number;
  /** The last few KiB it wrote (stdout and stderr), for error messages. */
  tail(): string;
}

/** A set of service processes, each in its own process group; `stop()` ends them all. */
export class ServiceGroup {
  readonly services: Service[] = [];
  readonly #onExit = () => this.killNow();
  readonly #onSignal = (signal: NodeJS.Signals) => {
    this.killNow();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };

  readonly #cleanup: (() => void) | undefined;

  /** `cleanup` runs (synchronously) when this process exits or is interrupted meanwhile. */
  constructor(cleanup?: () => void) {
    this.#cleanup = cleanup;
    process.on('exit', this.#onExit);
    process.on('SIGINT', this.#onSignal);
    process.on('SIGTERM', this.#onSignal);
  }

  start(
    kind: string,
    label: string,
    command: string,
    args: string[],
    env: NodeJS.ProcessEnv,
  ): Service {
    const child = spawn(command, args, {
      // Its own process group: a signal to -pid reaches whatever it started too.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
    });
    if (child.pid === undefined) throw new Error(`bench: could not start ${label}`);
    let tail = '';
    const keep = (chunk: Buffer) => {
      tail = (tail + chunk.toString('utf8')).slice(-4096);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const s: Service = { kind, label, child, pid: child.pid, tail: () => tail };
    this.services.push(s);
    return s;
  }

  /** Throws, with its last output, if a service has exited. */
  checkAlive(): void {
    for (const s of this.services) {
      if (exited(s.child)) {
        throw new Error(
          `bench: ${s.label} (pid ${s.pid}) exited with ${s.child.exitCode ?? s.child.signalCode}:\n${s.tail()}`,
        );
      }
    }
  }

  /**
   * SIGTERM to every process group, kind by kind in reverse start order (the processes
   * of one kind together), so that the broker outlives the services that say goodbye
   * through it; SIGKILL to those still there after `graceMs`. Resolves when every
   * process has exited.
   */
  async stop(graceMs = 5000): Promise<void> {
    const kinds = [...new Set([...this.services].reverse().map((s) => s.kind))];
    for (const kind of kinds) {
      const running = this.services.filter((s) => s.kind === kind && !exited(s.child));
      await Promise.all(
        running.map(async (s) => {
          const gone = exited(s.child)
            ? Promise.resolve()
            : new Promise((r) => s.child.once('exit', r));
          signalGroup(s.pid, 'SIGTERM');
          const t = setTimeout(() => signalGroup(s.pid, 'SIGKILL'), graceMs);
          await gone;
          clearTimeout(t);
          // Anything the service started and left behind in its group.
          signalGroup(s.pid, 'SIGKILL');
        }),
      );
    }
    this.#release();
  }

  /** Synchronous last resort (process exit, a signal): SIGKILL every group. */
  killNow(): void {
    for (const s of this.services) signalGroup(s.pid, 'SIGKILL');
    this.#release();
    try {
      this.#cleanup?.();
    } catch {
      // best effort on the way out
    }
  }

  #release(): void {
    process.off('exit', this.#onExit);
    process.off('SIGINT', this.#onSignal);
    process.off('SIGTERM', this.#onSignal);
  }
}

function exited(c: ChildProcess): boolean {
  return c.exitCode !== null || c.signalCode !== null;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}
