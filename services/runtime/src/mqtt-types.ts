/**
 * The shape of `connectMqtt` (mqtt.ts): its options and the connection it returns.
 */
import type { IPublishPacket, MqttClient } from 'mqtt';
import type { Clock } from './clock.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';
import type { ReconnectBackoff } from './mqtt-negotiation.ts';

export type MqttProtocol = 'auto' | 4 | 5;
export type QoS = 0 | 1 | 2;

export interface MqttWill {
  topic: string;
  payload: string | Buffer;
  qos: QoS;
  retain: boolean;
}

/** TLS for `mqtts://` and `wss://` URLs: PEM contents (`readBrokerTls` reads the fleet file's). */
export interface MqttTls {
  /** CA certificate(s) the broker's certificate must chain to (default: Node's CAs). */
  ca?: string | Buffer;
  /** Client certificate and its key, for a broker that requires one (mutual TLS). */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Default true: refuse a broker whose certificate or host name does not check out. */
  rejectUnauthorized?: boolean;
}

export interface ConnectMqttOptions {
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  /** Used when `url` is `mqtts://` or `wss://`. */
  tls?: MqttTls;
  /** Published by the broker when this session ends without a DISCONNECT. */
  will?: MqttWill;
  /** Clean session (3.1.1) / clean start (5); default true. */
  clean?: boolean;
  log: Logger;
  /** Default 'auto': MQTT 5 when the broker speaks it, else 3.1.1. */
  protocol?: MqttProtocol;
  /** Default 30 s. */
  keepaliveSec?: number;
  /** Bounds each attempt until CONNACK, the MQTT 5 probe included (default 10 s). */
  connectTimeoutMs?: number;
  reconnect?: Partial<ReconnectBackoff>;
  /** QoS 1/2 publishes that may wait for their acknowledgement at once (default 1000). */
  maxPendingPublishes?: number;
  /** MQTT 5 session expiry when `clean` is false (default 3600 s); 3.1.1 sessions do not expire. */
  sessionExpirySec?: number;
  /** Adds `servofleet_mqtt_*` series labelled by client id. */
  metrics?: Metrics;
  clock?: Clock;
  random?: () => number;
}

export interface ConnectInfo {
  protocolVersion: 4 | 5;
  sessionPresent: boolean;
  /** False for the first CONNACK of this connection object, true after. */
  reconnect: boolean;
}

/** MQTT 5 publish properties; dropped on 3.1.1 sessions. */
export type PublishProperties = NonNullable<IPublishPacket['properties']>;

export interface PublishOptions {
  qos?: QoS;
  retain?: boolean;
  properties?: PublishProperties;
}

export type MessageHandler = (topic: string, payload: Buffer, packet: IPublishPacket) => void;

export interface MqttConnection {
  /** The mqtt.js client underneath, for what this wrapper does not cover. */
  readonly client: MqttClient;
  readonly connected: boolean;
  /** What the current (or last) session speaks; undefined until the first CONNACK. */
  readonly protocolVersion: 4 | 5 | undefined;
  /** Runs after every CONNACK from now on; right away (next microtask) if connected now. */
  onConnect(cb: (info: ConnectInfo) => unknown): () => void;
  onMessage(handler: MessageHandler): () => void;
  /** Resolves true when sent (QoS 0) or acknowledged (QoS 1/2); false when a QoS 0 message was dropped offline. */
  publish(topic: string, payload: string | Buffer, opts?: PublishOptions): Promise<boolean>;
  publishJson(topic: string, value: unknown, opts?: PublishOptions): Promise<boolean>;
  /**
   * QoS 0, not retained, no properties, fire and forget: the PUBLISH packet encoded here
   * (a string payload as UTF-8) and written to the connection's socket at the next tick,
   * together with the others of this tick, in order with everything mqtt.js writes (for
   * telemetry at poll rate; see mqtt.ts). False, and dropped, while not connected.
   */
  sendQos0(topic: string, payload: Buffer | string): boolean;
  /**
   * QoS 1, no properties, fire and forget: like `sendQos0`, with a packet identifier
   * of its own range (mqtt.js's publishes use the other half) and the broker's PUBACK
   * taken in without a callback. For a retained snapshot its sender republishes after
   * every connect (a device's state): a message unacknowledged when the connection
   * drops is not sent again. False, and not sent, while not connected or with
   * `FAST_QOS1_INFLIGHT` unacknowledged: publish through `publish` then.
   */
  sendQos1(topic: string, payload: Buffer | string, retain: boolean): boolean;
  /** Default QoS 1. Renewed on every reconnect. */
  subscribe(filters: string | string[], opts?: { qos?: QoS }): Promise<void>;
  /** Resolves at the next CONNACK (now if connected); MQTT_CONNECT_TIMEOUT after `timeoutMs`. */
  waitConnected(timeoutMs: number): Promise<void>;
  /**
   * Waits up to `timeoutMs` (default 2000) for pending QoS 1/2 publishes, sends
   * DISCONNECT (so no last will), closes. Pending publishes left reject with MQTT_CLOSED.
   */
  close(opts?: { timeoutMs?: number }): Promise<void>;
}
