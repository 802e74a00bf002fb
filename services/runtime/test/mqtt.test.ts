/**
 * connectMqtt against real brokers: the embedded aedes 1.2 (MQTT 3.1.1 only), a
 * Mosquitto 2 started here (MQTT 5), and fronts for aedes that close or ignore an
 * MQTT 5 CONNECT the way brokers older than MQTT 5 may. Asserts on what subscribers
 * receive.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { IPublishPacket } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ConnectMqttOptions,
  connectMqtt,
  type EmbeddedBroker,
  type MqttConnection,
  RuntimeError,
  reconnectDelay,
  startEmbeddedBroker,
} from '../src/index.ts';
import { encodePublishInto, FAST_QOS1_INFLIGHT } from '../src/mqtt.ts';
import { eventually, memoryLogger, startMosquitto } from './helpers.ts';

const open: MqttConnection[] = [];
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((c) => c.close({ timeoutMs: 200 })));
  for (const c of cleanups.splice(0).reverse()) {
    await Promise.resolve()
      .then(c)
      .catch(() => {});
  }
});

function conn(url: string, clientId: string, extra: Partial<ConnectMqttOptions> = {}) {
  const c = connectMqtt({
    url,
    clientId,
    log: memoryLogger().log,
    reconnect: { initialMs: 50, maxMs: 200 },
    connectTimeoutMs: 2000,
    ...extra,
  });
  open.push(c);
  return c;
}

interface Received {
  topic: string;
  text: string;
  packet: IPublishPacket;
}

async function subscriber(url: string, clientId: string, filter: string) {
  const c = conn(url, clientId);
  const got: Received[] = [];
  c.onMessage((topic, payload, packet) => got.push({ topic, text: payload.toString(), packet }));
  await c.waitConnected(5000);
  await c.subscribe(filter, { qos: 1 });
  return { c, got };
}

async function broker(port = 0): Promise<EmbeddedBroker> {
  const b = await startEmbeddedBroker({ port, log: memoryLogger().log });
  cleanups.push(() => b.close());
  return b;
}

describe('reconnectDelay', () => {
  it('doubles from initialMs up to maxMs, jittered within [d/2, d]', () => {
    const b = { initialMs: 100, maxMs: 1000 };
    expect([0, 1, 2, 3, 4, 9].map((n) => reconnectDelay(n, b, () => 1))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
    expect([0, 1, 4].map((n) => reconnectDelay(n, b, () => 0))).toEqual([50, 100, 500]);
    expect(reconnectDelay(0, { initialMs: 1, maxMs: 1 }, () => 0)).toBe(1);
  });
});

describe('connectMqtt with the embedded aedes broker (MQTT 3.1.1 only)', () => {
  it('falls back to 3.1.1 and delivers a QoS 1 publish made before the CONNACK', async () => {
    const b = await broker();
    const { got } = await subscriber(b.url, 'sub', 'fleet/#');
    const { log, lines } = memoryLogger();
    const a = conn(b.url, 'pub', { log });
    // Queued while the MQTT 5 attempt is refused; survives the fallback reconnect.
    const early = a.publishJson('fleet/early', { n: 1 }, { qos: 1 });
    await a.waitConnected(5000);
    expect(a.protocolVersion).toBe(4);
    await expect(early).resolves.toBe(true);
    // MQTT 5 properties are dropped on a 3.1.1 session, not an error.
    await expect(
      a.publishJson(
        'fleet/props',
        { n: 2 },
        { qos: 1, properties: { userProperties: { k: 'v' }, responseTopic: 'r' } },
      ),
    ).resolves.toBe(true);
    await eventually(() => got.length === 2, 'two messages');
    expect(got.map((g) => [g.topic, JSON.parse(g.text)])).toEqual([
      ['fleet/early', { n: 1 }],
      ['fleet/props', { n: 2 }],
    ]);
    expect(got[1]!.packet.properties).toBeUndefined();
    expect(lines().some((l) => l.msg === 'broker does not speak MQTT 5: using MQTT 3.1.1')).toBe(
      true,
    );
    expect(lines().some((l) => l.msg === 'connected to MQTT broker (MQTT 3.1.1)')).toBe(true);
  });

  it('does not fall back when protocol 5 is required', async () => {
    const b = await broker();
    const a = conn(b.url, 'v5-only', { protocol: 5 });
    const err = await a.waitConnected(600).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RuntimeError);
    expect((err as RuntimeError).code).toBe('MQTT_CONNECT_TIMEOUT');
    expect(a.protocolVersion).toBeUndefined();
  });

  it('has the broker publish the last will when the client dies, then republishes on reconnect', async () => {
    const b = await broker();
    await lastWillScenario(b.url);
  });

  it('republishes retained topics after a broker restart on the same port', async () => {
    const b1 = await startEmbeddedBroker({ port: 0, log: memoryLogger().log });
    const port = b1.port;
    const a = conn(b1.url, 'drive-a');
    const infos: { reconnect: boolean; protocolVersion: number }[] = [];
    a.onConnect(async (info) => {
      infos.push({ reconnect: info.reconnect, protocolVersion: info.protocolVersion });
      await a.publishJson('fleet/drives/a/state', { seq: infos.length }, { qos: 1, retain: true });
    });
    await a.waitConnected(5000);
    await b1.close();
    await eventually(() => !a.connected, 'client to notice the broker is gone');

    const b2 = await broker(port);
    await eventually(() => infos.length === 2, 'reconnect and republish');
    const { got } = await subscriber(b2.url, 'late-sub', 'fleet/#');
    await eventually(() => got.length === 1, 'retained state');
    expect(JSON.parse(got[0]!.text)).toEqual({ seq: 2 });
    expect(got[0]!.packet.retain).toBe(true);
    expect(infos).toEqual([
      { reconnect: false, protocolVersion: 4 },
      { reconnect: true, protocolVersion: 4 },
    ]);
  });

  it('queues QoS 1 while disconnected (bounded), drops QoS 0, delivers the queue after reconnect', async () => {
    const b1 = await startEmbeddedBroker({ port: 0, log: memoryLogger().log });
    const port = b1.port;
    const a = conn(b1.url, 'queuer', { maxPendingPublishes: 2 });
    await a.waitConnected(5000);
    await b1.close();
    await eventually(() => !a.connected, 'disconnect');

    await expect(a.publish('fleet/telemetry', 'x', { qos: 0 })).resolves.toBe(false);
    const q1 = a.publishJson('fleet/q/1', { n: 1 }, { qos: 1, retain: true });
    const q2 = a.publishJson('fleet/q/2', { n: 2 }, { qos: 1, retain: true });
    const q3 = a.publishJson('fleet/q/3', { n: 3 }, { qos: 1, retain: true });
    await expect(q3).rejects.toMatchObject({ code: 'MQTT_QUEUE_FULL' });

    const b2 = await broker(port);
    await expect(q1).resolves.toBe(true);
    await expect(q2).resolves.toBe(true);
    const { got } = await subscriber(b2.url, 'check', 'fleet/q/#');
    await eventually(() => got.length === 2, 'both queued messages, retained');
    expect(got.map((g) => g.topic).sort()).toEqual(['fleet/q/1', 'fleet/q/2']);
  });

  it('close() rejects publishes still waiting, and later calls fail with MQTT_CLOSED', async () => {
    const b = await startEmbeddedBroker({ port: 0, log: memoryLogger().log });
    const a = conn(b.url, 'closer');
    await a.waitConnected(5000);
    await b.close();
    await eventually(() => !a.connected, 'disconnect');
    const waiting = a.publish('fleet/x', 'y', { qos: 1 });
    await a.close({ timeoutMs: 100 });
    await expect(waiting).rejects.toMatchObject({ code: 'MQTT_CLOSED' });
    await expect(a.publish('fleet/x', 'y', { qos: 1 })).rejects.toMatchObject({
      code: 'MQTT_CLOSED',
    });
    await expect(a.subscribe('fleet/#')).rejects.toMatchObject({ code: 'MQTT_CLOSED' });
  });
});

/** sendQos0 next to mqtt.js's own publishes: every size of length field, in order, exactly. */
async function sendQos0RoundTrip(url: string, version: 4 | 5) {
  const { got } = await subscriber(url, `sub-${version}`, 'fleet/#');
  const a = conn(url, `raw-${version}`);
  await a.waitConnected(5000);
  expect(a.protocolVersion).toBe(version);
  // Remaining lengths of 1, 2 and 3 bytes (< 128, < 16,384, < 2,097,152).
  const sizes = [0, 10, 200, 20_000, 300_000];
  const payload = (n: number) => Buffer.from('é'.repeat(Math.floor(n / 2)).padEnd(n, 'x'));
  for (const [i, n] of sizes.entries()) {
    expect(a.sendQos0(`fleet/raw/${i}/télémétrie`, payload(n))).toBe(true);
    // mqtt.js's own packets on the same socket keep their place between them.
    await a.publishJson('fleet/json', { i }, { qos: 1 });
  }
  await eventually(() => got.length === sizes.length * 2, 'every message', 5000);
  expect(got.map((g) => g.topic)).toEqual(
    sizes.flatMap((_, i) => [`fleet/raw/${i}/télémétrie`, 'fleet/json']),
  );
  for (const [i, n] of sizes.entries()) {
    const g = got[2 * i]!;
    expect(Buffer.from(g.packet.payload as Buffer).equals(payload(n))).toBe(true);
    expect(g.packet.qos).toBe(0);
    expect(g.packet.retain).toBe(false);
    expect(JSON.parse(got[2 * i + 1]!.text)).toEqual({ i });
  }
  // Closed: dropped, and said so.
  await a.close();
  expect(a.sendQos0('fleet/raw/late', Buffer.from('x'))).toBe(false);
}

/**
 * sendQos1 next to mqtt.js's own QoS 1 publishes: delivered at QoS 1, in order, retained
 * when asked; at most its share unacknowledged, and sendable again once the PUBACKs are
 * in; `rounds` times that share sent, so that its packet identifiers go round their
 * range, while mqtt.js's publishes keep being acknowledged.
 */
async function sendQos1RoundTrip(url: string, version: 4 | 5, rounds: number, wrap: boolean) {
  const { got } = await subscriber(url, `sub1-${version}`, 'fleet/s/#');
  const a = conn(url, `fast-${version}`);
  await a.waitConnected(5000);
  expect(a.protocolVersion).toBe(version);
  for (let i = 0; i < 3; i++) {
    expect(a.sendQos1(`fleet/s/${i}`, Buffer.from(`v${i}`), true)).toBe(true);
    await a.publishJson('fleet/s/json', { i }, { qos: 1 });
  }
  await eventually(() => got.length === 6, 'every message', 5000);
  expect(got.map((g) => [g.topic, g.text, g.packet.qos])).toEqual(
    [0, 1, 2].flatMap((i) => [
      [`fleet/s/${i}`, `v${i}`, 1],
      ['fleet/s/json', JSON.stringify({ i }), 1],
    ]),
  );
  const late = await subscriber(url, `late-${version}`, 'fleet/s/1');
  await eventually(() => late.got.length === 1, 'the retained one', 5000);
  expect([late.got[0]!.text, late.got[0]!.packet.retain]).toEqual(['v1', true]);

  let total = 0;
  for (let r = 0; r < rounds; r++) {
    let n = 0;
    while (a.sendQos1('fleet/bulk', Buffer.from('x'), false)) n++;
    // The share it may have unacknowledged, then no more until PUBACKs come.
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThanOrEqual(FAST_QOS1_INFLIGHT);
    total += n;
    await expect(a.publishJson('fleet/s/json', { r }, { qos: 1 })).resolves.toBe(true);
    await eventually(() => a.sendQos1('fleet/bulk', Buffer.from('x'), false), 'PUBACKs', 5000);
    total++;
  }
  if (wrap) expect(total).toBeGreaterThan(0x8000);
  expect(a.sendQos1('fleet/s/last', Buffer.from('end'), true)).toBe(true);
  await eventually(() => got.at(-1)?.text === 'end', 'the last one', 5000);
  await a.close();
  expect(a.sendQos1('fleet/s/late', Buffer.from('x'), true)).toBe(false);
}

/**
 * One tick's sendQos0/sendQos1 packets (strings and buffers, one larger than the batch)
 * leave together, exactly, and a publish through mqtt.js in the same tick comes after
 * those sent before it and before those sent after it.
 */
async function oneTickRoundTrip(url: string, version: 4 | 5, acrossQos: boolean) {
  const { got } = await subscriber(url, `tick-sub-${version}`, 'fleet/t/#');
  const a = conn(url, `tick-${version}`);
  await a.waitConnected(5000);
  expect(a.protocolVersion).toBe(version);
  const big = 'é'.repeat(40_000); // 80,000 bytes of UTF-8: more than a batch holds
  const sent: [string, string | Buffer, 0 | 1][] = [
    ['fleet/t/a', '{"x":"ascii"}', 0],
    ['fleet/t/b', '{"x":"état ✓"}', 1],
    ['fleet/t/c', Buffer.alloc(20_000, 0x7a), 0],
    ['fleet/t/d', big, 0],
    ['fleet/t/e', '', 1],
  ];
  for (const [topic, payload, qos] of sent) {
    expect(qos === 0 ? a.sendQos0(topic, payload) : a.sendQos1(topic, payload, false)).toBe(true);
  }
  const json = a.publishJson('fleet/t/json', { via: 'mqtt.js' }, { qos: 1 });
  expect(a.sendQos0('fleet/t/z', 'after')).toBe(true);
  await json;
  await eventually(() => got.length === sent.length + 2, 'every message', 5000);
  const order: [string, number][] = [
    ...sent.map(([topic, , qos]): [string, number] => [topic, qos]),
    ['fleet/t/json', 1],
    ['fleet/t/z', 0],
  ];
  // aedes forwards a QoS 1 message after storing it, so QoS 0 ones may overtake it:
  // there the order holds within each QoS.
  const byQos = (l: [string, number][]) => [0, 1].map((q) => l.filter(([, x]) => x === q));
  const seen = got.map((g): [string, number] => [g.topic, g.packet.qos]);
  if (acrossQos) expect(seen).toEqual(order);
  else expect(byQos(seen)).toEqual(byQos(order));
  for (const [topic, payload] of sent) {
    const g = got.find((x) => x.topic === topic)!;
    expect(Buffer.from(g.packet.payload as Buffer).equals(Buffer.from(payload))).toBe(true);
  }
  expect(got.find((x) => x.topic === 'fleet/t/z')!.text).toBe('after');
}

describe('sendQos0 and sendQos1 in one tick', () => {
  it('leave in order (within each QoS), exactly, with a publish through mqtt.js in its place (aedes, 3.1.1)', async () => {
    const b = await broker();
    await oneTickRoundTrip(b.url, 4, false);
  });

  it('leave in order, exactly, with a publish through mqtt.js in its place (Mosquitto, MQTT 5)', async () => {
    const m = await startMosquitto();
    cleanups.push(() => m.stop());
    await oneTickRoundTrip(m.url, 5, true);
  });
});

describe('sendQos1 (state packets encoded in one piece)', () => {
  it('arrives at QoS 1, retained, in order with mqtt.js publishes; its identifiers go round without clashing (aedes, 3.1.1)', async () => {
    const b = await broker();
    await sendQos1RoundTrip(b.url, 4, Math.ceil(0x8000 / FAST_QOS1_INFLIGHT) + 1, true);
  });

  it('arrives at QoS 1, retained, in order with mqtt.js publishes, over MQTT 5 (Mosquitto)', async () => {
    const m = await startMosquitto();
    cleanups.push(() => m.stop());
    // Mosquitto's Receive Maximum (20) leaves sendQos1 10 at a time.
    await sendQos1RoundTrip(m.url, 5, 3, false);
  });
});

describe('sendQos0 (telemetry packets encoded in one piece)', () => {
  it('arrives exactly, in order with mqtt.js publishes, over MQTT 3.1.1 (aedes)', async () => {
    const b = await broker();
    await sendQos0RoundTrip(b.url, 4);
  });

  it('arrives exactly, in order with mqtt.js publishes, over MQTT 5 (Mosquitto)', async () => {
    const m = await startMosquitto();
    cleanups.push(() => m.stop());
    await sendQos0RoundTrip(m.url, 5);
  });

  it('encodes the remaining length as MQTT’s variable byte integer', () => {
    const topic = Buffer.from([0, 1, 0x61]);
    // A QoS 0 PUBLISH, not retained, in a buffer of its own.
    const encodeQos0Publish = (t: Buffer, payload: Buffer, v5: boolean) => {
      const out = Buffer.alloc(5 + t.length + 3 + payload.length);
      return out.subarray(0, encodePublishInto(out, 0, t, payload, v5, 0, false, 0));
    };
    const cases: [number, number[]][] = [
      [0, [0x03]],
      [124, [0x7f]],
      [125, [0x80, 0x01]],
      [16_380, [0xff, 0x7f]],
      [16_381, [0x80, 0x80, 0x01]],
    ];
    for (const [n, len] of cases) {
      const p = encodeQos0Publish(topic, Buffer.alloc(n, 1), false);
      expect([...p.subarray(0, 1 + len.length)]).toEqual([0x30, ...len]);
      expect(p.length).toBe(1 + len.length + 3 + n);
    }
    // MQTT 5: a property length of 0 after the topic.
    const v5 = encodeQos0Publish(topic, Buffer.from('hi'), true);
    expect([...v5]).toEqual([0x30, 6, 0, 1, 0x61, 0, 0x68, 0x69]);
  });

  it('writes a string payload as UTF-8 into a buffer, after what is there, at every length size', () => {
    const topic = Buffer.from([0, 1, 0x61]);
    for (const [chars, len] of [
      [2, [0x08]], // 3 bytes + 5
      [200, [0xb1, 0x02]], // 300 bytes + 5
      [12_000, [0xd5, 0x8c, 0x01]], // 18,000 bytes + 5
    ] as const) {
      const text = 'é'.repeat(chars / 2) + 'x'.repeat(chars / 2); // 1.5 bytes a character
      const out = Buffer.alloc(20 + 5 + 3 + 2 + 3 * chars, 0xee);
      out.write('before', 0);
      const end = encodePublishInto(out, 6, topic, text, false, 1, true, 0x8001);
      const bytes = Buffer.byteLength(text);
      expect(out.subarray(0, 6).toString()).toBe('before');
      expect([...out.subarray(6, 7 + len.length)]).toEqual([0x33, ...len]);
      expect([...out.subarray(7 + len.length, 12 + len.length)]).toEqual([0, 1, 0x61, 0x80, 0x01]);
      expect(out.subarray(12 + len.length, end).toString()).toBe(text);
      expect(end).toBe(6 + 1 + len.length + 5 + bytes);
    }
  });
});

describe('connectMqtt with a broker that cannot parse MQTT 5', () => {
  it.each([
    ['closes the connection without a CONNACK', 'close'],
    ['never answers (connect timeout)', 'silent'],
  ] as const)('falls back to 3.1.1 when the broker %s', async (_what, behaviour) => {
    const b = await broker();
    const front = await v311OnlyFront(b, behaviour);
    const { log, lines } = memoryLogger();
    const a = conn(front.url, 'old-broker-client', { log, connectTimeoutMs: 300 });
    await a.waitConnected(5000);
    expect(a.protocolVersion).toBe(4);
    const { got } = await subscriber(b.url, 'sub', 'fleet/#');
    await a.publish('fleet/hello', 'world', { qos: 1 });
    await eventually(() => got.length === 1, 'message through the front');
    expect(got[0]!.text).toBe('world');
    const fallback = lines().find(
      (l) => l.msg === 'broker does not speak MQTT 5: using MQTT 3.1.1',
    );
    expect(fallback).toMatchObject({ refused: false, noConnack: true });
  });

  it('does not fall back when the TCP connection is refused', async () => {
    const b = await startEmbeddedBroker({ port: 0, log: memoryLogger().log });
    const url = b.url;
    await b.close();
    const { log, lines } = memoryLogger();
    const a = conn(url, 'nobody-home', { log });
    await expect(a.waitConnected(400)).rejects.toMatchObject({ code: 'MQTT_CONNECT_TIMEOUT' });
    expect(lines().some((l) => String(l.msg).includes('MQTT 3.1.1'))).toBe(false);
    expect(a.client.options.protocolVersion).toBe(5);
  });
});

describe('connectMqtt with Mosquitto 2 (MQTT 5)', () => {
  it('negotiates MQTT 5 and carries response topic, correlation data, user properties, expiry', async () => {
    const m = await startMosquitto();
    cleanups.push(() => m.stop());
    const { got } = await subscriber(m.url, 'hmi', 'fleet/#');
    const a = conn(m.url, 'requester');
    await a.waitConnected(5000);
    expect(a.protocolVersion).toBe(5);
    await expect(
      a.publishJson(
        'fleet/drives/axis-1/commands',
        { commandId: 'c-1', type: 'enable' },
        {
          qos: 1,
          properties: {
            responseTopic: 'fleet/replies/hmi',
            correlationData: Buffer.from('c-1'),
            userProperties: { origin: 'test' },
            messageExpiryInterval: 30,
          },
        },
      ),
    ).resolves.toBe(true);
    await eventually(() => got.length === 1, 'command');
    const props = got[0]!.packet.properties!;
    expect(props.responseTopic).toBe('fleet/replies/hmi');
    expect(Buffer.from(props.correlationData!).toString()).toBe('c-1');
    expect(props.userProperties).toEqual({ origin: 'test' });
    expect(props.messageExpiryInterval).toBeGreaterThan(0);
  });

  it('has the broker publish the last will when the client dies, then republishes on reconnect', async () => {
    const m = await startMosquitto();
    cleanups.push(() => m.stop());
    await lastWillScenario(m.url);
  });
});

async function lastWillScenario(url: string) {
  const topic = 'fleet/drives/axis-1/availability';
  const { got } = await subscriber(url, 'watcher', topic);
  const a = conn(url, 'drive-axis-1', {
    will: { topic, payload: 'offline', qos: 1, retain: true },
  });
  a.onConnect(() => a.publish(topic, 'online', { qos: 1, retain: true }));
  await eventually(() => got.some((g) => g.text === 'online'), 'online');
  // Kill the session's socket the way a crash would: no DISCONNECT.
  a.client.stream.destroy();
  await eventually(() => got.some((g) => g.text === 'offline'), 'the last will');
  await eventually(() => got.at(-1)?.text === 'online', 'online again after reconnect');
  expect(got.map((g) => g.text)).toEqual(['online', 'offline', 'online']);
}

/**
 * A listener in front of aedes that treats an MQTT 5 CONNECT like a pre-MQTT-5 broker
 * might (close the connection, or say nothing) and hands 3.1.1 connections to aedes.
 */
async function v311OnlyFront(b: EmbeddedBroker, behaviour: 'close' | 'silent') {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const level = connectProtocolLevel(buf);
      if (level === undefined) return;
      socket.off('data', onData);
      if (level === 5) {
        if (behaviour === 'close') socket.destroy();
        return;
      }
      socket.pause();
      socket.unshift(buf);
      b.aedes.handle(socket);
    };
    socket.on('data', onData);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = addr && typeof addr === 'object' ? addr.port : 0;
  cleanups.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return { url: `mqtt://127.0.0.1:${port}` };
}

/** Protocol level of a CONNECT at the start of `buf`, or undefined until enough bytes. */
function connectProtocolLevel(buf: Buffer): number | undefined {
  // MQTT 3.1.1 §2.2.3 remaining length: 1–4 bytes, 7 bits each, high bit = more.
  let i = 1;
  while (i < buf.length && i <= 4 && (buf[i]! & 0x80) !== 0) i++;
  const afterLength = i + 1;
  // §3.1.2.1 protocol name (2-byte length + "MQTT"), §3.1.2.2 protocol level.
  if (buf.length < afterLength + 2) return undefined;
  const nameLen = buf.readUInt16BE(afterLength);
  const at = afterLength + 2 + nameLen;
  return at < buf.length ? buf[at] : undefined;
}
