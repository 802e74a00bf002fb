/**
 * An in-memory MQTT broker for the gateway's unit tests: wildcard subscriptions,
 * retained messages, MQTT 5 properties (response topic, correlation data) or none
 * (3.1.1), delivery on a later microtask like a network would. Every publish is
 * recorded, so a test can assert that nothing was sent. One per test; no globals.
 */
import type { IPublishPacket } from 'mqtt';
import type { ConnectInfo, MessageHandler, PublishOptions } from '../../runtime/src/index.ts';
import type { GatewayMqtt } from '../src/ports.ts';

export interface Published {
  from: string;
  topic: string;
  payload: Buffer;
  json: Record<string, unknown> | undefined;
  retain: boolean;
  properties: PublishOptions['properties'];
}

export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

export class FakeBroker {
  readonly published: Published[] = [];
  readonly #clients = new Set<FakeClient>();
  readonly #retained = new Map<string, Published>();

  constructor(readonly protocolVersion: 4 | 5 = 5) {}

  client(name: string): FakeClient {
    const c = new FakeClient(this, name);
    this.#clients.add(c);
    return c;
  }

  /** What was published to topics matching `filter` (from index `from`). */
  sent(filter: string, from = 0): Published[] {
    return this.published.slice(from).filter((p) => topicMatches(filter, p.topic));
  }

  route(from: FakeClient, topic: string, payload: Buffer, o: PublishOptions): void {
    const props = this.protocolVersion === 5 ? o.properties : undefined;
    let json: Record<string, unknown> | undefined;
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch {
      json = undefined;
    }
    const p: Published = {
      from: from.name,
      topic,
      payload,
      json,
      retain: o.retain ?? false,
      properties: props,
    };
    this.published.push(p);
    if (p.retain) {
      if (payload.length === 0) this.#retained.delete(topic);
      else this.#retained.set(topic, p);
    }
    for (const c of this.#clients) c.deliverIfSubscribed(p, false);
  }

  retainedFor(filter: string): Published[] {
    return [...this.#retained.values()].filter((p) => topicMatches(filter, p.topic));
  }
}

export class FakeClient implements GatewayMqtt {
  #connected = true;
  readonly #subs = new Set<string>();
  readonly #handlers = new Set<MessageHandler>();
  readonly #connectCbs = new Set<(info: ConnectInfo) => unknown>();

  constructor(
    readonly broker: FakeBroker,
    readonly name: string,
  ) {}

  get connected(): boolean {
    return this.#connected;
  }

  get protocolVersion(): 4 | 5 {
    return this.broker.protocolVersion;
  }

  /** The broker goes away for this client. */
  disconnect(): void {
    this.#connected = false;
  }

  reconnect(): void {
    this.#connected = true;
    for (const cb of this.#connectCbs) {
      void cb({ protocolVersion: this.protocolVersion, sessionPresent: false, reconnect: true });
    }
  }

  onConnect(cb: (info: ConnectInfo) => unknown): () => void {
    this.#connectCbs.add(cb);
    if (this.#connected) {
      queueMicrotask(() => {
        void cb({ protocolVersion: this.protocolVersion, sessionPresent: false, reconnect: false });
      });
    }
    return () => this.#connectCbs.delete(cb);
  }

  onMessage(handler: MessageHandler): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  async publish(topic: string, payload: string | Buffer, o: PublishOptions = {}): Promise<boolean> {
    if (!this.#connected) return false;
    this.broker.route(this, topic, Buffer.isBuffer(payload) ? payload : Buffer.from(payload), o);
    return true;
  }

  publishJson(topic: string, value: unknown, o?: PublishOptions): Promise<boolean> {
    return this.publish(topic, JSON.stringify(value), o);
  }

  async subscribe(filters: string | string[]): Promise<void> {
    const list = Array.isArray(filters) ? filters : [filters];
    for (const f of list) {
      this.#subs.add(f);
      for (const p of this.broker.retainedFor(f)) this.deliverIfSubscribed(p, true, f);
    }
  }

  deliverIfSubscribed(p: Published, retained: boolean, only?: string): void {
    if (!this.#connected) return;
    const subs = only ? [only] : [...this.#subs];
    if (!subs.some((f) => topicMatches(f, p.topic))) return;
    const packet = {
      cmd: 'publish',
      topic: p.topic,
      payload: p.payload,
      qos: 1,
      dup: false,
      retain: retained,
      ...(p.properties ? { properties: p.properties } : {}),
    } as IPublishPacket;
    queueMicrotask(() => {
      for (const h of this.#handlers) h(p.topic, p.payload, packet);
    });
  }
}
