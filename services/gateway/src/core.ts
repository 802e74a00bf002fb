/**
 * The gateway's state outside HTTP: the MQTT intake that keeps the read model, the
 * command results and the live stream up to date, the reply router, and the per-drive
 * policies. `buildApp` creates one and hands it to the route plugins; it starts with
 * the app (`onReady`) and stops with it (`onClose`).
 */
import { randomUUID } from 'node:crypto';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import {
  type Availability,
  AvailabilitySchema,
  type DriveState,
  EventSchemas,
  type Meta,
  MetaSchema,
  type Reply,
  ReplySchema,
  StateSchema,
  type Topics,
  topics,
} from '../../contract/src/index.ts';
import type { Clock, Fleet, Logger } from '../../runtime/src/index.ts';
import { DrivePolicies } from './commands/drive-policies.ts';
import { isLineReply, LineCommander } from './commands/line-commands.ts';
import { ReplyRouter } from './commands/reply-router.ts';
import { ResultsStore } from './commands/results-store.ts';
import { type BreakerState, ReadModel } from './fleet/read-model.ts';
import { BREAKER_VALUE, type GatewayMetrics } from './metrics.ts';
import type { GatewayOptions } from './options.ts';
import type { GatewayMqtt } from './ports.ts';
import { StreamHub } from './stream/stream-hub.ts';

const checkAvailability = TypeCompiler.Compile(AvailabilitySchema);
const checkMeta = TypeCompiler.Compile(MetaSchema);
const checkState = TypeCompiler.Compile(StateSchema);
const checkReply = TypeCompiler.Compile(ReplySchema);
const checkBreakerEvent = TypeCompiler.Compile(EventSchemas.breaker);
const checkAvailabilityEvent = TypeCompiler.Compile(EventSchemas.availability);
const checkCommandEvent = TypeCompiler.Compile(EventSchemas.command);

export interface CoreDeps {
  fleet: Fleet;
  mqtt: GatewayMqtt;
  log: Logger;
  clock: Clock;
  metrics: GatewayMetrics;
  options: Readonly<GatewayOptions>;
  instanceId: string;
}

export class GatewayCore {
  readonly fleet: Fleet;
  readonly mqtt: GatewayMqtt;
  readonly log: Logger;
  readonly clock: Clock;
  readonly metrics: GatewayMetrics;
  readonly options: Readonly<GatewayOptions>;
  readonly instanceId: string;
  readonly topics: Topics;
  /** Where the drives answer this instance: MQTT 5 response topic, or 3.1.1 `replyTo`. */
  readonly replyTopic: string;
  readonly serviceId: string;
  readonly model: ReadModel;
  readonly results: ResultsStore;
  readonly router = new ReplyRouter();
  readonly policies: DrivePolicies;
  readonly hub: StreamHub;
  readonly lines: LineCommander;
  #subscribedAt: number | undefined;
  #unsubscribe: (() => void)[] = [];
  #badBurst = 0;

  constructor(d: CoreDeps) {
    this.fleet = d.fleet;
    this.mqtt = d.mqtt;
    this.log = d.log;
    this.clock = d.clock;
    this.metrics = d.metrics;
    this.options = d.options;
    this.instanceId = d.instanceId;
    this.topics = topics(d.fleet.root);
    this.serviceId = `gateway-${d.instanceId}`;
    this.replyTopic = `${this.topics.root}/gateway/${d.instanceId}/replies`;
    this.model = new ReadModel(d.fleet);
    this.results = new ResultsStore(d.options.resultsCacheSize);
    this.hub = new StreamHub({
      bufferSize: d.options.streamBufferSize,
      heartbeatMs: d.options.streamHeartbeatMs,
      maxBufferedBytes: d.options.streamMaxBufferedBytes,
      clock: d.clock,
      onDrop: () => d.metrics.streamDrops.inc(),
    });
    this.lines = new LineCommander({
      mqtt: d.mqtt,
      clock: d.clock,
      root: this.topics.root,
      replyTopic: this.replyTopic,
    });
    this.policies = new DrivePolicies(d.options, d.clock, (id, s) => this.#onGatewayBreaker(id, s));
    for (const r of this.model.all()) {
      d.metrics.breakerState.set({ drive: r.id, source: 'gateway' }, 0);
    }
  }

  start(): void {
    const t = this.topics;
    const filters = [
      t.allDrives('availability'),
      t.allDrives('meta'),
      t.allDrives('events'),
      t.allLines('state'),
      `${t.root}/services/+/availability`,
      this.replyTopic,
    ];
    this.#unsubscribe.push(
      this.mqtt.onMessage((topic, payload, packet) =>
        this.#onMessage(topic, payload, packet.retain, packet.properties?.correlationData),
      ),
      this.mqtt.onConnect(async () => {
        await this.mqtt.subscribe(filters, { qos: 1 });
        // State at QoS 0: the read model keeps only the latest snapshot, every SUBSCRIBE
        // (this one runs again after each reconnect) brings the retained one, and on a
        // live TCP connection nothing is lost. It spares a PUBACK per state message,
        // the gateway's one socket write per message at 20 Hz × every drive.
        await this.mqtt.subscribe(t.allDrives('state'), { qos: 0 });
        this.#subscribedAt ??= this.clock.now();
        await this.mqtt
          .publishJson(
            t.service(this.serviceId),
            { status: 'online', ts: this.clock.wallNow() },
            { qos: 1, retain: true },
          )
          .catch((err: unknown) => this.log.debug({ err }, 'service availability not published'));
      }),
    );
  }

  stop(): void {
    for (const u of this.#unsubscribe.splice(0)) u();
    this.hub.closeAll();
  }

  /** Broker connected and the read model warm (every fleet drive reported, or the warm-up passed). */
  readiness(): { ready: boolean; details: Record<string, unknown> } {
    const connected = this.mqtt.connected;
    const subscribed = this.#subscribedAt !== undefined;
    const counts = this.model.counts();
    const warm =
      subscribed &&
      (this.model.allReported() ||
        this.clock.now() - (this.#subscribedAt ?? 0) >= this.options.warmupMs);
    return {
      ready: connected && warm,
      details: {
        mqtt: connected
          ? `connected (MQTT ${this.mqtt.protocolVersion === 5 ? '5' : '3.1.1'})`
          : 'disconnected',
        readModel: warm ? 'warm' : subscribed ? 'warming up' : 'not subscribed',
        drives: counts,
        streamClients: this.hub.clients,
      },
    };
  }

  /** Record a gateway-side breaker change: read model, log, stream, metrics. */
  #onGatewayBreaker(driveId: string, state: BreakerState): void {
    const ts = this.clock.wallNow();
    this.model.setGatewayBreaker(driveId, state, ts);
    const log = state === 'open' ? this.log.warn.bind(this.log) : this.log.info.bind(this.log);
    log({ driveId, breaker: state }, `gateway breaker for ${driveId} ${state}`);
    this.metrics.breakerState.set({ drive: driveId, source: 'gateway' }, BREAKER_VALUE[state]);
    this.metrics.breakerTransitions.inc({ drive: driveId, source: 'gateway', to: state });
    this.hub.publish('events', driveId, {
      eventId: randomUUID(),
      driveId,
      ts,
      type: 'breaker',
      state,
      source: 'gateway',
    });
  }

  #onMessage(
    topic: string,
    payload: Buffer,
    retained: boolean,
    correlation: Buffer | undefined,
  ): void {
    if (topic === this.replyTopic) {
      this.#onReply(payload, correlation);
      return;
    }
    const d = this.topics.parseDrive(topic);
    if (d) {
      this.metrics.mqttMessages.inc({ kind: d.kind });
      const json = this.#json(payload, d.kind);
      if (json === undefined) return;
      switch (d.kind) {
        case 'availability':
          this.#onAvailability(d.driveId, json, retained);
          return;
        case 'meta':
          this.#onMeta(d.driveId, json);
          return;
        case 'state':
          this.#onState(d.driveId, json);
          return;
        case 'events':
          this.#onEvent(d.driveId, json);
          return;
        default:
          return;
      }
    }
    const l = this.topics.parseLine(topic);
    if (l) {
      const json = this.#json(payload, 'line');
      if (json && typeof json === 'object' && !Array.isArray(json)) {
        const ts =
          typeof (json as { ts?: unknown }).ts === 'number'
            ? (json as { ts: number }).ts
            : this.clock.wallNow();
        this.model.setLineState(l.lineId, json as Record<string, unknown>, ts);
      }
      return;
    }
    const s = /^(.*)\/services\/([^/]+)\/availability$/.exec(topic);
    if (s && s[1] === this.topics.root) {
      if (payload.length === 0) return; // a cleared retained message
      const json = this.#json(payload, 'service');
      if (json !== undefined && checkAvailability.Check(json)) this.model.setService(s[2]!, json);
    }
  }

  #json(payload: Buffer, kind: string): unknown {
    try {
      return JSON.parse(payload.toString('utf8'));
    } catch {
      this.#invalid(kind, 'not JSON');
      return undefined;
    }
  }

  #invalid(kind: string, why: string): void {
    this.metrics.mqttInvalid.inc({ kind });
    // Logged once per burst, not once per message.
    if (this.#badBurst++ === 0) {
      this.log.warn({ kind, why }, 'MQTT message does not match the contract: dropped');
      this.clock.setTimer(5000, () => {
        this.#badBurst = 0;
      });
    }
  }

  #onAvailability(driveId: string, json: unknown, retained: boolean): void {
    if (!checkAvailability.Check(json)) {
      this.#invalid('availability', 'schema');
      return;
    }
    this.#availability(driveId, json as Availability, retained);
  }

  #availability(driveId: string, a: Availability, retained: boolean): void {
    const before = this.model.get(driveId)?.deviceBreaker ?? null;
    const r = this.model.setAvailability(driveId, a, retained);
    if (!r) return;
    this.#deviceBreakerMetric(driveId, before, r.deviceBreaker);
    this.hub.publish('availability', driveId, { driveId, ...a });
  }

  #onMeta(driveId: string, json: unknown): void {
    if (!checkMeta.Check(json) || (json as Meta).driveId !== driveId) {
      this.#invalid('meta', 'schema');
      return;
    }
    this.model.setMeta(driveId, json as Meta);
  }

  #onState(driveId: string, json: unknown): void {
    if (!checkState.Check(json) || (json as DriveState).driveId !== driveId) {
      this.#invalid('state', 'schema');
      return;
    }
    if (this.model.setState(driveId, json as DriveState)) this.hub.publish('state', driveId, json);
  }

  #onEvent(driveId: string, json: unknown): void {
    const e = json as Record<string, unknown> | null;
    // Forward any event with the contract's head (a newer device may add event types).
    if (
      !e ||
      typeof e !== 'object' ||
      typeof e.eventId !== 'string' ||
      e.driveId !== driveId ||
      typeof e.ts !== 'number' ||
      typeof e.type !== 'string'
    ) {
      this.#invalid('events', 'schema');
      return;
    }
    if (e.type === 'availability' && checkAvailabilityEvent.Check(e)) {
      // The same change as on the availability topic, live: covers a retained message
      // that reached this subscriber out of order.
      const cur = this.model.get(driveId)?.availability;
      if (!cur || (cur.status !== e.status && cur.ts <= e.ts)) {
        const a: Availability = { status: e.status, ts: e.ts };
        if (e.reason !== undefined) a.reason = e.reason;
        this.#availability(driveId, a, false);
      }
    } else if (e.type === 'breaker' && checkBreakerEvent.Check(e)) {
      const before = this.model.get(driveId)?.deviceBreaker ?? null;
      this.model.setDeviceBreaker(driveId, e.state, e.ts);
      this.#deviceBreakerMetric(driveId, before, e.state);
    } else if (e.type === 'command' && checkCommandEvent.Check(e)) {
      const status = e.phase;
      this.results.note({
        commandId: e.commandId,
        driveId,
        type: e.commandType,
        status,
        ts: e.ts,
        ...(e.error ? { error: e.error } : {}),
      });
      if (status === 'received') this.router.received(e.commandId, driveId);
      else {
        this.router.deliver(
          {
            commandId: e.commandId,
            status,
            ts: e.ts,
            driveId,
            type: e.commandType,
            ...(e.error ? { error: e.error } : {}),
          },
          driveId,
        );
      }
    }
    this.hub.publish('events', driveId, e);
  }

  #deviceBreakerMetric(driveId: string, before: BreakerState | null, after: BreakerState | null) {
    if (after === null || after === before) return;
    this.metrics.breakerState.set({ drive: driveId, source: 'device' }, BREAKER_VALUE[after]);
    this.metrics.breakerTransitions.inc({ drive: driveId, source: 'device', to: after });
  }

  #onReply(payload: Buffer, correlation: Buffer | undefined): void {
    this.metrics.mqttMessages.inc({ kind: 'reply' });
    const json = this.#json(payload, 'reply');
    if (json === undefined) return;
    if (isLineReply(json)) {
      if (correlation && correlation.toString('utf8') !== json.commandId) {
        this.#invalid('reply', 'correlation data does not match commandId');
        return;
      }
      this.lines.deliver(json);
      return;
    }
    if (!checkReply.Check(json)) {
      this.#invalid('reply', 'schema');
      return;
    }
    const reply = json as Reply;
    // MQTT 5: the correlation data is the commandId we sent; it must agree.
    if (correlation && correlation.toString('utf8') !== reply.commandId) {
      this.#invalid('reply', 'correlation data does not match commandId');
      return;
    }
    const driveId = reply.driveId ?? this.results.get(reply.commandId)?.driveId;
    if (!driveId) {
      this.#invalid('reply', 'unknown command');
      return;
    }
    this.results.note({
      commandId: reply.commandId,
      driveId,
      type: reply.type ?? null,
      status: reply.status,
      ts: reply.ts,
      ...(reply.error ? { error: reply.error } : {}),
    });
    this.router.deliver(reply, driveId);
  }
}

export type { Availability, DriveState, Meta };
