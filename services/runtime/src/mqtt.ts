/**
 * One MQTT session, the way every servofleet process holds it (mqtt.js 5 underneath).
 *
 * Protocol: with `protocol: 'auto'` (the default) each connection attempt starts as
 * MQTT 5; when the broker refuses it (CONNACK 0x01 or 0x84), or accepts the TCP
 * connection and closes it / stays silent past `connectTimeoutMs` without a CONNACK,
 * the session switches to MQTT 3.1.1 for good and reconnects at once. A refused or
 * unreachable TCP connection never causes a fallback. `protocolVersion` says what the
 * current session speaks; use MQTT 5 features (response topic, correlation data,
 * message expiry, user properties) only when it is 5: `publish` drops `properties`
 * on 3.1.1 rather than failing. (Over WebSockets the transport gives no "connected"
 * event, so there only an explicit refusal causes the fallback.) Over TLS the transport
 * is up once the handshake is done, and a TLS failure (certificate refused either way,
 * including the TLS 1.3 alert a broker sends after the handshake when it wants a client
 * certificate) is a transport failure: it never causes the fallback either.
 *
 * Reconnects: mqtt.js reconnects by itself; the period is ours: exponential from
 * `reconnect.initialMs` to `reconnect.maxMs`, with jitter (mqtt-negotiation.ts), reset
 * by every CONNACK. Subscriptions are renewed on reconnect (mqtt.js `resubscribe`).
 * `onConnect` callbacks run after every CONNACK: that is where a service republishes
 * its retained topics, since a restarted broker may have forgotten them.
 *
 * Queues while disconnected:
 * - QoS 0 publishes are dropped (`queueQoSZero: false`): the promise resolves `false`.
 * - QoS 1/2 publishes wait in mqtt.js's in-memory outgoing store and are sent after the
 *   next CONNACK; the promise resolves `true` on PUBACK (PUBCOMP for QoS 2), however
 *   long that takes. At most `maxPendingPublishes` (default 1000) may wait, in flight
 *   or queued; past that a publish rejects with MQTT_QUEUE_FULL and is not queued.
 *   They live in memory only: they are lost when the process ends, and `close()`
 *   rejects those still waiting with MQTT_CLOSED.
 */
import type { Writable } from 'node:stream';
import { TLSSocket } from 'node:tls';
import { connect, type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { type Clock, systemClock } from './clock.ts';
import { RuntimeError } from './errors.ts';
import {
  type AttemptOutcome,
  DEFAULT_RECONNECT,
  isProtocolVersionRefusal,
  isTlsFailure,
  type ReconnectBackoff,
  reconnectDelay,
  shouldFallBackToV311,
} from './mqtt-negotiation.ts';
import type {
  ConnectInfo,
  ConnectMqttOptions,
  MqttConnection,
  PublishOptions,
} from './mqtt-types.ts';

interface Pending {
  reject(err: Error): void;
}

/**
 * A graceful shutdown's last word on an availability topic: `offline` with reason
 * `shutdown` (QoS 1, retained), while still connected — the last will covers a crash.
 * A failure to send changes nothing about stopping.
 */
export async function announceOffline(
  conn: MqttConnection,
  topic: string,
  clock: Pick<Clock, 'wallNow'>,
): Promise<void> {
  if (!conn.connected) return;
  await conn
    .publishJson(
      topic,
      { status: 'offline', ts: clock.wallNow(), reason: 'shutdown' },
      { qos: 1, retain: true },
    )
    .catch(() => {});
}

export function connectMqtt(opts: ConnectMqttOptions): MqttConnection {
  const mode = opts.protocol ?? 'auto';
  const log = opts.log.child({ mqtt: redactUrl(opts.url), clientId: opts.clientId });
  const clock = opts.clock ?? systemClock;
  const random = opts.random ?? Math.random;
  const backoff: ReconnectBackoff = { ...DEFAULT_RECONNECT, ...opts.reconnect };
  const maxPending = opts.maxPendingPublishes ?? 1000;
  const clean = opts.clean ?? true;
  const m = opts.metrics && {
    connected: opts.metrics.gauge('servofleet_mqtt_connected', 'MQTT session up (1) or not (0)', [
      'client',
    ]),
    connects: opts.metrics.counter(
      'servofleet_mqtt_connects_total',
      'CONNACKs received (first connect and reconnects)',
      ['client'],
    ),
    dropped: opts.metrics.counter(
      'servofleet_mqtt_publish_dropped_total',
      'publishes dropped: QoS 0 while disconnected, or QoS 1/2 over the pending limit',
      ['client', 'reason'],
    ),
  };

  const options: IClientOptions = {
    clientId: opts.clientId,
    clean,
    keepalive: opts.keepaliveSec ?? 30,
    connectTimeout: opts.connectTimeoutMs ?? 10_000,
    reconnectPeriod: reconnectDelay(0, backoff, random),
    // Keep retrying after a refused CONNACK too (bad credentials, broker overloaded):
    // a service must come back by itself once the broker lets it in.
    reconnectOnConnackError: true,
    protocolVersion: mode === 4 ? 4 : 5,
    queueQoSZero: false,
    resubscribe: true,
    manualConnect: true,
    // Packet identifiers 1–0x7FFF; sendQos1 takes 0x8000–0xFFFF.
    messageIdProvider: new LowerHalfIds(),
  };
  // mqtt.js formats a debug line (through `debug`) on every packet it sends or takes
  // in, 2–3 % of a device process's CPU at 20 Hz × 50 drives; off unless asked for
  // with DEBUG=mqttjs*.
  if (!process.env.DEBUG?.includes('mqttjs')) options.log = noLog;
  if (opts.username !== undefined) options.username = opts.username;
  if (opts.password !== undefined) options.password = opts.password;
  if (opts.tls) {
    const { ca, cert, key, rejectUnauthorized } = opts.tls;
    if (ca !== undefined) options.ca = ca;
    if (cert !== undefined) options.cert = cert;
    if (key !== undefined) options.key = key;
    options.rejectUnauthorized = rejectUnauthorized ?? true;
  }
  if (opts.will) options.will = { ...opts.will };
  // MQTT 5 §3.1.2.11.2: without a session expiry interval the session ends with the
  // network connection, which would make clean: false meaningless.
  if (!clean && mode !== 4) {
    options.properties = { sessionExpiryInterval: opts.sessionExpirySec ?? 3600 };
  }
  const client = connect(opts.url, options);

  let closed = false;
  let everConnected = false;
  let negotiated: 4 | 5 | undefined;
  let lastInfo: ConnectInfo | undefined;
  let failures = 0;
  let lastError = '';
  let attempt: AttemptOutcome = { transportUp: false, connack: false, refusedVersion: false };
  const connectCbs = new Set<(info: ConnectInfo) => unknown>();
  const pending = new Set<Pending>();
  const drainWaiters = new Set<() => void>();
  function settle(entry: Pending) {
    if (!pending.delete(entry) || pending.size > 0) return;
    for (const w of drainWaiters) w();
  }

  // A new attempt starts when mqtt.js writes its CONNECT: client.stream is then the
  // attempt's fresh socket, not yet connected.
  client.on('packetsend', (packet) => {
    if (packet.cmd !== 'connect') return;
    const a: AttemptOutcome = { transportUp: false, connack: false, refusedVersion: false };
    attempt = a;
    // A TLS socket emits 'connect' for TCP, before the handshake that may still fail.
    client.stream.once(client.stream instanceof TLSSocket ? 'secureConnect' : 'connect', () => {
      a.transportUp = true;
    });
  });
  client.on('packetreceive', (packet) => {
    if (packet.cmd === 'connack') {
      attempt.connack = true;
      // MQTT 5 §3.2.2.3.3: how many QoS 1/2 publishes the broker takes unacknowledged;
      // sendQos1 keeps to half of it, mqtt.js's own share the other half.
      const max = packet.properties?.receiveMaximum ?? 65_535;
      fastQos1Limit = Math.max(1, Math.min(FAST_QOS1_INFLIGHT, Math.floor(max / 2)));
    } else if (packet.cmd === 'puback' && (packet.messageId ?? 0) >= FAST_QOS1_FIRST_ID) {
      if (fastQos1InFlight.delete(packet.messageId!) && (packet.reasonCode ?? 0) >= 0x80) {
        m?.dropped.inc({ client: opts.clientId, reason: 'refused' });
      }
    }
  });

  client.on('error', (e) => {
    const err = e as Error & { code?: unknown };
    if (isTlsFailure(err.code)) attempt.transportUp = false;
    if (client.options.protocolVersion === 5 && isProtocolVersionRefusal(err.code)) {
      attempt.refusedVersion = true;
      if (mode === 'auto') return; // the close handler falls back and says so
    }
    if (
      mode === 'auto' &&
      client.options.protocolVersion === 5 &&
      attempt.transportUp &&
      !attempt.connack
    ) {
      // "connack timeout" on the MQTT 5 probe: the close handler falls back.
      log.debug({ err: err.message }, 'no CONNACK to MQTT 5 CONNECT');
      return;
    }
    const text = `${err.code ?? ''} ${err.message}`;
    if (text === lastError) log.debug({ err: err.message, code: err.code }, 'MQTT error');
    else log.warn({ err: err.message, code: err.code }, 'MQTT connection error; will retry');
    lastError = text;
  });

  // Runs before mqtt.js's own close listener, which arms the reconnect timer with
  // options.reconnectPeriod: this is where the backoff and the jitter go in.
  client.prependListener('close', () => {
    client.options.reconnectPeriod = reconnectDelay(failures++, backoff, random);
  });
  client.on('close', () => {
    m?.connected.set({ client: opts.clientId }, 0);
    // Unacknowledged sendQos1 messages are not sent again (see sendQos1).
    fastQos1InFlight.clear();
    if (closed) return;
    const a = attempt;
    if (mode === 'auto' && client.options.protocolVersion === 5 && shouldFallBackToV311(a)) {
      log.info(
        { refused: a.refusedVersion, noConnack: !a.connack },
        'broker does not speak MQTT 5: using MQTT 3.1.1',
      );
      client.options.protocolVersion = 4;
      delete client.options.properties;
      // Reconnect now, keeping the stores: QoS 1 publishes queued meanwhile survive.
      client.reconnect({
        incomingStore: client.incomingStore,
        outgoingStore: client.outgoingStore,
      } as Parameters<MqttClient['reconnect']>[0]);
      return;
    }
    if (a.connack && !a.refusedVersion && negotiated !== undefined && lastError !== 'lost') {
      log.warn('MQTT connection lost; reconnecting');
      lastError = 'lost';
    }
  });

  client.on('connect', (connack) => {
    noDelay(client.stream);
    const info: ConnectInfo = {
      protocolVersion: client.options.protocolVersion === 5 ? 5 : 4,
      sessionPresent: connack.sessionPresent,
      reconnect: everConnected,
    };
    negotiated = info.protocolVersion;
    lastInfo = info;
    everConnected = true;
    failures = 0;
    lastError = '';
    m?.connected.set({ client: opts.clientId }, 1);
    m?.connects.inc({ client: opts.clientId });
    log.info(
      { protocolVersion: info.protocolVersion, sessionPresent: info.sessionPresent },
      `${info.reconnect ? 'reconnected' : 'connected'} to MQTT broker (MQTT ${info.protocolVersion === 5 ? '5' : '3.1.1'})`,
    );
    for (const cb of connectCbs) runConnectCb(cb, info);
  });

  function runConnectCb(cb: (info: ConnectInfo) => unknown, info: ConnectInfo) {
    try {
      Promise.resolve(cb(info)).catch((err: unknown) => {
        log.error({ err }, 'onConnect callback failed');
      });
    } catch (err) {
      log.error({ err }, 'onConnect callback failed');
    }
  }

  function publish(
    topic: string,
    payload: string | Buffer,
    o: PublishOptions = {},
  ): Promise<boolean> {
    if (closed) return Promise.reject(closedError(`publish to ${topic}`));
    const qos = o.qos ?? 0;
    if (qos === 0 && !client.connected) {
      m?.dropped.inc({ client: opts.clientId, reason: 'offline' });
      return Promise.resolve(false);
    }
    if (qos > 0 && pending.size >= maxPending) {
      m?.dropped.inc({ client: opts.clientId, reason: 'queue_full' });
      return Promise.reject(
        new RuntimeError(
          'MQTT_QUEUE_FULL',
          `publish to ${topic}: ${pending.size} QoS ${qos} publishes already wait for their acknowledgement`,
        ),
      );
    }
    return new Promise<boolean>((resolve, reject) => {
      let settled = false;
      const entry: Pending = {
        reject(err) {
          if (settled) return;
          settled = true;
          reject(err);
        },
      };
      if (qos > 0) pending.add(entry);
      const props = client.options.protocolVersion === 5 ? o.properties : undefined;
      client.publish(
        topic,
        payload,
        { qos, retain: o.retain ?? false, ...(props ? { properties: props } : {}) },
        (err) => {
          settle(entry);
          if (settled) return;
          settled = true;
          if (!err) resolve(true);
          else if (qos === 0 && !client.connected) resolve(false);
          else {
            reject(
              new RuntimeError(
                'MQTT_PUBLISH_FAILED',
                `publish to ${topic} failed: ${err.message}`,
                {
                  cause: err,
                },
              ),
            );
          }
        },
      );
    });
  }

  // Topic names encoded once (with their 2-byte length), for sendQos0 and sendQos1.
  const topicBytes = new Map<string, Buffer>();
  // sendQos0/sendQos1's packets of this tick, encoded one after the other into `batch`
  // and written to `batchStream` in one piece at the next tick, or earlier: before
  // mqtt.js writes a packet of its own (so everything leaves in the order it was
  // sent), and when the batch is full.
  let batch = Buffer.allocUnsafe(BATCH_BYTES);
  let batchLen = 0;
  let batchStream: Writable | undefined;
  let flushQueued = false;
  // sendQos1's packet identifiers waiting for their PUBACK, and the next one to use.
  const fastQos1InFlight = new Set<number>();
  let fastQos1Limit = FAST_QOS1_INFLIGHT;
  let nextFastId = FAST_QOS1_FIRST_ID;

  // mqtt.js emits 'packetsend' just before it writes a packet to the socket.
  client.on('packetsend', flush);

  /** The session's socket when a packet may be written to it now. */
  function writable(): Writable | undefined {
    const stream = client.stream as Writable | undefined;
    if (closed || !client.connected || !stream || stream.destroyed) return undefined;
    return stream;
  }

  function sendQos0(topic: string, payload: Buffer | string): boolean {
    const stream = writable();
    if (!stream) {
      m?.dropped.inc({ client: opts.clientId, reason: 'offline' });
      return false;
    }
    append(stream, topicOf(topic), payload, 0, false, 0);
    return true;
  }

  function sendQos1(topic: string, payload: Buffer | string, retain: boolean): boolean {
    const stream = writable();
    if (!stream || fastQos1InFlight.size >= fastQos1Limit) return false;
    // 0x8000–0xFFFF, skipping any still unacknowledged (at most fastQos1Limit are).
    let id = nextFastId;
    while (fastQos1InFlight.has(id)) id = id === 0xffff ? FAST_QOS1_FIRST_ID : id + 1;
    nextFastId = id === 0xffff ? FAST_QOS1_FIRST_ID : id + 1;
    fastQos1InFlight.add(id);
    append(stream, topicOf(topic), payload, 1, retain, id);
    return true;
  }

  function topicOf(topic: string): Buffer {
    let t = topicBytes.get(topic);
    if (t === undefined) {
      const name = Buffer.from(topic, 'utf8');
      t = Buffer.allocUnsafe(2 + name.length);
      t.writeUInt16BE(name.length, 0);
      name.copy(t, 2);
      if (topicBytes.size < 100_000) topicBytes.set(topic, t);
    }
    return t;
  }

  function append(
    stream: Writable,
    topic: Buffer,
    payload: Buffer | string,
    qos: 0 | 1,
    retain: boolean,
    id: number,
  ): void {
    if (batchStream !== stream) {
      flush();
      batchStream = stream;
    }
    // At most 3 bytes of UTF-8 a UTF-16 code unit; 5 bytes of fixed header at most.
    const most = 5 + topic.length + 3 + (typeof payload === 'string' ? 3 : 1) * payload.length;
    if (batchLen + most > batch.length) {
      flush();
      batchStream = stream;
      if (most > batch.length) batch = Buffer.allocUnsafe(most);
    }
    batchLen = encodePublishInto(
      batch,
      batchLen,
      topic,
      payload,
      negotiated === 5,
      qos,
      retain,
      id,
    );
    if (!flushQueued) {
      flushQueued = true;
      process.nextTick(flush);
    }
  }

  /** Writes the batch to its socket, if that is still the session's. */
  function flush(): void {
    flushQueued = false;
    const stream = batchStream;
    const n = batchLen;
    batchStream = undefined;
    batchLen = 0;
    if (n === 0 || stream === undefined || stream !== writable()) return;
    // A copy: the socket may hold on to the buffer it is given while `batch` is reused.
    stream.write(Buffer.from(batch.subarray(0, n)));
    if (batch.length > BATCH_BYTES) batch = Buffer.allocUnsafe(BATCH_BYTES);
  }

  client.connect();

  return {
    client,
    get connected() {
      return client.connected;
    },
    get protocolVersion() {
      return negotiated;
    },
    onConnect(cb) {
      connectCbs.add(cb);
      const info = lastInfo;
      if (client.connected && info) {
        queueMicrotask(() => {
          if (connectCbs.has(cb) && client.connected) runConnectCb(cb, info);
        });
      }
      return () => connectCbs.delete(cb);
    },
    onMessage(handler) {
      const listener = (topic: string, payload: Buffer, packet: IPublishPacket) => {
        try {
          handler(topic, payload, packet);
        } catch (err) {
          log.error({ err, topic }, 'MQTT message handler failed');
        }
      };
      client.on('message', listener);
      return () => client.off('message', listener);
    },
    publish,
    publishJson(topic, value, o) {
      return publish(topic, JSON.stringify(value), o);
    },
    sendQos0,
    sendQos1,
    async subscribe(filters, o = {}) {
      if (closed) throw closedError(`subscribe to ${String(filters)}`);
      let granted: { topic: string; qos: number; reasonCode?: number }[];
      try {
        granted = await client.subscribeAsync(filters, { qos: o.qos ?? 1 });
      } catch (cause) {
        const msg = cause instanceof Error ? cause.message : String(cause);
        throw new RuntimeError('MQTT_SUBSCRIBE_FAILED', `subscribe to ${String(filters)}: ${msg}`, {
          cause,
        });
      }
      // MQTT 3.1.1 §3.9.3 return code 0x80 = failure; MQTT 5 §3.9.3 reason codes >= 0x80.
      const refused = granted.filter((g) => g.qos >= 0x80 || (g.reasonCode ?? 0) >= 0x80);
      if (refused.length > 0) {
        throw new RuntimeError(
          'MQTT_SUBSCRIBE_FAILED',
          `broker refused subscription to ${refused.map((g) => g.topic).join(', ')}`,
        );
      }
    },
    waitConnected(timeoutMs) {
      if (client.connected) return Promise.resolve();
      if (closed) return Promise.reject(closedError('waitConnected'));
      return new Promise<void>((resolve, reject) => {
        const onConnect = () => {
          clock.clearTimer(timer);
          resolve();
        };
        const timer = clock.setTimer(timeoutMs, () => {
          client.off('connect', onConnect);
          reject(
            new RuntimeError(
              'MQTT_CONNECT_TIMEOUT',
              `no MQTT connection to ${redactUrl(opts.url)} within ${timeoutMs} ms` +
                (lastError ? ` (last error: ${lastError.trim()})` : ''),
            ),
          );
        });
        client.once('connect', onConnect);
      });
    },
    async close(o = {}) {
      if (closed) return;
      closed = true;
      const timeoutMs = o.timeoutMs ?? 2000;
      const started = clock.now();
      if (client.connected && pending.size > 0) {
        await new Promise<void>((resolve) => {
          const t = clock.setTimer(timeoutMs, done);
          drainWaiters.add(done);
          function done() {
            clock.clearTimer(t);
            drainWaiters.delete(done);
            resolve();
          }
        });
      }
      // DISCONNECT only when nothing is in flight: mqtt.js would otherwise wait for it.
      const graceful = client.connected && Object.keys(client.outgoing).length === 0;
      const left = Math.max(100, timeoutMs - (clock.now() - started));
      await new Promise<void>((resolve) => {
        const t = clock.setTimer(left, () => {
          client.stream?.destroy();
          resolve();
        });
        try {
          client.end(!graceful, () => {
            clock.clearTimer(t);
            resolve();
          });
        } catch (err) {
          log.debug({ err }, 'MQTT end failed');
          clock.clearTimer(t);
          resolve();
        }
      });
      for (const p of pending) p.reject(closedError('publish'));
      pending.clear();
      connectCbs.clear();
      m?.connected.set({ client: opts.clientId }, 0);
      log.info('MQTT connection closed');
    },
  };
}

function closedError(what: string): RuntimeError {
  return new RuntimeError('MQTT_CLOSED', `${what}: the MQTT connection is closed`);
}

/** `mqtt://user:secret@host:1883` → `mqtt://host:1883`, for logs and errors. */
function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//');
}

/**
 * Writes a PUBLISH at QoS 0 or 1 (MQTT 3.1.1 §3.3, MQTT 5 §3.3), not a duplicate, into
 * `out` at `at`, and returns where it ends: fixed header 0x30 | QoS << 1 | RETAIN, the
 * remaining length as a variable byte integer, the topic name (`topic` holds its
 * 2-byte length and its bytes), at QoS 1 the 2-byte packet identifier, on MQTT 5 a
 * property length of 0, then the payload (a string as UTF-8, written straight in).
 * `out` must have room for 5 + topic + 3 + the payload's bytes after `at`.
 *
 * Why not mqtt.js's publish (for telemetry and state at poll rate): it builds a packet
 * object, runs it through its store and keep-alive bookkeeping and writes it to the
 * socket in about six pieces (header, length, topic length, topic, payload…). In one
 * standing 200-drive fleet run, device processes spent 155 µs of CPU per poll with
 * telemetry through mqtt.js and 118 µs with no telemetry at all (the run-to-run spread
 * is 10–15 %).
 *
 * The remaining length is known only once a string is written: the packet is laid out
 * for a 2-byte length (126–16,383 bytes, a state or telemetry message) and moved by
 * the difference when it needs another.
 */
export function encodePublishInto(
  out: Buffer,
  at: number,
  topic: Buffer,
  payload: Buffer | string,
  v5: boolean,
  qos: 0 | 1,
  retain: boolean,
  id: number,
): number {
  let i = at + 3;
  i += topic.copy(out, i);
  if (qos === 1) {
    out[i++] = id >> 8;
    out[i++] = id & 0xff;
  }
  if (v5) out[i++] = 0;
  i += typeof payload === 'string' ? out.write(payload, i, 'utf8') : payload.copy(out, i);
  const remaining = i - (at + 3);
  if (remaining > 268_435_455) {
    // MQTT's largest packet (a 4-byte remaining length).
    throw new RuntimeError(
      'MQTT_PUBLISH_FAILED',
      `a ${remaining}-byte packet is over MQTT's limit`,
    );
  }
  const lenBytes = remaining < 128 ? 1 : remaining < 16_384 ? 2 : remaining < 2_097_152 ? 3 : 4;
  if (lenBytes !== 2) out.copyWithin(at + 1 + lenBytes, at + 3, i);
  out[at] = 0x30 | (qos << 1) | (retain ? 1 : 0);
  let j = at + 1;
  let x = remaining;
  do {
    let byte = x % 128;
    x = Math.floor(x / 128);
    if (x > 0) byte |= 0x80;
    out[j++] = byte;
  } while (x > 0);
  return at + 1 + lenBytes + remaining;
}

function noLog(): void {}

/**
 * Turns Nagle's algorithm off on the session's socket (TCP or TLS): mqtt.js leaves it
 * on, and a small publish written while the previous one is unacknowledged then waits
 * for the peer's delayed ACK, up to tens of ms on Linux (measured: a state message's
 * p99 from poll to subscriber fell from 26.5 ms to 5.0 ms, watch reads on, aedes).
 */
function noDelay(stream: unknown): void {
  const s = stream as { setNoDelay?: (on: boolean) => unknown } | undefined;
  if (typeof s?.setNoDelay === 'function') s.setNoDelay(true);
}

/**
 * Room for a tick's sendQos0/sendQos1 packets before they are written out: a 50-drive
 * link's telemetry and state at one group read is about 17 KB.
 */
const BATCH_BYTES = 64 * 1024;

/**
 * sendQos1's packet identifiers are 0x8000–0xFFFF; mqtt.js's own (`LowerHalfIds`) are
 * 1–0x7FFF, so that the two never hold the same identifier unacknowledged (MQTT 5
 * §2.2.1). At most this many of sendQos1's wait for their PUBACK at a time (fewer when
 * the broker's Receive Maximum is below twice that).
 */
export const FAST_QOS1_FIRST_ID = 0x8000;
export const FAST_QOS1_INFLIGHT = 1000;

/**
 * mqtt.js's packet identifiers, in turn through 1–0x7FFF (its default provider uses
 * all of 1–0xFFFF the same way, without tracking which are still unacknowledged).
 */
class LowerHalfIds {
  #next = 1;

  allocate(): number {
    const id = this.#next;
    this.#next = id === FAST_QOS1_FIRST_ID - 1 ? 1 : id + 1;
    return id;
  }

  getLastAllocated(): number {
    return this.#next === 1 ? FAST_QOS1_FIRST_ID - 1 : this.#next - 1;
  }

  register(_id: number): boolean {
    return true;
  }

  deallocate(_id: number): void {}

  clear(): void {}
}
