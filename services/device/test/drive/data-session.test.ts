/**
 * A DriveService with the process's shared data session: what rides it (state,
 * telemetry, events, replies) and what waits while it is away — the latest state is
 * republished and the events kept (bounded, oldest dropped) go out in order when it is
 * back; telemetry is dropped. The drive's own session carries none of it. Stub
 * sessions, no broker.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { topics } from '../../../contract/src/index.ts';
import { ManualClock, type MqttConnection } from '../../../runtime/src/index.ts';
import { DriveService } from '../../src/drive/drive-service.ts';
import { XM } from '../bus/harness.ts';

interface Sent {
  topic: string;
  body: Record<string, unknown>;
  qos: number;
  retain: boolean;
}

function stubSession(connected: boolean) {
  const sent: Sent[] = [];
  const record = (
    topic: string,
    payload: string | Buffer,
    o: { qos?: number; retain?: boolean } = {},
  ) => {
    sent.push({
      topic,
      body: JSON.parse(payload.toString()),
      qos: o.qos ?? 0,
      retain: o.retain ?? false,
    });
    return Promise.resolve(true);
  };
  const s = {
    connected,
    protocolVersion: 4,
    onConnect: () => () => {},
    onMessage: () => () => {},
    publish: record,
    publishJson: (topic: string, value: unknown, o?: { qos?: number; retain?: boolean }) =>
      record(topic, JSON.stringify(value), o),
    sendQos0(topic: string, payload: Buffer) {
      if (!s.connected) return false;
      void record(topic, payload);
      return true;
    },
    subscribe: async () => {},
    waitConnected: async () => {},
    close: async () => {},
  };
  return { s, sent };
}

function drive(offlineBuffer?: number) {
  const own = stubSession(true);
  const data = stubSession(false);
  const svc = new DriveService({
    driveId: 'd1',
    linkId: 'bus-b',
    unit: 1,
    protocol: 'dynamixel2',
    profile: XM,
    pollHz: 20,
    limits: {},
    serviceId: 'device-bus-b',
    topics: topics('sf'),
    bus: {} as never,
    clock: new ManualClock(),
    log: pino({ level: 'silent' }),
    connect: () => own.s as unknown as MqttConnection,
    data: data.s as unknown as MqttConnection,
    ...(offlineBuffer ? { offlineBuffer } : {}),
  });
  svc.start();
  return { svc, own, data };
}

const POLL = { torqueEnable: 1, presentPosition: 100, hardwareErrorStatus: 0 };

describe('DriveService with a shared data session', () => {
  it('keeps events while the data session is away and sends them, after the latest state, when it is back', () => {
    const { svc, own, data } = drive();
    svc.onAvailability('online', 'answering');
    svc.onPoll({ ...POLL }, 1000);
    svc.onBreaker('open');
    expect(data.sent).toEqual([]);

    data.s.connected = true;
    svc.onDataSessionConnect();
    expect(data.sent.map((m) => [m.topic, m.qos, m.retain])).toEqual([
      ['sf/drives/d1/state', 1, true],
      ['sf/drives/d1/events', 1, false],
      ['sf/drives/d1/events', 1, false],
      ['sf/drives/d1/events', 1, false],
    ]);
    // In the order they happened: online, the first CiA 402 state seen, the breaker.
    expect(data.sent.slice(1).map((m) => m.body.type)).toEqual([
      'availability',
      'state',
      'breaker',
    ]);
    // Nothing of it on the drive's own session.
    expect(own.sent.filter((m) => /state|events|telemetry/.test(m.topic))).toEqual([]);

    // Connected: telemetry at every poll, state on a change, both on the data session.
    const n = data.sent.length;
    svc.onPoll({ ...POLL, presentPosition: 200 }, 1050);
    expect(data.sent.slice(n).map((m) => [m.topic, m.qos])).toEqual([
      ['sf/drives/d1/telemetry', 0],
      ['sf/drives/d1/state', 1],
    ]);
    expect(data.sent.at(-1)!.body.position).toBe(data.sent.at(-2)!.body.position);
  });

  it('keeps at most offlineBuffer events, the oldest dropped, and no telemetry', () => {
    const { svc, data } = drive(2);
    for (const r of ['a', 'b', 'c']) svc.onAvailability('online', r);
    svc.onPoll({ ...POLL }, 1000);
    data.s.connected = true;
    svc.onDataSessionConnect();
    const events = data.sent.filter((m) => m.topic.endsWith('/events'));
    // Four events happened (three availability changes, the first state): two kept, the newest.
    expect(
      events.map((m) => (m.body.type === 'availability' ? m.body.reason : m.body.type)),
    ).toEqual(['c', 'state']);
    expect(svc.counters.droppedWhileOffline).toBe(2);
    expect(data.sent.some((m) => m.topic.endsWith('/telemetry'))).toBe(false);
  });
});
