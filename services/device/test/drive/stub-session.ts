/**
 * Stub MQTT sessions for DriveService tests: each records what is published on it
 * (parsed JSON, QoS, retain); `connected` can be flipped. `stubDrive` is an xm430
 * DriveService on two of them (its own session and the shared data session) and a
 * manual clock, started.
 */
import { pino } from 'pino';
import { topics } from '../../../contract/src/index.ts';
import { ManualClock, type MqttConnection } from '../../../runtime/src/index.ts';
import { DriveService, type DriveServiceOptions } from '../../src/drive/drive-service.ts';
import { XM } from '../bus/harness.ts';

export interface Sent {
  topic: string;
  body: Record<string, unknown>;
  qos: number;
  retain: boolean;
}

export function stubSession(connected: boolean) {
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
    /** Runs the callback at once when connected (birth: meta, availability). */
    onConnect(cb: (info: { sessionPresent: boolean }) => unknown) {
      if (s.connected) void cb({ sessionPresent: false });
      return () => {};
    },
    onMessage: () => () => {},
    publish: record,
    publishJson: (topic: string, value: unknown, o?: { qos?: number; retain?: boolean }) =>
      record(topic, JSON.stringify(value), o),
    sendQos1(topic: string, payload: Buffer | string, retain: boolean) {
      if (!s.connected) return false;
      void record(topic, payload, { qos: 1, retain });
      return true;
    },
    sendQos0(topic: string, payload: Buffer | string) {
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

/** The stub as the session type DriveService takes. */
export const asSession = (s: ReturnType<typeof stubSession>['s']) => s as unknown as MqttConnection;

export function stubDrive(o: { dataConnected: boolean } & Partial<DriveServiceOptions>) {
  const { dataConnected, ...extra } = o;
  const own = stubSession(true);
  const data = stubSession(dataConnected);
  const clock = new ManualClock();
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
    clock,
    log: pino({ level: 'silent' }),
    connect: () => asSession(own.s),
    data: asSession(data.s),
    ...extra,
  });
  svc.start();
  return { svc, own, data, clock };
}
