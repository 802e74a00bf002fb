/**
 * `startGateway(opts)`: the gateway process's parts in order — refuse a non-loopback
 * address while demo keys are configured, read the TLS files (`broker.tls` for an
 * `mqtts://` broker, `gateway.https` to serve HTTPS), open the MQTT session (with the
 * process's last will), build the app, listen, log one line saying where. `close()`
 * ends the streams, finishes in-flight requests, says `offline` and closes the session.
 *
 * Each instance is the service `gateway-{instanceId}`: its availability (and last will)
 * on `{root}/services/gateway-{instanceId}/availability`, under the MQTT client id
 * `gateway-{instanceId}` — the same string, so that the Mosquitto ACL's
 * `pattern write {root}/services/%c/availability` lets it publish its own availability
 * and no other (services/cli/acl.ts).
 *
 * The event history (`GET /api/v1/events`) comes from every journal in the fleet file's
 * `gateway.journals` (`SERVOFLEET_JOURNAL_URLS`), merged (journal-fanout.ts); by default
 * from the one journal at `journal.host:journal.port`.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
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
  readGatewayHttps,
  systemClock,
} from '../../runtime/src/index.ts';
import { buildApp } from './app.ts';
import { isLoopbackHost, keyRing } from './auth/api-keys.ts';
import { GatewayError } from './errors.ts';
import { httpJournals } from './journal-fanout.ts';
import type { GatewayOptions } from './options.ts';
import type { JournalPort, LinePort } from './ports.ts';

export interface StartGatewayOptions {
  fleet: Fleet;
  log: Logger;
  /** Default: the fleet file's gateway.host. */
  host?: string;
  /** Default: the fleet file's gateway.port (SERVOFLEET_HTTP_PORT already applied); 0 picks a free one. */
  port?: number;
  clock?: Clock;
  options?: Partial<GatewayOptions>;
  instanceId?: string;
  lines?: LinePort;
  /** Default: the journals at `journalUrls(fleet)`, merged (one: a plain relay). */
  journal?: JournalPort;
}

export interface RunningGateway {
  readonly app: FastifyInstance;
  /** `http://host:port`, or `https://` when the fleet file has `gateway.https`. */
  readonly url: string;
  readonly port: number;
  readonly mqtt: MqttConnection;
  close(): Promise<void>;
}

export async function startGateway(o: StartGatewayOptions): Promise<RunningGateway> {
  const host = o.host ?? o.fleet.gateway.host;
  const port = o.port ?? o.fleet.gateway.port;
  const demo = keyRing(o.fleet.gateway.apiKeys).demoKeys;
  if (demo.length > 0 && !isLoopbackHost(host)) {
    throw new GatewayError(
      'DEMO_KEYS_NOT_LOOPBACK',
      `refusing to listen on ${host}: the demo API keys (${demo.join(', ')}) are configured; replace them in the fleet file's gateway.apiKeys, or listen on 127.0.0.1`,
    );
  }
  // Both throw CONFIG_TLS_FILE before anything is opened.
  const https = readGatewayHttps(o.fleet.gateway.https);
  const broker = brokerConnection(o.fleet.broker);
  const clock = o.clock ?? systemClock;
  const instanceId =
    o.instanceId ??
    (port === 0 ? `${shortHost()}-${randomBytes(3).toString('hex')}` : `${shortHost()}-${port}`);
  const t = topics(o.fleet.root);
  const serviceId = `gateway-${instanceId}`;
  const metrics = createMetrics({ service: 'gateway' });
  const mqtt = connectMqtt({
    ...broker,
    // The service id: the ACL lets a client publish the availability of its own client id.
    clientId: serviceId,
    log: o.log,
    clock,
    metrics,
    will: {
      topic: t.service(serviceId),
      payload: JSON.stringify({ status: 'offline', ts: clock.wallNow(), reason: 'last will' }),
      qos: 1,
      retain: true,
    },
  });
  const app = buildApp({
    fleet: o.fleet,
    mqtt,
    log: o.log,
    clock,
    metrics,
    instanceId,
    ...(https ? { https } : {}),
    ...(o.options ? { options: o.options } : {}),
    ...(o.lines ? { lines: o.lines } : {}),
    journal: o.journal ?? httpJournals(journalUrls(o.fleet)),
  });
  try {
    // Fastify's own listening line is the one startup line (one per address).
    await app.listen({
      host,
      port,
      listenTextResolver: (address) =>
        `gateway on ${address}: dashboard ${address}/, API ${address}/api/v1, docs ${address}/docs (MQTT ${o.fleet.broker.url}, instance ${instanceId})`,
    });
  } catch (cause) {
    await app.close().catch(() => {});
    await mqtt.close().catch(() => {});
    const msg = cause instanceof Error ? cause.message : String(cause);
    throw new GatewayError(
      'GATEWAY_LISTEN_FAILED',
      `gateway cannot listen on ${host}:${port}: ${msg}`,
      {
        cause,
      },
    );
  }
  const addr = app.server.address();
  const bound = addr && typeof addr === 'object' ? addr.port : port;
  const url = `${https ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${bound}`;
  let closing: Promise<void> | undefined;
  return {
    app,
    url,
    port: bound,
    mqtt,
    close() {
      closing ??= (async () => {
        await app.close();
        await announceOffline(mqtt, t.service(serviceId), clock);
        await mqtt.close({ timeoutMs: 2000 });
      })();
      return closing;
    },
  };
}

/**
 * The base URLs of the journals the gateway asks for the event history: the fleet file's
 * `gateway.journals` (already checked and normalised by the loader, with
 * `SERVOFLEET_JOURNAL_URLS` applied), else the one journal at `journal.host:journal.port`.
 */
export function journalUrls(fleet: Fleet): string[] {
  if (fleet.gateway.journals) return [...fleet.gateway.journals];
  const { host, port } = fleet.journal;
  return [`http://${host.includes(':') ? `[${host}]` : host}:${port}`];
}

/** The host name as one topic level (letters, digits, `-`), at most 32 characters. */
function shortHost(): string {
  const h = hostname()
    .replace(/[^A-Za-z0-9-]/g, '-')
    .replace(/^-+/, '')
    .slice(0, 32);
  return h.length > 0 ? h : 'gw';
}
