/**
 * `servofleet broker [--config FILE] [--host HOST] [--admin-port PORT]`: the embedded
 * MQTT broker (aedes, MQTT 3.1.1) at the fleet's `broker.url`, or SERVOFLEET_MQTT_URL.
 * It has no authentication, so it listens on a loopback address unless `--host` names
 * another (in a container: `--host 0.0.0.0`). Stops gracefully on SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import {
  createLogger,
  createMetrics,
  loadFleetFile,
  onShutdown,
  RuntimeError,
  resolveFleetPath,
  startAdminServer,
  startEmbeddedBroker,
} from '../runtime/src/index.ts';
import { COMMON_OPTIONS, type CommandIo } from './main.ts';

const USAGE = `usage: servofleet broker [--config FILE] [--host HOST] [--admin-port PORT]
run the embedded MQTT broker (aedes, MQTT 3.1.1) at the fleet's broker.url
  --host HOST         listen on HOST instead of the URL's host (needed for a non-loopback address)
  --admin-port PORT   serve /healthz, /readyz, /metrics on 127.0.0.1:PORT`;

export async function brokerCommand(args: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { ...COMMON_OPTIONS, host: { type: 'string' }, 'admin-port': { type: 'string' } },
    strict: true,
  });
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  const { fleet } = loadFleetFile(resolveFleetPath(values.config, io.env, io.cwd), io.env);
  const { host, port } = brokerListenAddress(fleet.broker.url, values.host);
  const adminPort = values['admin-port'] === undefined ? undefined : Number(values['admin-port']);
  if (
    adminPort !== undefined &&
    !(Number.isInteger(adminPort) && adminPort >= 0 && adminPort <= 65535)
  ) {
    io.err(`servofleet broker: --admin-port must be a port number, got ${values['admin-port']}`);
    return 2;
  }

  const log = createLogger('broker', io.env);
  const broker = await startEmbeddedBroker({ host, port, log });
  let admin: Awaited<ReturnType<typeof startAdminServer>> | undefined;
  if (adminPort !== undefined) {
    const metrics = createMetrics({ service: 'broker' });
    metrics.gauge('servofleet_broker_clients', 'MQTT clients connected', [], (g) =>
      g.set(broker.aedes.connectedClients),
    );
    admin = await startAdminServer({
      port: adminPort,
      registry: metrics.registry,
      readiness: () => ({
        ready: !broker.aedes.closed,
        details: { url: broker.url, clients: broker.aedes.connectedClients },
      }),
      log,
    });
  }
  onShutdown(log, async () => {
    await admin?.close();
    await broker.close();
  });
  // Run until a signal ends the process.
  await new Promise(() => {});
  return 0;
}

/**
 * Where the embedded broker listens for a broker URL: plain MQTT over TCP only, the
 * URL's host (which must be loopback) or an explicit `host`, port 1883 by default.
 */
export function brokerListenAddress(
  url: string,
  explicitHost?: string,
): { host: string; port: number } {
  let u: URL;
  try {
    u = new URL(url);
  } catch (cause) {
    throw new RuntimeError('CONFIG_INVALID', `broker URL ${url} is not a URL`, { cause });
  }
  if (u.protocol !== 'mqtt:' && u.protocol !== 'tcp:') {
    throw new RuntimeError(
      'CONFIG_INVALID',
      `the embedded broker speaks plain MQTT over TCP (mqtt://); broker URL is ${url}`,
    );
  }
  const port = u.port === '' ? 1883 : Number(u.port);
  const urlHost = u.hostname.replace(/^\[(.*)\]$/, '$1');
  if (explicitHost !== undefined) return { host: explicitHost, port };
  if (!isLoopback(urlHost)) {
    throw new RuntimeError(
      'BROKER_HOST_NOT_LOOPBACK',
      `broker URL ${url} is not a loopback address; the embedded broker has no authentication, ` +
        'so pass --host to listen on another address on purpose',
    );
  }
  return { host: urlHost, port };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
