/**
 * A command from HTTP to a drive and back: fail fast when nothing can come of it,
 * answer a retried `commandId` from memory, else publish it (MQTT 5 response topic and
 * correlation data, or `replyTo` on 3.1.1) through the drive's breaker and bulkhead and
 * wait for the answer up to the request's timeout.
 *
 * What is never done: publish to a drive whose service reports it unreachable or
 * offline (or has never reported it); publish while the broker is away (mqtt.js would
 * queue it and send it late); execute a command after its client stopped waiting —
 * every command carries a `deadline` (the client's, else now + the request timeout),
 * and the device service answers `expired` rather than start it later.
 */
import { randomUUID } from 'node:crypto';
import {
  BrokenCircuitError,
  BulkheadRejectedError,
  IsolatedCircuitError,
  TaskCancelledError,
  TimeoutStrategy,
  timeout,
} from 'cockatiel';
import type { Command, Reply } from '../../../contract/src/index.ts';
import type { GatewayCore } from '../core.ts';
import { ApiError } from '../errors.ts';
import { DriveFailure, isDriveFailureReply } from './drive-policies.ts';
import type { CommandRecord } from './results-store.ts';

/** The HTTP body: a contract command without `replyTo`, `commandId` optional. */
export type CommandBody = Command extends infer C
  ? C extends Command
    ? Omit<C, 'replyTo' | 'commandId'> & { commandId?: string }
    : never
  : never;

export interface SendOptions {
  driveId: string;
  body: CommandBody;
  /** Answer at the first `accepted` (long commands) rather than the final result. */
  until: 'final' | 'accepted';
  timeoutMs: number;
}

export interface Answered {
  reply: Reply;
  /** Answered from memory: the command was not sent again. */
  replayed: boolean;
}

/** Stop and quick stop: never queued behind other commands, never held by the gateway's breaker. */
const PRIORITY = new Set(['stop', 'quickStop']);
const TIMED_OUT = Symbol('timed out with a sign of life');
const ABORTED = Symbol('aborted');

class NotSent extends Error {}

export class CommandService {
  readonly #c: GatewayCore;

  constructor(core: GatewayCore) {
    this.#c = core;
  }

  async send(o: SendOptions): Promise<Answered> {
    const c = this.#c;
    const commandId = o.body.commandId ?? randomUUID();
    const known = c.results.get(commandId);
    if (known && known.driveId !== o.driveId) {
      throw new ApiError(
        400,
        'BAD_REQUEST',
        `commandId ${commandId} was already used for drive ${known.driveId}`,
        { path: '/commandId' },
      );
    }
    // An idempotent retry: the first result stands, nothing is sent again.
    if (known?.final || (o.until === 'accepted' && known?.status === 'accepted')) {
      return { reply: replyOf(known), replayed: true };
    }
    const refused = this.#unavailable(o.driveId, commandId);
    if (refused) throw refused;
    if (c.router.isWaiting(commandId)) return this.#join(commandId, o);

    const cmd = {
      ...o.body,
      commandId,
      deadline: o.body.deadline ?? c.clock.wallNow() + o.timeoutMs,
    } as Command;
    const policy = c.policies.for(o.driveId);
    const priority = PRIORITY.has(cmd.type);
    try {
      const got = await timeout(o.timeoutMs, TimeoutStrategy.Cooperative).execute(({ signal }) => {
        let started = false;
        const trip = () => {
          started = true;
          return this.#roundTrip(o.driveId, cmd, o.until, signal);
        };
        if (priority) return trip();
        return policy.breaker.execute(async () => {
          const queued = policy.bulkhead.execute(trip, signal);
          // Only a command still waiting for a slot gives up here; one under way
          // handles the timeout itself (it may have reached the drive).
          const r = await raceAbort(queued, signal, () => !started);
          if (r === ABORTED) throw new NotSent();
          return r;
        });
      });
      if (got === TIMED_OUT) throw this.#timeout(commandId, o, true);
      return { reply: got, replayed: false };
    } catch (err) {
      if (err instanceof ApiError) throw err;
      if (err instanceof DriveFailure) {
        if (err.reply) return { reply: err.reply, replayed: false };
        throw this.#timeout(commandId, o, false);
      }
      if (err instanceof BrokenCircuitError || err instanceof IsolatedCircuitError) {
        c.metrics.failFast.inc({ reason: 'breaker' });
        throw new ApiError(
          503,
          'BREAKER_OPEN',
          `the gateway's breaker for ${o.driveId} is open after repeated failed round trips: nothing was sent`,
          {
            headers: { 'retry-after': String(policy.retryAfterSec()) },
            extra: { commandId, driveId: o.driveId },
          },
        );
      }
      if (err instanceof BulkheadRejectedError) {
        c.metrics.failFast.inc({ reason: 'overloaded' });
        throw new ApiError(
          503,
          'OVERLOADED',
          `${c.options.maxInFlightPerDrive} commands are in flight for ${o.driveId} and ${c.options.maxQueuePerDrive} wait: nothing was sent`,
          { headers: { 'retry-after': '1' }, extra: { commandId, driveId: o.driveId } },
        );
      }
      if (err instanceof NotSent || err instanceof TaskCancelledError) {
        throw new ApiError(
          503,
          'OVERLOADED',
          `the command waited ${o.timeoutMs} ms for a free slot for ${o.driveId}: nothing was sent`,
          { headers: { 'retry-after': '1' }, extra: { commandId, driveId: o.driveId } },
        );
      }
      throw err;
    }
  }

  /**
   * The answer when nothing can come of a command at all (no broker, the drive not
   * online), if it is not a retry of a command known here; else undefined, and send()
   * decides. The route answers it straight away: while a drive is dead this is the hot
   * path, and a thrown error costs a promise rejection and fastify's error handling on
   * every request.
   */
  refusal(o: Pick<SendOptions, 'driveId' | 'body'>): ApiError | undefined {
    if (o.body.commandId !== undefined && this.#c.results.get(o.body.commandId)) return undefined;
    return this.#unavailable(o.driveId, o.body.commandId ?? randomUUID());
  }

  #unavailable(driveId: string, commandId: string): ApiError | undefined {
    const c = this.#c;
    if (!c.mqtt.connected) {
      c.metrics.failFast.inc({ reason: 'broker' });
      return new ApiError(
        503,
        'SERVICE_UNAVAILABLE',
        'the gateway has no connection to the MQTT broker: nothing was sent',
        {
          headers: { 'retry-after': String(c.options.unreachableRetryAfterSec) },
          extra: { commandId },
        },
      );
    }
    const a = c.model.get(driveId)!.availability;
    if (a?.status === 'online') return undefined;
    c.metrics.failFast.inc({ reason: 'unreachable' });
    const why = a
      ? `${driveId} is ${a.status}${a.reason ? ` (${a.reason})` : ''}`
      : `no device service has reported ${driveId}`;
    return new ApiError(503, 'DRIVE_UNREACHABLE', `${why}: nothing was sent`, {
      headers: { 'retry-after': String(c.options.unreachableRetryAfterSec) },
      extra: { commandId, driveId },
    });
  }

  /** Publish and wait. Throws DriveFailure for a round trip that counts against the drive. */
  async #roundTrip(
    driveId: string,
    cmd: Command,
    until: SendOptions['until'],
    signal: AbortSignal,
  ): Promise<Reply | typeof TIMED_OUT> {
    const c = this.#c;
    // Dequeued after the request gave up waiting: not sent.
    if (signal.aborted) throw new NotSent();
    const wait = c.router.wait(cmd.commandId, driveId, until === 'accepted');
    c.results.note({
      commandId: cmd.commandId,
      driveId,
      type: cmd.type,
      status: 'pending',
      ts: c.clock.wallNow(),
    });
    try {
      const v5 = c.mqtt.protocolVersion === 5;
      const published = c.mqtt.publish(
        c.topics.drive(driveId, 'commands'),
        JSON.stringify(v5 ? cmd : { ...cmd, replyTo: c.replyTopic }),
        v5
          ? {
              qos: 1,
              properties: {
                responseTopic: c.replyTopic,
                correlationData: Buffer.from(cmd.commandId, 'utf8'),
              },
            }
          : { qos: 1 },
      );
      const notPublished = published.then(
        () => new Promise<never>(() => {}),
        (err: unknown) => {
          throw new ApiError(
            503,
            'SERVICE_UNAVAILABLE',
            `the command could not be published: ${err instanceof Error ? err.message : String(err)}`,
            { headers: { 'retry-after': '1' }, extra: { commandId: cmd.commandId, driveId } },
          );
        },
      );
      const got = await raceAbort(Promise.race([wait.answer, notPublished]), signal);
      if (got === ABORTED) {
        if (wait.alive()) return TIMED_OUT;
        throw new DriveFailure('no-answer');
      }
      if (got.final && isDriveFailureReply(got.reply)) throw new DriveFailure('answer', got.reply);
      return got.reply;
    } finally {
      wait.cancel();
    }
  }

  /** Another request already waits for this commandId here: wait with it, send nothing. */
  async #join(commandId: string, o: SendOptions): Promise<Answered> {
    const c = this.#c;
    const wait = c.router.wait(commandId, o.driveId, o.until === 'accepted');
    let timer: ReturnType<typeof c.clock.setTimer> | undefined;
    const timedOut = new Promise<typeof ABORTED>((resolve) => {
      timer = c.clock.setTimer(o.timeoutMs, () => resolve(ABORTED));
    });
    try {
      const got = await Promise.race([wait.answer, timedOut]);
      if (got === ABORTED) throw this.#timeout(commandId, o, wait.alive());
      return { reply: got.reply, replayed: true };
    } finally {
      if (timer) c.clock.clearTimer(timer);
      wait.cancel();
    }
  }

  #timeout(commandId: string, o: SendOptions, alive: boolean): ApiError {
    const rec = this.#c.results.get(commandId);
    return new ApiError(
      504,
      'TIMEOUT',
      `no ${o.until === 'accepted' ? 'answer' : 'final answer'} from ${o.driveId} within ${o.timeoutMs} ms${alive ? ' (its service took the command)' : ''}: the outcome is unknown, the command may or may not take effect; GET /api/v1/commands/${encodeURIComponent(commandId)} for its result`,
      {
        extra: {
          commandId,
          driveId: o.driveId,
          outcome: 'unknown',
          ...(rec ? { status: rec.status } : {}),
        },
      },
    );
  }
}

export function replyOf(r: CommandRecord): Reply {
  return {
    commandId: r.commandId,
    status: r.status === 'pending' || r.status === 'received' ? 'accepted' : r.status,
    ts: r.ts,
    driveId: r.driveId,
    ...(r.type ? { type: r.type } : {}),
    ...(r.error ? { error: r.error } : {}),
  };
}

/**
 * Resolves with `p`'s value, or ABORTED as soon as `signal` aborts (if `when()` still
 * says so then); `p`'s rejection passes through.
 */
function raceAbort<T>(
  p: Promise<T>,
  signal: AbortSignal,
  when: () => boolean = () => true,
): Promise<T | typeof ABORTED> {
  if (signal.aborted && when()) {
    p.catch(() => {});
    return Promise.resolve(ABORTED);
  }
  return new Promise<T | typeof ABORTED>((resolve, reject) => {
    const onAbort = () => {
      if (when()) resolve(ABORTED);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
