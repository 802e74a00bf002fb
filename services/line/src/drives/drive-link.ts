/**
 * The line's view of its drives and its way to command them, all over MQTT (services
 * never import each other): retained availability and state, breaker events, and
 * commands published to `{root}/drives/{id}/commands` with `replyTo` set to the line's
 * reply topic (works on 3.1.1 and 5 brokers alike).
 *
 * `send` resolves with the command's final answer — or with the line's own verdict
 * when no answer can be waited for: TIMEOUT (no final answer in time: outcome
 * unknown), DRIVE_UNREACHABLE (the drive turned unreachable/offline or its breaker
 * opened while we waited), ABORTED (the line gave up waiting: estop, safe stop).
 */
import type {
  Command,
  ContractError,
  DriveState,
  ReplyStatus,
  Topics,
} from '../../../contract/src/index.ts';
import { REPLY_STATUSES } from '../../../contract/src/index.ts';
import type { Clock, Logger, MqttConnection } from '../../../runtime/src/index.ts';

export type FinalStatus = Exclude<ReplyStatus, 'accepted'>;

export interface Final {
  status: FinalStatus;
  error?: ContractError;
  /** `drive`: the device service answered; `line`: the line decided (timeout, drive down, abort). */
  source: 'drive' | 'line';
  /** The reply's `ts` (the device service's clock, as its state messages' `ts`), when the drive answered. */
  ts?: number;
}

export interface DriveView {
  availability: 'online' | 'unreachable' | 'offline' | 'unknown';
  reason: string | undefined;
  breaker: 'closed' | 'open' | 'half-open';
  state: DriveState | undefined;
}

export interface SendOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** Give up as soon as the drive is seen down (default true; estop sends anyway and waits). */
  failWhenDown?: boolean;
}

/** What the saga runner and the controller use of the link (unit tests give a fake). */
export interface DrivePort {
  view(driveId: string): DriveView;
  isDown(driveId: string): boolean;
  isUp(driveId: string): boolean;
  onChange(cb: (driveId: string, view: DriveView) => void): () => void;
  /** Every state message of a drive of the line. */
  onState(cb: (driveId: string, state: DriveState) => void): () => void;
  send(driveId: string, command: Command, o: SendOptions): Promise<Final>;
  waitForState(
    driveId: string,
    ok: (s: DriveState) => boolean,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<'ok' | 'timeout' | 'down' | 'aborted'>;
}

interface Pending {
  driveId: string;
  failWhenDown: boolean;
  finish: (f: Final) => void;
}

type ChangeListener = (driveId: string, view: DriveView) => void;

export class DriveLink implements DrivePort {
  readonly #mqtt: Pick<MqttConnection, 'publishJson' | 'subscribe'>;
  readonly #t: Topics;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #replyTopic: string;
  readonly #views = new Map<string, DriveView>();
  readonly #pending = new Map<string, Pending>();
  readonly #listeners = new Set<ChangeListener>();
  readonly #stateWaiters = new Set<(driveId: string) => void>();
  readonly #stateListeners = new Set<(driveId: string, state: DriveState) => void>();

  constructor(o: {
    mqtt: Pick<MqttConnection, 'publishJson' | 'subscribe'>;
    topics: Topics;
    drives: readonly string[];
    replyTopic: string;
    clock: Clock;
    log: Logger;
  }) {
    this.#mqtt = o.mqtt;
    this.#t = o.topics;
    this.#clock = o.clock;
    this.#log = o.log;
    this.#replyTopic = o.replyTopic;
    for (const d of o.drives) {
      this.#views.set(d, {
        availability: 'unknown',
        reason: undefined,
        breaker: 'closed',
        state: undefined,
      });
    }
  }

  /** The filters to subscribe to (renewed by the connection on reconnect). */
  filters(): string[] {
    const f = [this.#replyTopic];
    for (const d of this.#views.keys()) {
      f.push(
        this.#t.drive(d, 'availability'),
        this.#t.drive(d, 'state'),
        this.#t.drive(d, 'events'),
      );
    }
    return f;
  }

  view(driveId: string): DriveView {
    const v = this.#views.get(driveId);
    if (!v) throw new Error(`drive ${driveId} is not in this line`);
    return v;
  }

  /** Unreachable, offline, or its breaker open. */
  isDown(driveId: string): boolean {
    const v = this.view(driveId);
    return v.availability === 'unreachable' || v.availability === 'offline' || v.breaker === 'open';
  }

  isUp(driveId: string): boolean {
    const v = this.view(driveId);
    return v.availability === 'online' && v.breaker !== 'open';
  }

  onChange(cb: ChangeListener): () => void {
    this.#listeners.add(cb);
    return () => this.#listeners.delete(cb);
  }

  onState(cb: (driveId: string, state: DriveState) => void): () => void {
    this.#stateListeners.add(cb);
    return () => this.#stateListeners.delete(cb);
  }

  /** Feed an MQTT message; true when it was one of ours. */
  handle(topic: string, payload: Buffer): boolean {
    if (topic === this.#replyTopic) {
      this.#onReply(payload);
      return true;
    }
    const p = this.#t.parseDrive(topic);
    if (!p) return false;
    const v = this.#views.get(p.driveId);
    if (!v) return false;
    const json = parse(payload);
    if (!json) return true;
    if (p.kind === 'availability') {
      const status = json.status;
      if (status === 'online' || status === 'unreachable' || status === 'offline') {
        const changed = v.availability !== status;
        v.availability = status;
        v.reason = typeof json.reason === 'string' ? json.reason : undefined;
        // A drive back online has its breaker closed again (the device publishes online on close).
        if (status === 'online') v.breaker = 'closed';
        if (changed) this.#changed(p.driveId, v);
      }
    } else if (p.kind === 'state') {
      v.state = json as unknown as DriveState;
      for (const w of this.#stateWaiters) w(p.driveId);
      for (const l of this.#stateListeners) l(p.driveId, v.state);
    } else if (p.kind === 'events' && json.type === 'breaker') {
      const s = json.state;
      if ((s === 'open' || s === 'closed' || s === 'half-open') && s !== v.breaker) {
        const wasDown = this.isDown(p.driveId);
        v.breaker = s;
        if (wasDown !== this.isDown(p.driveId)) this.#changed(p.driveId, v);
      }
    }
    return true;
  }

  /** Publish a command and wait for its final answer (see file comment). */
  send(driveId: string, command: Command, o: SendOptions): Promise<Final> {
    return new Promise<Final>((resolve) => {
      const failWhenDown = o.failWhenDown ?? true;
      const id = command.commandId;
      let done = false;
      const finish = (f: Final) => {
        if (done) return;
        done = true;
        this.#clock.clearTimer(timer);
        o.signal?.removeEventListener('abort', onAbort);
        if (this.#pending.get(id) === entry) this.#pending.delete(id);
        resolve(f);
      };
      const entry: Pending = { driveId, failWhenDown, finish };
      const onAbort = () =>
        finish({
          status: 'failed',
          source: 'line',
          error: { code: 'ABORTED', message: `the line stopped waiting: ${reasonOf(o.signal)}` },
        });
      const timer = this.#clock.setTimer(o.timeoutMs, () =>
        finish({
          status: 'failed',
          source: 'line',
          error: {
            code: 'TIMEOUT',
            message: `no final answer from ${driveId} within ${o.timeoutMs} ms: outcome unknown`,
          },
        }),
      );
      if (o.signal?.aborted) return onAbort();
      o.signal?.addEventListener('abort', onAbort);
      if (failWhenDown && this.isDown(driveId)) return finish(this.#downVerdict(driveId, false));
      this.#pending.set(id, entry);
      this.#mqtt
        .publishJson(
          this.#t.drive(driveId, 'commands'),
          { ...command, replyTo: this.#replyTopic },
          { qos: 1 },
        )
        .catch((err: unknown) =>
          finish({
            status: 'failed',
            source: 'line',
            error: {
              code: 'DRIVE_UNREACHABLE',
              message: `could not publish to ${driveId}: ${(err as Error).message}`,
            },
          }),
        );
    });
  }

  /** Wait until the drive's reported state satisfies `ok`: true, or false on timeout/abort/down. */
  waitForState(
    driveId: string,
    ok: (s: DriveState) => boolean,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<'ok' | 'timeout' | 'down' | 'aborted'> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (r: 'ok' | 'timeout' | 'down' | 'aborted') => {
        if (done) return;
        done = true;
        this.#clock.clearTimer(timer);
        this.#stateWaiters.delete(check);
        off();
        signal?.removeEventListener('abort', onAbort);
        resolve(r);
      };
      const check = (id: string) => {
        const s = this.view(driveId).state;
        if (id === driveId && s && ok(s)) finish('ok');
      };
      const onAbort = () => finish('aborted');
      const off = this.onChange((id) => {
        if (id === driveId && this.isDown(driveId)) finish('down');
      });
      const timer = this.#clock.setTimer(timeoutMs, () => finish('timeout'));
      if (signal?.aborted) return finish('aborted');
      signal?.addEventListener('abort', onAbort);
      if (this.isDown(driveId)) return finish('down');
      this.#stateWaiters.add(check);
      check(driveId);
    });
  }

  #downVerdict(driveId: string, waiting: boolean): Final {
    const v = this.view(driveId);
    const why =
      v.breaker === 'open'
        ? 'breaker open'
        : `${v.availability}${v.reason ? ` (${v.reason})` : ''}`;
    return {
      status: 'failed',
      source: 'line',
      error: {
        code: 'DRIVE_UNREACHABLE',
        message: waiting
          ? `${driveId} went ${why} while the line waited: outcome unknown`
          : `${driveId} is ${why}: not sent`,
      },
    };
  }

  #changed(driveId: string, v: DriveView): void {
    if (this.isDown(driveId)) {
      for (const p of [...this.#pending.values()]) {
        if (p.driveId === driveId && p.failWhenDown) p.finish(this.#downVerdict(driveId, true));
      }
    }
    for (const l of this.#listeners) l(driveId, v);
  }

  #onReply(payload: Buffer): void {
    const r = parse(payload);
    if (!r || typeof r.commandId !== 'string') return;
    const status = r.status as ReplyStatus;
    if (!REPLY_STATUSES.includes(status)) return;
    const p = this.#pending.get(r.commandId);
    if (!p) {
      this.#log.debug({ commandId: r.commandId, status }, 'reply to no command waiting');
      return;
    }
    if (status === 'accepted') return;
    const err = r.error as ContractError | undefined;
    p.finish({
      status,
      source: 'drive',
      ...(typeof r.ts === 'number' ? { ts: r.ts } : {}),
      ...(err ? { error: err } : {}),
    });
  }
}

function parse(payload: Buffer): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(payload.toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function reasonOf(signal: AbortSignal | undefined): string {
  const r: unknown = signal?.reason;
  if (r instanceof Error) return r.message;
  return typeof r === 'string' ? r : 'aborted';
}
