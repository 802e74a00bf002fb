/**
 * The device service process of one link (`servofleet device --link ID`): the bus
 * (one transaction at a time, per-drive breakers), a DriveService with its own MQTT
 * session for every drive on the link, the process's own session with its availability
 * on `{root}/services/{id}/availability` (and last will), which also carries every
 * drive's state, telemetry, events and replies, metrics and the admin
 * endpoints, and a graceful stop (finish in-flight work, publish offline, close the
 * link).
 */
import type { profiles } from '../../../firmware-protocol/src/index.ts';
import { topics } from '../../contract/src/index.ts';
import {
  announceOffline,
  brokerConnection,
  type Clock,
  connectMqtt,
  createMetrics,
  type Fleet,
  type Logger,
  type MqttConnection,
  startAdminServer,
  systemClock,
} from '../../runtime/src/index.ts';
import { Bus, type LinkSource } from './bus/index.ts';
import { DriveService } from './drive/drive-service.ts';

export interface DeviceProcessOptions {
  fleet: Fleet;
  linkId: string;
  profiles: Map<string, profiles.DriveProfile>;
  log: Logger;
  clock?: Clock;
  /** Override the link's transport (tests: a memory link from the simulator). */
  link?: LinkSource;
  /** Override the admin port (tests: 0). */
  adminPort?: number;
  /** Bus tuning (tests). */
  breaker?: { failures?: number; probeInitialMs?: number; probeMaxMs?: number };
  heartbeatMs?: number;
  /** Transport latency allowance per transaction, ms (default by transport). */
  latencyMs?: number;
}

export interface DeviceProcess {
  readonly serviceId: string;
  readonly bus: Bus;
  readonly drives: ReadonlyMap<string, DriveService>;
  readonly adminUrl: string;
  stop(): Promise<void>;
}

export async function startDeviceProcess(o: DeviceProcessOptions): Promise<DeviceProcess> {
  const link = o.fleet.links.find((l) => l.id === o.linkId);
  if (!link) throw new Error(`no link ${o.linkId} in the fleet file`);
  const clock = o.clock ?? systemClock;
  const serviceId = `device-${link.id}`;
  const t = topics(o.fleet.root);
  const log = o.log.child({ link: link.id });
  const metrics = createMetrics({ service: 'device' });
  const m = {
    pollHz: metrics.gauge('servofleet_drive_poll_hz', 'Achieved polls per second', ['drive']),
    polls: metrics.gauge('servofleet_drive_polls_total', 'Successful polls', ['drive']),
    timeouts: metrics.gauge('servofleet_drive_timeouts_total', 'Transactions without an answer', [
      'drive',
    ]),
    crc: metrics.gauge('servofleet_drive_crc_errors_total', 'Answers dropped for a bad CRC', [
      'drive',
    ]),
    exceptions: metrics.gauge(
      'servofleet_drive_exceptions_total',
      'Modbus exceptions / Dynamixel status errors',
      ['drive'],
    ),
    watches: metrics.gauge(
      'servofleet_drive_watch_reads_total',
      'Watch reads in idle bus time (drives with watchHz)',
      ['drive'],
    ),
    watchPolls: metrics.gauge(
      'servofleet_drive_watch_polls_total',
      'Polls a watch read triggered (a watched object had changed)',
      ['drive'],
    ),
    breaker: metrics.gauge(
      'servofleet_drive_breaker_open',
      'Breaker state: 0 closed, 0.5 half-open, 1 open',
      ['drive'],
    ),
    latency: metrics.histogram(
      'servofleet_bus_transaction_seconds',
      'Transaction round trip on the wire (request sent → answer or timeout), by outcome',
      {
        labelNames: ['link', 'outcome'],
        buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1],
      },
    ),
    transactions: metrics.gauge('servofleet_bus_transactions_total', 'Transactions on the wire'),
    commands: metrics.counter('servofleet_commands_total', 'Commands by type and final result', [
      'type',
      'result',
    ]),
  };

  const bus = new Bus({
    linkId: link.id,
    protocol: link.protocol,
    baud: link.baud,
    parity: link.parity,
    drives: link.drives.map((d) => ({
      id: d.id,
      unit: d.unit,
      profile: o.profiles.get(d.profile)!,
      pollHz: d.pollHz,
      watchHz: d.watchHz,
    })),
    link: o.link ?? link.transport,
    clock,
    ...(o.breaker ? { breaker: o.breaker } : {}),
    ...(o.latencyMs !== undefined ? { latencyMs: o.latencyMs } : {}),
  });
  bus.onTransaction((_id, t) =>
    m.latency.observe({ link: link.id, outcome: t.outcome }, t.ms / 1000),
  );

  // URL, credentials and TLS (its files read now: CONFIG_TLS_FILE before anything opens).
  const broker = brokerConnection(o.fleet.broker);
  const mqttOf = (
    clientId: string,
    will: { topic: string; payload: string; qos: 1; retain: true },
  ): MqttConnection => connectMqtt({ ...broker, clientId, will, clean: true, log, clock });

  const drives = new Map<string, DriveService>();

  // The process itself: online while it runs, offline by its last will if it dies.
  const serviceTopic = t.service(serviceId);
  const serviceMqtt = mqttOf(`sf-${serviceId}`, {
    topic: serviceTopic,
    payload: JSON.stringify({ status: 'offline', ts: clock.wallNow(), reason: 'last will' }),
    qos: 1,
    retain: true,
  });
  serviceMqtt.onConnect(async () => {
    await serviceMqtt
      .publishJson(
        serviceTopic,
        { status: 'online', ts: clock.wallNow() },
        { qos: 1, retain: true },
      )
      .catch(() => {});
    // It also carries every drive's state, telemetry, events and replies (DriveService `data`).
    for (const d of drives.values()) d.onDataSessionConnect();
  });

  for (const d of link.drives) {
    const svc = new DriveService({
      driveId: d.id,
      linkId: link.id,
      unit: d.unit,
      protocol: link.protocol,
      profile: o.profiles.get(d.profile)!,
      pollHz: d.pollHz,
      ...(d.stateIntervalMs !== undefined ? { stateIntervalMs: d.stateIntervalMs } : {}),
      limits: d.limits ?? {},
      serviceId,
      topics: t,
      bus,
      clock,
      log,
      connect: (will) => mqttOf(`sf-${serviceId}-${d.id}`, will),
      data: serviceMqtt,
      ...(o.heartbeatMs ? { heartbeatMs: o.heartbeatMs } : {}),
      onCommandPhase: (cmd, phase) => {
        if (phase !== 'received' && phase !== 'accepted')
          m.commands.inc({ type: cmd.type, result: phase });
      },
    });
    drives.set(d.id, svc);
  }
  bus.onPoll((id, values, at) => drives.get(id)?.onPoll(values, at));
  bus.onAvailability((id, a, reason) => {
    log.info({ driveId: id, availability: a, reason }, `${id} ${a}`);
    drives.get(id)?.onAvailability(a, reason);
  });
  bus.onBreaker((id, s) => {
    m.breaker.set({ drive: id }, s === 'open' ? 1 : s === 'half-open' ? 0.5 : 0);
    drives.get(id)?.onBreaker(s);
  });
  bus.onLink((s, reason) => log.info({ state: s, reason }, `link ${link.id} ${s}`));

  for (const d of drives.values()) d.start();
  bus.start();

  const admin = await startAdminServer({
    host: '127.0.0.1',
    port: o.adminPort ?? link.adminPort,
    log,
    registry: metrics.registry,
    readiness: () => {
      const s = bus.stats();
      for (const [id, ds] of Object.entries(s.drives)) {
        m.pollHz.set({ drive: id }, ds.pollHz);
        m.polls.set({ drive: id }, ds.polls);
        m.timeouts.set({ drive: id }, ds.timeouts);
        m.crc.set({ drive: id }, ds.crcErrors);
        m.exceptions.set({ drive: id }, ds.exceptions);
        if (ds.watches > 0) {
          m.watches.set({ drive: id }, ds.watches);
          m.watchPolls.set({ drive: id }, ds.watchPolls);
        }
      }
      m.transactions.set(s.transactions);
      return {
        ready: serviceMqtt.connected && s.linkUp,
        details: {
          mqtt: serviceMqtt.connected ? 'connected' : 'disconnected',
          link: s.linkUp ? 'up' : 'down',
          drives: s.drives,
        },
      };
    },
  });
  log.info(
    {
      admin: admin.url,
      transport: link.transport,
      drives: [...drives.keys()],
      broker: o.fleet.broker.url,
    },
    `device service for ${link.id} (${link.protocol}, ${link.baud} baud) on ${link.transport}; admin ${admin.url}`,
  );

  let stopping: Promise<void> | undefined;
  return {
    serviceId,
    bus,
    drives,
    adminUrl: admin.url,
    stop() {
      stopping ??= (async () => {
        await Promise.all([...drives.values()].map((d) => d.stop()));
        await bus.stop();
        await announceOffline(serviceMqtt, serviceTopic, clock);
        await serviceMqtt.close();
        await admin.close();
      })();
      return stopping;
    },
  };
}
