/**
 * Line commands (`start`, `stop`, `estop`, `reset`, `rejoin`) and their replies, in the
 * drive commands' shape: `accepted` for the ones that take time, then exactly one final
 * `completed | rejected | failed | expired`; a repeated `commandId` gets the first
 * answer (or waits for it) and is never executed twice; a command past its `deadline`
 * is answered `expired` and not executed.
 *
 * `estop` is handled the moment it arrives; the others one after another, after the
 * controller's restart recovery, so that a `start` cannot race a `reset`.
 */
import type {
  ContractError,
  LineCommand,
  LineReply,
  ReplyStatus,
} from '../../../contract/src/index.ts';
import type { Clock, Logger } from '../../../runtime/src/index.ts';
import type { LineController, LineOutput } from './line-controller.ts';

type Send = (reply: LineReply) => void;
type FinalStatus = Exclude<ReplyStatus, 'accepted'>;

interface Entry {
  cmd: LineCommand;
  accepted: boolean;
  final?: LineReply;
  senders: Send[];
}

interface Outcome {
  status: FinalStatus;
  error?: ContractError;
}

const COMPLETED: Outcome = { status: 'completed' };

export class LineCommands {
  readonly #c: LineController;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #out: LineOutput;
  readonly #entries = new Map<string, Entry>();
  readonly #cacheSize: number;
  #queue: Promise<void>;

  constructor(o: {
    controller: LineController;
    clock: Clock;
    log: Logger;
    out: LineOutput;
    /** Commands other than estop wait for this (the restart recovery). */
    ready: Promise<void>;
    cacheSize?: number;
  }) {
    this.#c = o.controller;
    this.#clock = o.clock;
    this.#log = o.log;
    this.#out = o.out;
    this.#cacheSize = o.cacheSize ?? 1024;
    this.#queue = o.ready.catch(() => {});
  }

  submit(cmd: LineCommand, send: Send): void {
    const known = this.#entries.get(cmd.commandId);
    if (known) {
      if (known.final) send(known.final);
      else {
        if (known.accepted) send(this.#reply(known.cmd, 'accepted'));
        known.senders.push(send);
      }
      return;
    }
    const entry: Entry = { cmd, accepted: false, senders: [send] };
    this.#remember(entry);
    this.#phase(cmd, 'received');
    const now = this.#clock.wallNow();
    if (cmd.deadline !== undefined && now > cmd.deadline) {
      this.#finish(entry, {
        status: 'expired',
        error: {
          code: 'COMMAND_EXPIRED',
          message: `deadline passed ${now - cmd.deadline} ms ago: not executed`,
        },
      });
      return;
    }
    const run = () =>
      this.#run(entry).then(
        (o) => this.#finish(entry, o),
        (err: unknown) => {
          this.#log.error({ err, commandId: cmd.commandId }, 'line command failed');
          this.#finish(entry, {
            status: 'failed',
            error: { code: 'INTERNAL', message: (err as Error).message },
          });
        },
      );
    if (cmd.type === 'estop') {
      void run();
      return;
    }
    this.#queue = this.#queue.then(run);
  }

  async #run(entry: Entry): Promise<Outcome> {
    const cmd = entry.cmd;
    const c = this.#c;
    const accept = () => {
      entry.accepted = true;
      this.#phase(cmd, 'accepted');
      const r = this.#reply(cmd, 'accepted');
      for (const s of entry.senders) s(r);
    };
    const by = `${cmd.type} ${cmd.commandId}`;
    switch (cmd.type) {
      case 'estop': {
        accept();
        const results = await c.estop(by);
        const missed = results.filter((r) => r.final.status !== 'completed');
        if (missed.length === 0) return COMPLETED;
        return {
          status: 'failed',
          error: {
            code: missed[0]!.final.error?.code ?? 'DRIVE_UNREACHABLE',
            message: `quickStop did not complete on ${missed
              .map(
                (m) =>
                  `${m.driveId} (${m.final.error?.code ?? m.final.status}: ${m.final.error?.message ?? ''})`,
              )
              .join(', ')}; the line is ESTOPPED`,
          },
        };
      }
      case 'start': {
        if (c.state === 'ESTOPPED') return invalid('the line is ESTOPPED: send reset first');
        if (c.compensating) return invalid('the line is compensating a failed cycle');
        if (c.state === 'RUNNING') return COMPLETED;
        if (c.state === 'STOPPING') {
          c.resumeRunning(by);
          return COMPLETED;
        }
        accept();
        await c.idle();
        const r = await c.start(by);
        return r.ok ? COMPLETED : { status: 'failed', error: r.error };
      }
      case 'stop': {
        if (c.state !== 'RUNNING' && c.state !== 'STOPPING') return COMPLETED;
        accept();
        c.requestStop(by);
        await c.whenState(() => c.state !== 'RUNNING' && c.state !== 'STOPPING');
        return COMPLETED;
      }
      case 'reset': {
        if (c.state !== 'ESTOPPED' && c.state !== 'FAULTED') return COMPLETED;
        accept();
        await c.reset(by);
        return COMPLETED;
      }
      case 'rejoin': {
        const ids = cmd.station
          ? [cmd.station]
          : c.stations
              .all()
              .filter((s) => s.status !== 'active')
              .map((s) => s.plan.id);
        for (const id of ids) {
          const st = c.stations.get(id);
          if (!st) {
            return {
              status: 'rejected',
              error: {
                code: 'NOT_FOUND',
                message: `no station '${id}' in line ${c.plan.lineId}`,
                path: '/station',
              },
            };
          }
          if (!st.plan.bypassable) {
            return {
              status: 'rejected',
              error: {
                code: 'BAD_REQUEST',
                message: `station '${id}' is not bypassable: it never leaves`,
                path: '/station',
              },
            };
          }
        }
        if (ids.length === 0) return COMPLETED;
        accept();
        const results = await Promise.all(ids.map((id) => c.degraded.requestRejoin(id, true)));
        const bad = results.flatMap((r, i) => (r.ok ? [] : [`${ids[i]}: ${r.message}`]));
        if (bad.length === 0) return COMPLETED;
        return {
          status: 'failed',
          error: { code: 'INVALID_STATE', message: `cannot rejoin ${bad.join('; ')}` },
        };
      }
    }
  }

  #finish(entry: Entry, o: Outcome): void {
    if (entry.final) return;
    const reply = this.#reply(entry.cmd, o.status, o.error);
    entry.final = reply;
    this.#phase(entry.cmd, o.status, o.error);
    for (const s of entry.senders.splice(0)) s(reply);
  }

  #reply(cmd: LineCommand, status: ReplyStatus, error?: ContractError): LineReply {
    return {
      commandId: cmd.commandId,
      status,
      ts: this.#clock.wallNow(),
      lineId: this.#c.plan.lineId,
      type: cmd.type,
      state: this.#c.state,
      ...(error ? { error } : {}),
    };
  }

  #phase(cmd: LineCommand, phase: 'received' | ReplyStatus, error?: ContractError): void {
    this.#out.event({
      type: 'command',
      commandId: cmd.commandId,
      commandType: cmd.type,
      phase,
      ...(error ? { error } : {}),
    });
  }

  #remember(entry: Entry): void {
    if (this.#entries.size >= this.#cacheSize) {
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

function invalid(message: string): Outcome {
  return { status: 'rejected', error: { code: 'INVALID_STATE', message } };
}
