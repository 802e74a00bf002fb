/**
 * One drive's command intake: idempotency by `commandId`, deadlines, fail-fast when
 * unreachable, pre-checks, one command at a time — except stop and quick stop, which
 * never wait in line and end the motion in progress — and exactly one final result per
 * command, reported to every sender of that `commandId`.
 */
import type { Command, ContractError, Reply } from '../../../contract/src/index.ts';
import { precheck } from './checks.ts';
import { runCia402 } from './cia402-sequences.ts';
import type { BusPort, CommandContext } from './context.ts';
import { type RebootPort, runDynamixel } from './dynamixel-sequences.ts';
import { type FinalStatus, type Outcome, outcomeOfError } from './outcome.ts';

export type CommandPhase = 'received' | 'accepted' | FinalStatus;

export interface RunnerOptions {
  ctx: CommandContext & { bus: CommandContext['bus'] & RebootPort };
  availability(): 'online' | 'unreachable';
  /** Command lifecycle, for events and metrics. */
  onPhase?(cmd: Command, phase: CommandPhase, error?: ContractError): void;
  /** Commands waiting behind the one running (default 16); more are refused OVERLOADED. */
  maxQueue?: number;
  /** Results remembered for duplicate `commandId`s (default 4096). */
  cacheSize?: number;
}

type Send = (reply: Reply) => void;

interface Entry {
  cmd: Command;
  recheck?: boolean;
  final?: Reply;
  accepted: boolean;
  senders: Send[];
}

const PREEMPTING = new Set(['stop', 'quickStop']);
const MOTION = new Set(['moveTo', 'jog', 'home']);

export class CommandRunner {
  readonly #o: RunnerOptions;
  readonly #entries = new Map<string, Entry>();
  readonly #queue: Entry[] = [];
  #running: { entry: Entry; abort: AbortController } | undefined;
  /** The motion command still waiting for its completion, if any. */
  #motion: { entry: Entry; abort: AbortController } | undefined;
  #stopped = false;
  /** Stops and quick stops running: queued commands wait until they end. */
  #stopping = 0;
  /** Wall-clock ms when the last stop or quick stop ended. */
  #lastStopAt = 0;
  /** Wall-clock ms when the last command ended (its effect may not be polled yet). */
  #lastFinishedAt = 0;

  #stateMayBeStale(): boolean {
    return (this.#o.ctx.latest()?.at ?? 0) <= this.#lastFinishedAt;
  }

  constructor(opts: RunnerOptions) {
    this.#o = opts;
  }

  get pending(): number {
    return this.#queue.length + (this.#running ? 1 : 0);
  }

  /** Take a command; `send` hears `accepted` (for long commands) and then the one final reply. */
  submit(cmd: Command, send: Send): void {
    const known = this.#entries.get(cmd.commandId);
    if (known) {
      // A redelivered or retried command: never executed twice.
      if (known.final) send(known.final);
      else {
        if (known.accepted) send(this.#reply(known.cmd, 'accepted'));
        known.senders.push(send);
      }
      return;
    }
    const entry: Entry = { cmd, accepted: false, senders: [send] };
    this.#remember(entry);
    this.#o.onPhase?.(cmd, 'received');
    const now = this.#o.ctx.clock.wallNow();
    if (this.#stopped) {
      this.#finish(entry, {
        status: 'failed',
        error: { code: 'DRIVE_UNREACHABLE', message: 'the device service is stopping' },
      });
      return;
    }
    if (cmd.deadline !== undefined && now > cmd.deadline) {
      this.#finish(entry, expired(cmd.deadline, now));
      return;
    }
    if (this.#o.availability() !== 'online') {
      this.#finish(entry, {
        status: 'failed',
        error: {
          code: 'DRIVE_UNREACHABLE',
          message: 'the drive does not answer (breaker open or link down): nothing was sent',
        },
      });
      return;
    }
    const latest = this.#o.ctx.latest();
    const refused = precheck(cmd, this.#o.ctx.kind, this.#o.ctx.limits, latest);
    // A state that predates a stop says nothing about the drive now (a quick stop leaves
    // it QUICK_STOP_ACTIVE): what comes after a stop is judged on a poll taken after it.
    const afterStop =
      !PREEMPTING.has(cmd.type) && (this.#stopping > 0 || (latest?.at ?? 0) <= this.#lastStopAt);
    if (refused && !(isStateRefusal(refused) && (afterStop || this.#stateMayBeStale()))) {
      this.#finish(entry, refused);
      return;
    }
    // A refusal based on a poll older than the last command's end (enable, then moveTo at
    // once) is decided again on a fresh poll when the command's turn comes.
    entry.recheck = refused !== undefined || afterStop;
    if (PREEMPTING.has(cmd.type)) {
      this.#preempt(`interrupted by ${cmd.type} ${cmd.commandId}`);
      this.#stopping++;
      void this.#execute(entry).finally(() => {
        this.#stopping--;
        this.#lastStopAt = this.#o.ctx.clock.wallNow();
        this.#pump();
      });
      return;
    }
    if (MOTION.has(cmd.type) && this.#motion && this.#running?.entry === this.#motion.entry) {
      // The running motion is only waiting for its target: a newer motion takes over.
      this.#motion.abort.abort(`superseded by ${cmd.type} ${cmd.commandId}`);
    }
    if (this.#queue.length >= (this.#o.maxQueue ?? 16)) {
      this.#finish(entry, {
        status: 'rejected',
        error: {
          code: 'OVERLOADED',
          message: `${this.#queue.length} commands already wait for this drive`,
        },
      });
      return;
    }
    this.#queue.push(entry);
    this.#pump();
  }

  /** Refuse new commands and fail the queued ones (nothing of them was sent). */
  stop(): void {
    this.#stopped = true;
    for (const e of this.#queue.splice(0)) {
      this.#finish(e, {
        status: 'failed',
        error: { code: 'DRIVE_UNREACHABLE', message: 'the device service is stopping: not sent' },
      });
    }
    this.#motion?.abort.abort('the device service is stopping');
  }

  /**
   * A stop or quick stop ends everything asked before it: the running command (in any
   * phase: a moveTo still writing its set-point must not re-enable the drive after the
   * quick stop) is aborted and its unsent requests are withdrawn from the bus queue; the
   * queued commands end ABORTED without being sent.
   */
  #preempt(reason: string): void {
    this.#running?.abort.abort(reason);
    for (const e of this.#queue.splice(0)) {
      this.#finish(e, {
        status: 'failed',
        error: { code: 'ABORTED', message: `${reason}: not sent` },
      });
    }
  }

  #pump(): void {
    if (this.#running || this.#stopping > 0 || this.#queue.length === 0) return;
    const entry = this.#queue.shift()!;
    const now = this.#o.ctx.clock.wallNow();
    // Checked again when its turn comes: a command past its deadline is never executed.
    if (entry.cmd.deadline !== undefined && now > entry.cmd.deadline) {
      this.#finish(entry, expired(entry.cmd.deadline, now));
      this.#pump();
      return;
    }
    const abort = new AbortController();
    this.#running = { entry, abort };
    void this.#run(entry, abort).finally(() => {
      this.#running = undefined;
      this.#pump();
    });
  }

  async #execute(entry: Entry): Promise<void> {
    await this.#run(entry, new AbortController());
  }

  async #run(entry: Entry, abort: AbortController): Promise<void> {
    const ctx = withSignal(this.#o.ctx, abort.signal);
    if (entry.recheck) {
      await ctx.waitForPoll(() => true, this.#lastFinishedAt, 1000, abort.signal);
      const refused = precheck(entry.cmd, ctx.kind, ctx.limits, ctx.latest());
      if (refused) {
        this.#finish(entry, refused);
        return;
      }
    }
    const accept = () => {
      entry.accepted = true;
      if (MOTION.has(entry.cmd.type)) this.#motion = { entry, abort };
      this.#o.onPhase?.(entry.cmd, 'accepted');
      const r = this.#reply(entry.cmd, 'accepted');
      for (const s of entry.senders) s(r);
    };
    let outcome: Outcome;
    try {
      outcome =
        ctx.kind === 'cia402'
          ? await runCia402(ctx, entry.cmd, accept, abort.signal)
          : await runDynamixel(ctx, entry.cmd, accept, abort.signal);
    } catch (err) {
      outcome = outcomeOfError(err);
    }
    if (this.#motion?.entry === entry) this.#motion = undefined;
    this.#finish(entry, outcome);
  }

  #finish(entry: Entry, outcome: Outcome): void {
    if (entry.final) return;
    this.#lastFinishedAt = this.#o.ctx.clock.wallNow();
    const reply = this.#reply(entry.cmd, outcome.status, outcome.error);
    entry.final = reply;
    this.#o.onPhase?.(entry.cmd, outcome.status, outcome.error);
    const senders = entry.senders;
    entry.senders = [];
    for (const s of senders) s(reply);
  }

  #reply(cmd: Command, status: Reply['status'], error?: ContractError): Reply {
    return {
      commandId: cmd.commandId,
      status,
      ts: this.#o.ctx.clock.wallNow(),
      driveId: this.#o.ctx.driveId,
      type: cmd.type,
      ...(error ? { error } : {}),
    };
  }

  #remember(entry: Entry): void {
    const max = this.#o.cacheSize ?? 4096;
    if (this.#entries.size >= max) {
      // Forget the oldest finished results first (a Map keeps insertion order).
      for (const [id, e] of this.#entries) {
        if (e.final) {
          this.#entries.delete(id);
          break;
        }
      }
    }
    this.#entries.set(entry.cmd.commandId, entry);
  }
}

/** `ctx` whose bus requests are withdrawn (never sent) once `signal` aborts. */
function withSignal(ctx: RunnerOptions['ctx'], signal: AbortSignal): RunnerOptions['ctx'] {
  const bus = ctx.bus;
  type Opts = Parameters<BusPort['write']>[2];
  return {
    ...ctx,
    bus: {
      write: (id: string, values: [string, number][], o: Opts = {}) =>
        bus.write(id, values, { ...o, signal }),
      read: (id: string, names: string[], o: Opts = {}) => bus.read(id, names, { ...o, signal }),
      ...(bus.reboot ? { reboot: (id: string) => bus.reboot!(id) } : {}),
    },
  };
}

function isStateRefusal(o: Outcome): boolean {
  return o.error?.code === 'INVALID_STATE' || o.error?.code === 'DRIVE_FAULT';
}

function expired(deadline: number, now: number): Outcome {
  return {
    status: 'expired',
    error: {
      code: 'COMMAND_EXPIRED',
      message: `deadline ${new Date(deadline).toISOString()} passed ${now - deadline} ms ago: not executed`,
    },
  };
}
