/**
 * One drive as an MQTT citizen: its own MQTT session (so its last will marks exactly
 * this drive offline), retained availability, meta and state (on change: `stateDue`),
 * telemetry at poll rate,
 * events with unique ids, and command intake with replies to the MQTT 5 response
 * topic (with correlation data) or to `replyTo` for 3.1.1 clients.
 *
 * While the broker is away it keeps polling: the latest state waits to be published
 * on reconnect, telemetry is dropped, events and replies wait in a bounded buffer
 * (oldest dropped first, counted) — nothing piles up in memory.
 */
import { randomUUID } from 'node:crypto';
import type { profiles } from '../../../../firmware-protocol/src/index.ts';
import {
  type AvailabilityStatus,
  type Command,
  type ContractError,
  type DriveEvent,
  type DriveState,
  type Meta,
  parseCommand,
  type Reply,
  type Topics,
} from '../../../contract/src/index.ts';
import {
  announceOffline,
  type Clock,
  type Logger,
  type MqttConnection,
} from '../../../runtime/src/index.ts';
import { type CommandPhase, CommandRunner } from '../commands/command-runner.ts';
import type { BusPort, Limits, Poll } from '../commands/context.ts';
import type { RebootPort } from '../commands/dynamixel-sequences.ts';
import {
  COMMANDS_BY_KIND,
  type DriveKind,
  driveKind,
  type NormalState,
  normalizer,
  sameDiscrete,
  sameState,
} from './drive-view.ts';

export interface DriveServiceOptions {
  driveId: string;
  linkId: string;
  unit: number;
  protocol: 'modbus-rtu' | 'dynamixel2';
  profile: profiles.DriveProfile;
  pollHz: number;
  limits: Limits;
  serviceId: string;
  topics: Topics;
  bus: BusPort & RebootPort;
  clock: Clock;
  log: Logger;
  /** Opens this drive's own MQTT session with the given last will. */
  connect(will: { topic: string; payload: string; qos: 1; retain: true }): MqttConnection;
  /**
   * The process's shared session that carries state, telemetry, events and replies
   * (the device process passes its own service session). A poll cycle's messages for
   * every drive of the link then leave in one socket write, and the broker reads them
   * in one go, instead of one write per drive session; and a drive's state, events and
   * replies keep their order (one session). The drive's own session keeps its last
   * will, availability, meta and the command subscription. Without it, the drive's own
   * session carries everything.
   */
  data?: MqttConnection;
  /** Republish the retained state at least this often (default 10 s). */
  heartbeatMs?: number;
  /**
   * While only the measured values change, publish state at most this often (default
   * `DEFAULT_STATE_INTERVAL_MS`; 0: at every poll that changes anything). See
   * `stateDue`.
   */
  stateIntervalMs?: number;
  /** Events and replies kept while the broker is away (default 1000). */
  offlineBuffer?: number;
  onCommandPhase?(cmd: Command, phase: CommandPhase, error?: ContractError): void;
}

interface Waiter {
  ok: (p: Poll) => boolean;
  after: number;
  resolve: (p: Poll | undefined) => void;
}

/** An event or a reply: QoS 1, not retained. */
type Outgoing = {
  topic: string;
  payload: unknown;
  properties?: object;
};

export class DriveService {
  readonly id: string;
  readonly kind: DriveKind;
  readonly #o: DriveServiceOptions;
  readonly #log: Logger;
  readonly #normalize: (v: Readonly<Record<string, number>>) => NormalState;
  readonly #runner: CommandRunner;
  readonly #telemetryTopic: string;
  readonly #stateTopic: string;
  #mqtt: MqttConnection | undefined;
  #latest: Poll | undefined;
  #published: NormalState | undefined;
  #publishedAt = 0;
  #seq = 0;
  #availability: AvailabilityStatus = 'unreachable';
  #availabilityReason = 'starting';
  #waiters = new Set<Waiter>();
  #outbox: Outgoing[] = [];
  #heartbeat: ReturnType<Clock['setTimer']> | undefined;
  #stopped = false;
  readonly counters = { droppedWhileOffline: 0, badPayloads: 0 };
  #badBurst = 0;

  constructor(o: DriveServiceOptions) {
    this.#o = o;
    this.id = o.driveId;
    this.kind = driveKind(o.profile);
    this.#normalize = normalizer(this.kind);
    this.#telemetryTopic = o.topics.drive(o.driveId, 'telemetry');
    this.#stateTopic = o.topics.drive(o.driveId, 'state');
    this.#log = o.log.child({ driveId: o.driveId, link: o.linkId });
    this.#runner = new CommandRunner({
      ctx: {
        driveId: o.driveId,
        kind: this.kind,
        profile: o.profile,
        limits: o.limits,
        bus: o.bus,
        clock: o.clock,
        latest: () => this.#latest,
        waitForPoll: (ok, after, timeoutMs, signal) =>
          this.#waitForPoll(ok, after, timeoutMs, signal),
      },
      availability: () => (this.#availability === 'online' ? 'online' : 'unreachable'),
      onPhase: (cmd, phase, error) => {
        o.onCommandPhase?.(cmd, phase, error);
        this.#event({
          type: 'command',
          commandId: cmd.commandId,
          commandType: cmd.type,
          phase,
          ...(error ? { error } : {}),
        });
      },
    });
  }

  get availability(): AvailabilityStatus {
    return this.#availability;
  }

  get state(): NormalState | undefined {
    return this.#latest?.state;
  }

  start(): void {
    const t = this.#o.topics;
    const will = {
      topic: t.drive(this.id, 'availability'),
      payload: JSON.stringify({
        status: 'offline',
        ts: this.#o.clock.wallNow(),
        reason: 'last will',
      }),
      qos: 1 as const,
      retain: true as const,
    };
    const mqtt = this.#o.connect(will);
    this.#mqtt = mqtt;
    mqtt.onMessage((topic, payload, packet) => {
      if (topic === t.drive(this.id, 'commands')) this.#onCommand(payload, packet.properties);
    });
    mqtt.onConnect(async () => {
      // Birth: meta first (a subscriber that sees the drive online has its birth
      // certificate), then availability; the latest state and what waited offline go
      // out on the data session (this one, without).
      await mqtt
        .publishJson(t.drive(this.id, 'meta'), this.#meta(), { qos: 1, retain: true })
        .catch(() => {});
      await this.#publishAvailability();
      // With a shared data session, that session's own connect does the rest.
      if (!this.#o.data) this.onDataSessionConnect();
      await mqtt.subscribe(t.drive(this.id, 'commands'), { qos: 1 });
    });
    this.#scheduleHeartbeat();
  }

  /** A successful poll of this drive. */
  onPoll(values: Record<string, number>, atWallMs: number): void {
    const state = this.#normalize(values);
    const prev = this.#latest?.state;
    const poll: Poll = { values, state, at: atWallMs };
    this.#latest = poll;
    if (prev?.cia402 !== state.cia402) {
      this.#event({ type: 'state', from: prev?.cia402 ?? null, to: state.cia402 });
    }
    if ((prev?.fault?.code ?? null) !== (state.fault?.code ?? null)) {
      this.#event({ type: 'fault', fault: state.fault });
    }
    // Telemetry and state carry the same fields: serialised once (the session writes
    // the string into its packets as UTF-8).
    const msg = JSON.stringify(this.#stateMessage(state));
    const data = this.#data();
    // QoS 0, fire and forget (dropped while the broker is away), the packet encoded in
    // one piece (sendQos0) rather than through mqtt.js's publish.
    data?.sendQos0(this.#telemetryTopic, msg);
    const interval = this.#o.stateIntervalMs ?? DEFAULT_STATE_INTERVAL_MS;
    if (stateDue(this.#published, state, this.#o.clock.now() - this.#publishedAt, interval)) {
      this.#publishState(state, msg);
    }
    for (const w of this.#waiters) {
      if (atWallMs > w.after && w.ok(poll)) {
        this.#waiters.delete(w);
        w.resolve(poll);
      }
    }
  }

  onAvailability(a: 'online' | 'unreachable', reason: string): void {
    if (this.#stopped || (a === this.#availability && reason === this.#availabilityReason)) return;
    this.#availability = a;
    this.#availabilityReason = reason;
    void this.#publishAvailability();
    this.#event({ type: 'availability', status: a, reason });
  }

  onBreaker(state: 'closed' | 'open' | 'half-open'): void {
    this.#event({ type: 'breaker', state });
  }

  /** Graceful stop: refuse new commands, publish offline, end the session (no last will). */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#runner.stop();
    if (this.#heartbeat) this.#o.clock.clearTimer(this.#heartbeat);
    for (const w of this.#waiters) w.resolve(undefined);
    this.#waiters.clear();
    const mqtt = this.#mqtt;
    if (!mqtt) return;
    this.#availability = 'offline';
    await announceOffline(mqtt, this.#o.topics.drive(this.id, 'availability'), this.#o.clock);
    await mqtt.close({ timeoutMs: 2000 });
  }

  #onCommand(
    payload: Buffer,
    properties: { responseTopic?: string; correlationData?: Buffer } | undefined,
  ): void {
    const parsed = parseCommand(payload);
    const responseTopic = properties?.responseTopic;
    const correlationData = properties?.correlationData;
    const replyTo = (parsed.ok ? parsed.command.replyTo : parsed.replyTo) ?? undefined;
    const send = (reply: Reply) => {
      if (responseTopic) {
        this.#send({
          topic: responseTopic,
          payload: reply,
          properties: correlationData ? { correlationData } : {},
        });
      } else if (replyTo) {
        this.#send({ topic: replyTo, payload: reply });
      }
    };
    if (!parsed.ok) {
      this.counters.badPayloads++;
      // Logged once per burst, not once per message.
      if (this.#badBurst++ === 0) {
        this.#log.warn({ error: parsed.error }, 'malformed command payload');
        this.#o.clock.setTimer(5000, () => {
          if (this.#badBurst > 1)
            this.#log.warn({ count: this.#badBurst - 1 }, 'more malformed command payloads');
          this.#badBurst = 0;
        });
      }
      if (parsed.commandId) {
        send({
          commandId: parsed.commandId,
          status: 'rejected',
          ts: this.#o.clock.wallNow(),
          driveId: this.id,
          error: parsed.error,
        });
      }
      return;
    }
    this.#runner.submit(parsed.command, send);
  }

  #waitForPoll(
    ok: (p: Poll) => boolean,
    after: number,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<Poll | undefined> {
    return new Promise((resolve) => {
      if (signal.aborted || this.#stopped) return resolve(undefined);
      const done = (p: Poll | undefined) => {
        this.#o.clock.clearTimer(timer);
        signal.removeEventListener('abort', onAbort);
        this.#waiters.delete(w);
        resolve(p);
      };
      const w: Waiter = { ok, after, resolve: done };
      const onAbort = () => done(undefined);
      const timer = this.#o.clock.setTimer(timeoutMs, () => done(undefined));
      signal.addEventListener('abort', onAbort);
      this.#waiters.add(w);
    });
  }

  #stateMessage(s: NormalState): DriveState {
    return {
      driveId: this.id,
      ts: Math.round(this.#latest?.at ?? this.#o.clock.wallNow()),
      seq: this.#seq++,
      cia402: s.cia402,
      mode: s.mode,
      position: s.position,
      velocity: s.velocity,
      torque: s.torque,
      temperature: s.temperature,
      voltage: s.voltage,
      targetReached: s.targetReached,
      fault: s.fault,
    };
  }

  /**
   * After the data session (re)connects: the latest state again (retained), then the
   * events and replies that waited while it was away.
   */
  onDataSessionConnect(): void {
    if (this.#stopped) return;
    if (this.#latest) this.#publishState(this.#latest.state);
    const waiting = this.#outbox.splice(0);
    for (const m of waiting) this.#send(m);
  }

  /** The session for state, telemetry, events and replies: the shared one, else the drive's own. */
  #data(): MqttConnection | undefined {
    return this.#o.data ?? this.#mqtt;
  }

  #publishState(s: NormalState, msg = JSON.stringify(this.#stateMessage(s))): void {
    this.#published = s;
    this.#publishedAt = this.#o.clock.now();
    const data = this.#data();
    // Offline, the latest state simply waits for the next connect (onDataSessionConnect).
    if (!data?.connected) return;
    // QoS 1 without mqtt.js's per-message bookkeeping: a state unacknowledged when the
    // session drops is superseded by the one republished on connect. In one 50-drive
    // link on the move, sending state at QoS 0 instead cost the device process 12–15 µs
    // less CPU per poll (ad-hoc probe, states at 0.22 a poll): mqtt.js's QoS 1 path is
    // ~60 µs a message.
    if (data.sendQos1(this.#stateTopic, msg, true)) return;
    data
      .publish(this.#stateTopic, msg, { qos: 1, retain: true })
      .catch((err: unknown) =>
        this.#log.debug({ err, topic: 'state' }, 'state publish not acknowledged'),
      );
  }

  #scheduleHeartbeat(): void {
    const every = this.#o.heartbeatMs ?? 10_000;
    this.#heartbeat = this.#o.clock.setTimer(every, () => {
      if (this.#stopped) return;
      if (this.#latest && this.#o.clock.now() - this.#publishedAt >= every)
        this.#publishState(this.#latest.state);
      this.#scheduleHeartbeat();
    });
  }

  async #publishAvailability(): Promise<void> {
    const m = this.#mqtt;
    if (!m?.connected) return;
    await m
      .publishJson(
        this.#o.topics.drive(this.id, 'availability'),
        {
          status: this.#availability,
          ts: this.#o.clock.wallNow(),
          reason: this.#availabilityReason,
        },
        { qos: 1, retain: true },
      )
      .catch(() => {});
  }

  #meta(): Meta {
    const o = this.#o;
    return {
      driveId: this.id,
      ts: o.clock.wallNow(),
      contractVersion: 1,
      protocol: o.protocol,
      link: o.linkId,
      unit: o.unit,
      profile: o.profile.name,
      model: o.profile.description || o.profile.name,
      pollHz: o.pollHz,
      stateIntervalMs: o.stateIntervalMs ?? DEFAULT_STATE_INTERVAL_MS,
      limits: {
        ...(o.limits.position
          ? { position: [o.limits.position[0], o.limits.position[1]] as [number, number] }
          : {}),
        ...(o.limits.velocity !== undefined ? { velocity: o.limits.velocity } : {}),
        ...(o.limits.acceleration !== undefined ? { acceleration: o.limits.acceleration } : {}),
      },
      commands: [...COMMANDS_BY_KIND[this.kind]],
      service: o.serviceId,
    };
  }

  #event(body: Record<string, unknown> & { type: DriveEvent['type'] }): void {
    const e = { eventId: randomUUID(), driveId: this.id, ts: this.#o.clock.wallNow(), ...body };
    this.#send({
      topic: this.#o.topics.drive(this.id, 'events'),
      payload: e,
    });
  }

  /** An event or a reply: on the data session, kept in a bounded buffer while it is away. */
  #send(m: Outgoing): void {
    const mqtt = this.#data();
    if (!mqtt?.connected) {
      if (this.#outbox.length >= (this.#o.offlineBuffer ?? 1000)) {
        this.#outbox.shift();
        this.counters.droppedWhileOffline++;
      }
      this.#outbox.push(m);
      return;
    }
    mqtt
      .publishJson(m.topic, m.payload, {
        qos: 1,
        ...(m.properties ? { properties: m.properties } : {}),
      })
      .catch((err: unknown) =>
        this.#log.debug({ err, topic: m.topic }, 'publish not acknowledged'),
      );
  }
}

/**
 * State is published every `DEFAULT_STATE_INTERVAL_MS` at most while a drive moves (its
 * position changes at every poll), 5 a second: a retained snapshot for dashboards and
 * read models, not a stream (telemetry is the stream, at poll rate, QoS 0). Sparkplug
 * B reports by exception for the same reason.
 */
export const DEFAULT_STATE_INTERVAL_MS = 200;

/**
 * A step of the bus voltage or the temperature at least this large since the last state
 * message goes out at once, like a change of state (a sagging supply, a drive heating
 * up is news); smaller ones, the noise of a real sensor, wait for the interval.
 */
export const STATE_DEADBAND = { voltage: 1, temperature: 2 } as const;

/**
 * Whether a poll's view `s` goes out as a state message, given the last one published
 * (`sinceMs` ago): at once when there was none, when the CiA 402 state, mode, target
 * reached or fault changed, or when the voltage or temperature moved by its
 * `STATE_DEADBAND`; when only the measured values changed otherwise, once `intervalMs`
 * has passed since the last one. The first change after a quiet spell thus goes at
 * once; on the move, the latest view goes out every interval, and the view where the
 * drive came to rest at the first poll after it (polls keep coming: no timer).
 */
export function stateDue(
  published: NormalState | undefined,
  s: NormalState,
  sinceMs: number,
  intervalMs: number,
): boolean {
  if (published === undefined || !sameDiscrete(published, s)) return true;
  if (
    Math.abs(s.voltage - published.voltage) >= STATE_DEADBAND.voltage ||
    Math.abs(s.temperature - published.temperature) >= STATE_DEADBAND.temperature
  ) {
    return true;
  }
  return sinceMs >= intervalMs && !sameState(published, s);
}
