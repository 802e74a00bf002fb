/**
 * The journal process: every drive's and line's `events` topic → SQLite, and the query
 * API over it.
 *
 * MQTT session: `clean: false`, so the session (its subscriptions, and the events the
 * broker queues while the journal is down or has not acknowledged yet) outlives a
 * restart. Its client id is `journal-{instance}` when the fleet file names the
 * replica (`journal.instance`, `SERVOFLEET_JOURNAL_INSTANCE`), else derived from the
 * database path (`sf-journal-` + a hash), so the session belongs to the database that
 * will store its events. Replicas built from one image and config, each with its own
 * volume at the same path, need instance ids: with the same client id they would take
 * the session from each other, over and over.
 * On an MQTT 5 broker (Mosquitto) the subscriptions are shared,
 * `$share/servofleet-journal/{root}/drives/+/events` (MQTT 5 §4.8.2): several journals,
 * each with its own database, split the stream between them, each event going to one
 * of them. On MQTT 3.1.1 (aedes) they are plain subscriptions: every journal gets
 * every event.
 *
 * Process availability on `{root}/services/{serviceId}/availability` (retained),
 * `serviceId` being `journal-{instance}`, or `journal` without an instance: `online`
 * after each CONNACK, `offline` on a graceful stop, and by last will otherwise. With an
 * instance the client id is the service id, which is what the Mosquitto ACL's
 * `pattern write {root}/services/%c/availability` allows (services/cli/acl.ts).
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
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
  systemClock,
} from '../../runtime/src/index.ts';
import { JournalError } from './errors.ts';
import { buildApp } from './http/app.ts';
import { type AckMode, type Ingest, startIngest } from './ingest/ingest.ts';
import { type Retention, startRetention } from './retention.ts';
import { type EventStore, openEventStore } from './store/event-store.ts';

/** The shared-subscription group every journal joins (MQTT 5 §4.8.2). */
export const SHARE_GROUP = 'servofleet-journal';
/** The journal's id in `{root}/services/{id}/availability` when it has no instance id. */
export const SERVICE_ID = 'journal';

export interface StartJournalOptions {
  fleet: Fleet;
  /** Absolute path of the database file (the CLI resolves `journal.path` against the fleet file). */
  dbPath: string;
  log: Logger;
  clock?: Clock;
  /** Default: the fleet file's journal.host / journal.port (0: any free port). */
  host?: string;
  port?: number;
  /**
   * This replica's id (fleet file `journal.instance`, env already applied, is the
   * default); must match `^[A-Za-z0-9_-]{1,15}$`. Sets the client id and service id to
   * `journal-{instance}` (`journalIdentity`).
   */
  instance?: string;
  /** MQTT client id; default from `journalIdentity`. */
  clientId?: string;
  /** Default `batched` (see ingest/ingest.ts). */
  ackMode?: AckMode;
  maxBatch?: number;
  /** How long the broker keeps the session while the journal is away (MQTT 5; default 7 days). */
  sessionExpirySec?: number;
  /** Default one hour. */
  retentionIntervalMs?: number;
  /** Tests: wrap the store the journal writes to (failure injection). */
  wrapStore?: (store: EventStore) => EventStore;
}

export interface RunningJournal {
  readonly app: FastifyInstance;
  readonly url: string;
  readonly port: number;
  readonly store: EventStore;
  readonly mqtt: MqttConnection;
  readonly ingest: Ingest;
  readonly retention: Retention;
  readonly clientId: string;
  /** Its id in `{root}/services/{id}/availability`. */
  readonly serviceId: string;
  /** Flush, stop acknowledging, publish offline, close MQTT, the HTTP server and the database. */
  close(): Promise<void>;
}

export function journalClientId(dbPath: string): string {
  // 23 characters: the length every MQTT 3.1.1 server must accept [MQTT-3.1.3-5].
  return `sf-journal-${createHash('sha256').update(dbPath).digest('hex').slice(0, 12)}`;
}

/**
 * A journal's MQTT client id and service id. With an instance both are
 * `journal-{instance}` (at most 23 characters, [MQTT-3.1.3-5]); without one, what the
 * journal has always used — `journalClientId(dbPath)` and `journal` — so that an
 * existing session, with the events queued in it, is picked up again.
 */
export function journalIdentity(
  dbPath: string,
  instance: string | undefined,
): { clientId: string; serviceId: string } {
  if (instance === undefined) return { clientId: journalClientId(dbPath), serviceId: SERVICE_ID };
  const id = `${SERVICE_ID}-${instance}`;
  return { clientId: id, serviceId: id };
}

export async function startJournal(o: StartJournalOptions): Promise<RunningJournal> {
  const cfg = o.fleet.journal;
  const clock = o.clock ?? systemClock;
  const log = o.log;
  const host = o.host ?? cfg.host;
  const port = o.port ?? cfg.port;
  const t = topics(o.fleet.root);
  const identity = journalIdentity(o.dbPath, o.instance ?? cfg.instance);
  const serviceId = identity.serviceId;
  const serviceTopic = t.service(serviceId);
  const clientId = o.clientId ?? identity.clientId;
  // URL, credentials, TLS files (CONFIG_TLS_FILE before anything is opened).
  const broker = brokerConnection(o.fleet.broker);

  const opened = openEventStore(o.dbPath);
  const store = o.wrapStore ? o.wrapStore(opened) : opened;
  const metrics = createMetrics({ service: 'journal' });
  metrics.gauge('servofleet_journal_rows', 'events in the database', [], (g) =>
    g.set(opened.rowCount()),
  );
  metrics.gauge('servofleet_journal_db_bytes', 'database file plus WAL', [], (g) =>
    g.set(opened.sizeBytes()),
  );
  const pruned = metrics.counter('servofleet_journal_pruned_total', 'events deleted by retention');

  const retention = startRetention({
    store: opened,
    clock,
    log,
    days: cfg.retention.days,
    maxRows: cfg.retention.maxRows,
    ...(o.retentionIntervalMs ? { intervalMs: o.retentionIntervalMs } : {}),
    onPass: (n) => pruned.inc(n),
  });
  await retention.run();

  // The query API listens first: a port in use fails the start before any MQTT session
  // exists (and before the broker could send this session anything).
  let mqtt: MqttConnection | undefined;
  let ingest: Ingest | undefined;
  let subscribed = false;
  let closing: Promise<void> | undefined;
  const app = buildApp({
    store,
    registry: metrics.registry,
    log,
    readiness: () => {
      const connected = mqtt?.connected ?? false;
      const healthy = ingest?.healthy ?? true;
      return {
        ready: connected && subscribed && healthy,
        details: {
          mqtt: connected ? 'connected' : 'disconnected',
          subscribed,
          database: healthy ? 'ok' : 'last append failed',
          rows: opened.rowCount(),
          ...ingest?.stats(),
        },
      };
    },
  });
  try {
    await app.listen({ host, port });
  } catch (cause) {
    await retention.stop();
    await app.close().catch(() => {});
    opened.close();
    const msg = cause instanceof Error ? cause.message : String(cause);
    throw new JournalError(
      'JOURNAL_LISTEN_FAILED',
      `journal API cannot listen on ${host}:${port}: ${msg}`,
      { cause },
    );
  }
  const addr = app.server.address();
  const bound = addr && typeof addr === 'object' ? addr.port : port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${bound}`;

  const conn = connectMqtt({
    ...broker,
    clientId,
    clean: false,
    sessionExpirySec: o.sessionExpirySec ?? 7 * 86_400,
    log,
    clock,
    metrics,
    will: {
      topic: serviceTopic,
      payload: JSON.stringify({ status: 'offline', ts: clock.wallNow(), reason: 'last will' }),
      qos: 1,
      retain: true,
    },
  });
  mqtt = conn;
  // Before any packet can arrive: the connection is not up before the next I/O turn.
  const ing = startIngest({
    client: conn.client,
    topics: t,
    store,
    clock,
    log,
    metrics,
    ...(o.ackMode ? { mode: o.ackMode } : {}),
    ...(o.maxBatch ? { maxBatch: o.maxBatch } : {}),
  });
  ingest = ing;
  conn.onConnect(async (info) => {
    await conn
      .publishJson(
        serviceTopic,
        { status: 'online', ts: clock.wallNow() },
        { qos: 1, retain: true },
      )
      .catch(() => {});
    // mqtt.js renews these itself after a reconnect that finds no session.
    if (subscribed || closing) return;
    const filters = [t.allDrives('events'), t.allLines('events')].map((f) =>
      info.protocolVersion === 5 ? `$share/${SHARE_GROUP}/${f}` : f,
    );
    try {
      await conn.subscribe(filters, { qos: 1 });
      subscribed = true;
      log.info({ filters }, `subscribed to ${filters.join(', ')}`);
    } catch (err) {
      log.error({ err }, 'subscribing to the events topics failed; retrying at the next connect');
    }
  });

  async function shutdown(): Promise<void> {
    await retention.stop();
    await app.close();
    ing.stop();
    await announceOffline(conn, serviceTopic, clock);
    await conn.close({ timeoutMs: 2000 });
    opened.close();
  }

  log.info(
    {
      url,
      db: o.dbPath,
      rows: opened.rowCount(),
      broker: o.fleet.broker.url,
      clientId,
      serviceId,
      acks: ing.mode,
    },
    `journal on ${url} (/events, /commands/{id}, /healthz, /readyz, /metrics); database ${o.dbPath}; MQTT ${o.fleet.broker.url} as ${clientId} (service ${serviceId})`,
  );

  return {
    app,
    url,
    port: bound,
    store,
    mqtt: conn,
    ingest: ing,
    retention,
    clientId,
    serviceId,
    close() {
      closing ??= shutdown();
      return closing;
    },
  };
}
