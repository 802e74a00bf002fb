/**
 * A whole link on one machine for device-service tests: a broker (embedded aedes or
 * Mosquitto), the simulator on the wall clock (paced at the link's baud), the device
 * process in-process over an in-memory (or TCP, or PTY) link, and an MQTT subscriber
 * that records what a dashboard would see. Everything binds 127.0.0.1; every wait is
 * bounded.
 */
import { resolve } from 'node:path';
import mqtt, { type IClientPublishOptions, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { Simulator } from '../../device-sim/src/index.ts';
import { profiles as fp } from '../../firmware-protocol/src/index.ts';
import {
  type DeviceProcess,
  startDeviceProcess,
} from '../../services/device/src/device-process.ts';
import { type Fleet, parseFleet, startEmbeddedBroker } from '../../services/runtime/src/index.ts';
import { eventually, freePort, startMosquitto } from '../../services/runtime/test/helpers.ts';

export { eventually, freePort };

export const PROFILES = fp.loadProfileDir(resolve(import.meta.dirname, '../../config/profiles'));
export const silent = pino({ level: 'silent' });

export interface Broker {
  url: string;
  kind: 'aedes' | 'mosquitto';
  stop(): Promise<void>;
  /** Stop and start again on the same port (aedes: retained messages are lost). */
  restart(): Promise<void>;
}

export async function startBroker(kind: 'aedes' | 'mosquitto'): Promise<Broker> {
  if (kind === 'mosquitto') {
    let m = await startMosquitto();
    return {
      kind,
      get url() {
        return m.url;
      },
      stop: () => m.stop(),
      restart: async () => {
        await m.stop();
        m = await startMosquitto();
      },
    };
  }
  const port = await freePort();
  let b = await startEmbeddedBroker({ host: '127.0.0.1', port, log: silent });
  return {
    kind,
    url: `mqtt://127.0.0.1:${port}`,
    stop: () => b.close(),
    restart: async () => {
      await b.close();
      b = await startEmbeddedBroker({ host: '127.0.0.1', port, log: silent });
    },
  };
}

export function fleetYaml(
  brokerUrl: string,
  opts: { busA?: string; busB?: string; sim?: string } = {},
): string {
  return `
root: servofleet
profilesDir: ${resolve(import.meta.dirname, '../../config/profiles')}
broker: { url: ${brokerUrl}, embedded: false }
links:
  - id: bus-a
    protocol: modbus-rtu
    transport: ${opts.busA ?? 'memory://bus-a'}
    baud: 115200
    drives:
      - { id: axis-1, unit: 1, profile: sf-servo, pollHz: 20, limits: { position: [-100000, 100000], velocity: 50000, acceleration: 500000 } }
      - { id: axis-2, unit: 2, profile: sf-servo, pollHz: 20, limits: { position: [-100000, 100000], velocity: 50000, acceleration: 500000 } }
      - { id: axis-3, unit: 3, profile: sf-servo, pollHz: 20, limits: { position: [-100000, 100000], velocity: 50000, acceleration: 500000 } }
      - { id: axis-4, unit: 4, profile: sf-servo, pollHz: 20, limits: { position: [-100000, 100000], velocity: 50000, acceleration: 500000 } }
  - id: bus-b
    protocol: dynamixel2
    transport: ${opts.busB ?? 'memory://bus-b'}
    baud: 1000000
    drives:
      - { id: dxl-1, unit: 1, profile: xm430, pollHz: 50, limits: { position: [0, 4095], velocity: 5000 } }
      - { id: dxl-2, unit: 2, profile: xm430, pollHz: 50, limits: { position: [0, 4095], velocity: 5000 } }
${opts.sim ?? ''}`;
}

export function simFor(
  fleet: Fleet,
  listen: { 'bus-a'?: string; 'bus-b'?: string } = {},
): Simulator {
  return new Simulator({
    seed: 5,
    links: fleet.links.map((l) => ({
      id: l.id,
      protocol: l.protocol,
      baud: l.baud,
      listen: listen[l.id as 'bus-a' | 'bus-b'] ?? 'memory://',
      turnaroundMs: l.protocol === 'modbus-rtu' ? 1 : 0.25,
      drives: l.drives.map((d) => ({ id: d.id, unit: d.unit, profile: PROFILES.get(d.profile)! })),
    })),
  });
}

export interface Rig {
  broker: Broker;
  fleet: Fleet;
  sim: Simulator;
  devices: DeviceProcess[];
  watcher: Watcher;
  close(): Promise<void>;
}

/** Broker + simulator + device processes for both demo links over in-memory links. */
export async function startRig(kind: 'aedes' | 'mosquitto' = 'aedes'): Promise<Rig> {
  const broker = await startBroker(kind);
  const fleet = parseFleet(fleetYaml(broker.url));
  const sim = simFor(fleet);
  await sim.start();
  const devices: DeviceProcess[] = [];
  for (const link of fleet.links) {
    devices.push(
      await startDeviceProcess({
        fleet,
        linkId: link.id,
        profiles: PROFILES,
        log: silent,
        link: async () => sim.connect(link.id),
        adminPort: 0,
        breaker: { failures: 3, probeInitialMs: 200, probeMaxMs: 1000 },
        // The simulator runs on the wall clock: allow for timer jitter on a busy machine.
        latencyMs: 25,
      }),
    );
  }
  const watcher = await Watcher.connect(broker.url, ['servofleet/#']);
  return {
    broker,
    fleet,
    sim,
    devices,
    watcher,
    async close() {
      await watcher.close();
      await Promise.all(devices.map((d) => d.stop()));
      await sim.close();
      await broker.stop();
    },
  };
}

export interface Msg {
  topic: string;
  json: Record<string, unknown>;
  retain: boolean;
  properties?: Record<string, unknown>;
}

/** An MQTT client that records every message it gets, and answers "wait until…" questions. */
export class Watcher {
  readonly messages: Msg[] = [];
  constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      let json: Record<string, unknown>;
      try {
        json = JSON.parse(payload.toString('utf8'));
      } catch {
        json = { raw: payload.toString('utf8') };
      }
      this.messages.push({
        topic,
        json,
        retain: packet.retain,
        ...(packet.properties ? { properties: packet.properties as Record<string, unknown> } : {}),
      });
    });
  }

  static async connect(
    url: string,
    filters: string[],
    protocolVersion: 4 | 5 = 4,
  ): Promise<Watcher> {
    const client = await mqtt.connectAsync(url, {
      protocolVersion,
      reconnectPeriod: 200,
      connectTimeout: 5000,
    });
    const w = new Watcher(client);
    await client.subscribeAsync(filters, { qos: 1 });
    return w;
  }

  /** Wait (bounded) for a message matching `pred` that arrived after index `from`. */
  async next(pred: (m: Msg) => boolean, what: string, timeoutMs = 8000, from = 0): Promise<Msg> {
    return eventually(() => this.messages.slice(from).find(pred), what, timeoutMs, 10);
  }

  latest(topic: string): Msg | undefined {
    for (let i = this.messages.length - 1; i >= 0; i--)
      if (this.messages[i]!.topic === topic) return this.messages[i];
    return undefined;
  }

  async publish(
    topic: string,
    payload: unknown,
    opts: IClientPublishOptions = { qos: 1 },
  ): Promise<void> {
    await this.client.publishAsync(
      topic,
      typeof payload === 'string' ? payload : JSON.stringify(payload),
      opts,
    );
  }

  /** Send a command with `replyTo` and wait for its final reply. */
  async command(
    driveId: string,
    cmd: Record<string, unknown>,
    timeoutMs = 10_000,
  ): Promise<Record<string, unknown>> {
    const replyTo = `test/replies/${String(cmd.commandId)}`;
    await this.client.subscribeAsync(replyTo, { qos: 1 });
    const from = this.messages.length;
    await this.publish(`servofleet/drives/${driveId}/commands`, { ...cmd, replyTo });
    const m = await this.next(
      (m) => m.topic === replyTo && m.json.status !== 'accepted',
      `final reply to ${String(cmd.commandId)}`,
      timeoutMs,
      from,
    );
    return m.json;
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}
