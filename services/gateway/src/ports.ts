/**
 * What the gateway needs from the outside, as small interfaces passed in (STYLE.md §4):
 * the MQTT session, and the line controller's and journal's query APIs (issue 6 adds
 * those services; until a port is given, their routes answer 503 SERVICE_UNAVAILABLE).
 */
import type { MqttConnection } from '../../runtime/src/index.ts';

/** The part of `connectMqtt`'s connection the gateway uses. */
export type GatewayMqtt = Pick<
  MqttConnection,
  | 'connected'
  | 'protocolVersion'
  | 'onConnect'
  | 'onMessage'
  | 'publish'
  | 'publishJson'
  | 'subscribe'
>;

/** An answer relayed from another service: its status and JSON body, as they are. */
export interface Relayed {
  status: number;
  body: unknown;
}

export type LineAction = 'start' | 'stop' | 'estop';

/** The line controller's HTTP API (issue 6). */
export interface LinePort {
  list(): Promise<Relayed>;
  get(lineId: string): Promise<Relayed>;
  command(lineId: string, action: LineAction, by: string): Promise<Relayed>;
}

/** The journal's query API (issue 6). */
export interface JournalPort {
  query(q: Record<string, string>): Promise<Relayed>;
}
