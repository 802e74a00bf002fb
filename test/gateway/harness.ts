/**
 * The gateway in front of a whole fleet on one machine: test/device/harness.ts's rig
 * (broker, simulator on the wall clock, device processes for both demo links) plus
 * `startGateway` on 127.0.0.1 and a free port, with one API key per role. Every wait
 * is bounded.
 */
import { pino } from 'pino';
import { sha256Hex } from '../../services/gateway/src/auth/api-keys.ts';
import { type RunningGateway, startGateway } from '../../services/gateway/src/index.ts';
import type { GatewayOptions } from '../../services/gateway/src/options.ts';
import { type Fleet, parseFleet } from '../../services/runtime/src/index.ts';
import { eventually, fleetYaml, freePort, type Rig, startRig } from '../device/harness.ts';

export { eventually };

export const KEYS = {
  viewer: 'e2e-viewer-key-4f1c',
  operator: 'e2e-operator-key-9a2b',
  admin: 'e2e-admin-key-77d0',
} as const;
export type RoleName = keyof typeof KEYS;

const quiet = pino({ level: process.env.LOG_LEVEL ?? 'silent' });

/** The `gateway:` section on loopback with KEYS by hash (as in the demo fleet file). */
export function gatewaySection(): string {
  return `gateway:
  host: 127.0.0.1
  port: 0
  apiKeys:
${Object.entries(KEYS)
  .map(([role, key]) => `    - { name: ${role}-key, role: ${role}, sha256: ${sha256Hex(key)} }`)
  .join('\n')}`;
}

/** The rig's fleet with a gateway section (keys by hash, as in the demo fleet file). */
export function gatewayFleet(brokerUrl: string, journalPort: number): Fleet {
  const gateway = `
journal: { host: 127.0.0.1, port: ${journalPort} }
${gatewaySection()}
`;
  return parseFleet(fleetYaml(brokerUrl, { sim: gateway }));
}

export interface HttpAnswer {
  status: number;
  headers: Headers;
  json: Record<string, unknown>;
  text: string;
}

export interface GatewayRig {
  rig: Rig;
  gw: RunningGateway;
  url: string;
  auth(role: RoleName): { authorization: string };
  http(
    method: string,
    path: string,
    o?: { role?: RoleName | null; body?: unknown; raw?: string; headers?: Record<string, string> },
  ): Promise<HttpAnswer>;
  command(id: string, body: Record<string, unknown>, query?: string): Promise<HttpAnswer>;
  /**
   * `enable`, then wait until the read model shows OPERATION_ENABLED: the device service
   * prechecks a following move against its latest poll, which may predate the enable.
   */
  enable(id: string): Promise<HttpAnswer>;
  /** Wait until the gateway's read model has every drive online with a state. */
  allOnline(timeoutMs?: number): Promise<void>;
  /** Another gateway on the same broker (other options, other instance id). */
  another(options: Partial<GatewayOptions>): Promise<RunningGateway>;
  close(): Promise<void>;
}

export async function startGatewayRig(
  kind: 'aedes' | 'mosquitto' = 'aedes',
  options: Partial<GatewayOptions> = {},
): Promise<GatewayRig> {
  const rig = await startRig(kind);
  // No journal runs in these tests: a port where nothing listens.
  const fleet = gatewayFleet(rig.broker.url, await freePort());
  const extra: RunningGateway[] = [];
  let gw: RunningGateway;
  try {
    gw = await startGateway({ fleet, log: quiet, port: 0, options });
  } catch (err) {
    await rig.close();
    throw err;
  }
  const auth = (role: RoleName) => ({ authorization: `Bearer ${KEYS[role]}` });
  const http: GatewayRig['http'] = async (method, path, o = {}) => {
    const headers: Record<string, string> = { ...o.headers };
    if (o.role !== null) Object.assign(headers, auth(o.role ?? 'viewer'));
    let body: string | undefined;
    if (o.raw !== undefined) body = o.raw;
    else if (o.body !== undefined) {
      body = JSON.stringify(o.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(`${gw.url}${path}`, { method, headers, ...(body ? { body } : {}) });
    const text = await res.text();
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text);
    } catch {
      // not JSON (metrics, pages)
    }
    return { status: res.status, headers: res.headers, json, text };
  };
  return {
    rig,
    gw,
    url: gw.url,
    auth,
    http,
    command: (id, body, query = '') =>
      http('POST', `/api/v1/drives/${id}/commands${query}`, { role: 'operator', body }),
    async allOnline(timeoutMs = 30_000) {
      let last: HttpAnswer | undefined;
      await eventually(
        async () => {
          const d = await http('GET', '/api/v1/drives');
          last = d;
          const drives = (d.json.drives ?? []) as {
            availability: { status: string } | null;
            state: unknown;
          }[];
          return (
            drives.length > 0 && drives.every((x) => x.availability?.status === 'online' && x.state)
          );
        },
        'every drive online in the gateway',
        timeoutMs,
        25,
      ).catch((err: Error) => {
        const drives = (last?.json.drives ?? []) as {
          id: string;
          availability: { status: string; reason?: string } | null;
          state: unknown;
        }[];
        const seen = drives.map(
          (d) =>
            `${d.id} ${d.availability?.status ?? 'unknown'} (${d.availability?.reason ?? ''})${d.state ? '' : ' no state'}`,
        );
        // What the broker carried for the drives that are not online, to tell a device
        // service that never said so from a gateway that did not hear it.
        const heard = drives
          .filter((d) => d.availability?.status !== 'online')
          .map((d) => {
            const msgs = rig.watcher.messages
              .filter(
                (m) =>
                  m.topic === `servofleet/drives/${d.id}/availability` ||
                  (m.topic === `servofleet/drives/${d.id}/events` &&
                    m.json.type === 'availability'),
              )
              .map((m) => `${m.topic.split('/').pop()}:${m.json.status}`);
            return `${d.id} on MQTT: ${msgs.join(' ') || 'nothing'}`;
          });
        throw new Error(
          `${err.message}; last answer ${last?.status}: ${seen.join(', ')}; ${heard.join('; ')}`,
        );
      });
    },
    async enable(id) {
      const r = await http('POST', `/api/v1/drives/${id}/commands`, {
        role: 'operator',
        body: { type: 'enable', resetFault: true },
      });
      if (r.status !== 200) return r;
      await eventually(
        async () => {
          const d = await http('GET', `/api/v1/drives/${id}`);
          return (d.json.state as { cia402?: string } | null)?.cia402 === 'OPERATION_ENABLED';
        },
        `${id} OPERATION_ENABLED in the read model`,
        10_000,
        20,
      );
      return r;
    },
    async another(o) {
      const g = await startGateway({ fleet, log: quiet, port: 0, options: o });
      extra.push(g);
      return g;
    },
    async close() {
      for (const g of extra) await g.close();
      await gw.close();
      await rig.close();
    },
  };
}
