/**
 * A stub MQTT session for DriveService tests: records what is published on it (parsed
 * JSON, QoS, retain); `connected` can be flipped.
 */
import type { MqttConnection } from '../../../runtime/src/index.ts';

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
    sendQos1(topic: string, payload: Buffer, retain: boolean) {
      if (!s.connected) return false;
      void record(topic, payload, { qos: 1, retain });
      return true;
    },
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

/** The stub as the session type DriveService takes. */
export const asSession = (s: ReturnType<typeof stubSession>['s']) => s as unknown as MqttConnection;
