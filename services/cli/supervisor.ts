/**
 * A small process supervisor for `servofleet up`: runs each part of the fleet in its
 * own child process, reports its output line by line, restarts a part that exits
 * with a capped exponential backoff (reset once it has run stably), and stops
 * everything in tiers: highest tier first, so the broker (tier 0) goes last and the
 * device services can still publish `offline`.
 *
 * Time (backoff, stop deadlines) comes from an injected Clock and processes from an
 * injected `spawn`, so tests drive it with a ManualClock and fake children.
 */
import { spawn as spawnChild } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { Clock, TimerHandle } from '../runtime/src/index.ts';
import { LineSplitter } from './supervisor-output.ts';

export interface PartSpec {
  /** Shown as the prefix of the part's lines: `broker`, `sim`, `device bus-a`. */
  name: string;
  command: string;
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Stop order: higher tiers stop first (default 0). */
  tier?: number;
}

/** What the supervisor needs of a child process. */
export interface ChildHandle {
  readonly pid: number | undefined;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  signal(signal: NodeJS.Signals): void;
  /** Called once, when the process has exited (or failed to start). */
  onExit(cb: (code: number | null, signal: NodeJS.Signals | null, error?: Error) => void): void;
}

export type SpawnFn = (spec: PartSpec) => ChildHandle;

export interface BackoffOptions {
  /** First restart delay, ms (default 500). */
  initialMs: number;
  /** Cap, ms (default 30 000). */
  maxMs: number;
  /** A part that ran at least this long before exiting restarts from `initialMs` again (default 10 000). */
  stableAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = {
  initialMs: 500,
  maxMs: 30_000,
  stableAfterMs: 10_000,
};

/** Delay before restart number `crashes` (0-based count of consecutive unstable exits). */
export function restartDelay(crashes: number, b: BackoffOptions = DEFAULT_BACKOFF): number {
  return Math.min(b.maxMs, b.initialMs * 2 ** Math.min(crashes, 30));
}

export type SupervisorEvent =
  | { type: 'started'; part: string; pid: number | undefined; restarts: number }
  | { type: 'output'; part: string; stream: 'stdout' | 'stderr'; line: string }
  | {
      type: 'exited';
      part: string;
      pid: number | undefined;
      code: number | null;
      signal: NodeJS.Signals | null;
      error?: string;
      uptimeMs: number;
      /** null while stopping: the part is not restarted. */
      restartInMs: number | null;
    }
  | { type: 'stopping'; part: string; pid: number | undefined; signal: NodeJS.Signals };

export interface SupervisorOptions {
  spawn: SpawnFn;
  clock: Clock;
  report: (event: SupervisorEvent) => void;
  backoff?: Partial<BackoffOptions>;
  /** How long a tier has after SIGTERM before SIGKILL, ms (default 8000). */
  stopTimeoutMs?: number;
}

export interface PartStatus {
  name: string;
  pid: number | undefined;
  state: 'running' | 'waiting' | 'stopped';
  restarts: number;
}

interface Part {
  spec: PartSpec;
  child?: ChildHandle;
  pid?: number | undefined;
  startedAt: number;
  crashes: number;
  restarts: number;
  timer?: TimerHandle;
  exited?: Promise<void>;
}

/** How long to wait for an exit after SIGKILL before giving up on a process, ms. */
const AFTER_KILL_MS = 2000;

export class Supervisor {
  readonly #opts: SupervisorOptions;
  readonly #backoff: BackoffOptions;
  readonly #parts = new Map<string, Part>();
  #stopping: Promise<void> | undefined;
  #killed = false;

  constructor(opts: SupervisorOptions) {
    this.#opts = opts;
    this.#backoff = { ...DEFAULT_BACKOFF, ...opts.backoff };
  }

  /** Starts a part and keeps it running until `stop()`. */
  start(spec: PartSpec): void {
    if (this.#stopping) throw new Error('supervisor is stopping');
    if (this.#parts.has(spec.name)) throw new Error(`part ${spec.name} already exists`);
    const part: Part = { spec, startedAt: 0, crashes: 0, restarts: 0 };
    this.#parts.set(spec.name, part);
    this.#spawn(part);
  }

  status(): PartStatus[] {
    return [...this.#parts.values()].map((p) => ({
      name: p.spec.name,
      pid: p.child ? p.pid : undefined,
      state: p.child ? 'running' : p.timer ? 'waiting' : 'stopped',
      restarts: p.restarts,
    }));
  }

  /**
   * SIGTERM every running part, tier by tier from the highest; SIGKILL what is left
   * of a tier after `stopTimeoutMs`. Pending restarts are cancelled. Idempotent.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stopAll();
    return this.#stopping;
  }

  /** SIGKILL every running part now (a second Ctrl-C, or the process exiting). */
  kill(): void {
    this.#killed = true;
    for (const p of this.#parts.values()) {
      if (p.timer) this.#opts.clock.clearTimer(p.timer);
      p.timer = undefined;
      p.child?.signal('SIGKILL');
    }
  }

  async #stopAll(): Promise<void> {
    const { clock } = this.#opts;
    for (const p of this.#parts.values()) {
      if (p.timer) clock.clearTimer(p.timer);
      p.timer = undefined;
    }
    const tiers = [...new Set([...this.#parts.values()].map((p) => p.spec.tier ?? 0))].sort(
      (a, b) => b - a,
    );
    for (const tier of tiers) {
      const running = [...this.#parts.values()].filter(
        (p) => (p.spec.tier ?? 0) === tier && p.child,
      );
      if (running.length === 0) continue;
      if (this.#killed) {
        // Already sent SIGKILL: only wait for the exits.
        await this.#waitExits(running);
        continue;
      }
      for (const p of running) {
        this.#opts.report({ type: 'stopping', part: p.spec.name, pid: p.pid, signal: 'SIGTERM' });
        p.child?.signal('SIGTERM');
      }
      await this.#waitExits(running);
    }
  }

  /** Waits for the parts to exit: SIGKILL after stopTimeoutMs, give up AFTER_KILL_MS later. */
  #waitExits(parts: Part[]): Promise<void> {
    const { clock } = this.#opts;
    const all = Promise.all(parts.map((p) => p.exited)).then(() => undefined);
    return new Promise<void>((resolve) => {
      let giveUp: TimerHandle | undefined;
      const kill = clock.setTimer(this.#opts.stopTimeoutMs ?? 8000, () => {
        for (const p of parts) {
          if (!p.child) continue;
          this.#opts.report({ type: 'stopping', part: p.spec.name, pid: p.pid, signal: 'SIGKILL' });
          p.child.signal('SIGKILL');
        }
        giveUp = clock.setTimer(AFTER_KILL_MS, resolve);
      });
      all.then(() => {
        clock.clearTimer(kill);
        if (giveUp) clock.clearTimer(giveUp);
        resolve();
      });
    });
  }

  #spawn(part: Part): void {
    const { clock, report } = this.#opts;
    const name = part.spec.name;
    let child: ChildHandle;
    try {
      child = this.#opts.spawn(part.spec);
    } catch (err) {
      part.startedAt = clock.now();
      this.#exited(part, undefined, null, null, err instanceof Error ? err.message : String(err));
      return;
    }
    part.child = child;
    part.pid = child.pid;
    part.startedAt = clock.now();
    report({ type: 'started', part: name, pid: child.pid, restarts: part.restarts });
    const flushers = [
      this.#pipe(name, 'stdout', child.stdout),
      this.#pipe(name, 'stderr', child.stderr),
    ];
    part.exited = new Promise<void>((resolve) => {
      child.onExit((code, signal, error) => {
        for (const flush of flushers) flush();
        if (part.child === child) {
          part.child = undefined;
          this.#exited(part, child.pid, code, signal, error?.message);
        }
        resolve();
      });
    });
  }

  /** Reports the stream's lines as they come; returns a flush for a last unterminated line. */
  #pipe(part: string, stream: 'stdout' | 'stderr', readable: Readable | null): () => void {
    if (!readable) return () => {};
    const splitter = new LineSplitter();
    const emit = (lines: string[]) => {
      for (const line of lines) this.#opts.report({ type: 'output', part, stream, line });
    };
    readable.on('data', (chunk: Buffer | string) => emit(splitter.feed(chunk)));
    readable.on('end', () => emit(splitter.flush()));
    readable.on('error', () => {});
    return () => emit(splitter.flush());
  }

  #exited(
    part: Part,
    pid: number | undefined,
    code: number | null,
    signal: NodeJS.Signals | null,
    error?: string,
  ): void {
    const { clock, report } = this.#opts;
    const uptimeMs = clock.now() - part.startedAt;
    const base = { type: 'exited', part: part.spec.name, pid, code, signal, uptimeMs } as const;
    const withError = error === undefined ? base : { ...base, error };
    if (this.#stopping) {
      report({ ...withError, restartInMs: null });
      return;
    }
    if (uptimeMs >= this.#backoff.stableAfterMs) part.crashes = 0;
    const delay = restartDelay(part.crashes, this.#backoff);
    part.crashes++;
    report({ ...withError, restartInMs: delay });
    part.timer = clock.setTimer(delay, () => {
      part.timer = undefined;
      if (this.#stopping) return;
      part.restarts++;
      this.#spawn(part);
    });
  }
}

/**
 * Spawns a part as a real child process in its own process group (detached), so that
 * a Ctrl-C in the terminal reaches only the supervisor, which then stops the parts in
 * order; signals go to the whole group. stdin is closed; stdout/stderr are piped.
 */
export function spawnProcessGroup(spec: PartSpec): ChildHandle {
  const child = spawnChild(spec.command, [...spec.args], {
    cwd: spec.cwd,
    env: spec.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let done = false;
  let cbs: ((code: number | null, signal: NodeJS.Signals | null, error?: Error) => void)[] = [];
  const finish = (code: number | null, signal: NodeJS.Signals | null, error?: Error) => {
    if (done) return;
    done = true;
    for (const cb of cbs) cb(code, signal, error);
    cbs = [];
  };
  // 'close' waits for stdio to end, so the last lines come before the exit report;
  // a grandchild holding the pipes open must not delay the report for long, though.
  child.once('close', (code, signal) => finish(code, signal));
  child.once('exit', (code, signal) => {
    setTimeout(() => finish(code, signal), 1000).unref();
  });
  child.once('error', (err) => {
    if (child.pid === undefined) finish(null, null, err);
  });
  return {
    pid: child.pid,
    stdout: child.stdout,
    stderr: child.stderr,
    signal(signal) {
      if (done || child.pid === undefined) return;
      try {
        process.kill(-child.pid, signal);
      } catch {
        child.kill(signal);
      }
    },
    onExit(cb) {
      cbs.push(cb);
    },
  };
}
