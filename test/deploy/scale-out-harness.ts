/**
 * The pieces of test/deploy/scale-out.test.ts: the fleet (four sf-servo drives on one
 * Modbus link, the gateway's API keys by hash), a round-robin HTTP load balancer, and
 * HTTP helpers that follow the event history's cursors. Loopback only.
 */
import { createServer, request, type Server } from 'node:http';
import { resolve } from 'node:path';
import { type Fleet, parseFleet } from '../../services/runtime/src/index.ts';
import { gatewaySection, KEYS } from '../gateway/harness.ts';
import type { JournalProcess } from '../journal/harness.ts';

export const DRIVES = ['axis-1', 'axis-2', 'axis-3', 'axis-4'] as const;
const LIMITS = '{ position: [-100000, 100000], velocity: 50000, acceleration: 500000 }';

/** The fleet; `journals`: the gateway's `gateway.journals`. */
export function fleetFor(brokerUrl: string, journals?: string[]): Fleet {
  return parseFleet(`
root: servofleet
profilesDir: ${resolve(import.meta.dirname, '../../config/profiles')}
broker: { url: ${brokerUrl}, embedded: false }
links:
  - id: bus-a
    protocol: modbus-rtu
    transport: memory://bus-a
    baud: 115200
    drives:
${DRIVES.map((id, i) => `      - { id: ${id}, unit: ${i + 1}, profile: sf-servo, pollHz: 20, limits: ${LIMITS} }`).join('\n')}
${gatewaySection()}
${journals ? `  journals: [${journals.join(', ')}]` : ''}
`);
}

export interface Balancer {
  url: string;
  /** Requests handed to each target, in the order the targets were given. */
  served: number[];
  close(): Promise<void>;
}

/** A round-robin HTTP load balancer: each request to the next target, streamed both ways. */
export function startBalancer(targets: string[]): Promise<Balancer> {
  const served = targets.map(() => 0);
  let turn = 0;
  const server: Server = createServer((req, res) => {
    const i = turn++ % targets.length;
    served[i]!++;
    const to = new URL(targets[i]!);
    const up = request(
      {
        hostname: to.hostname,
        port: to.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    up.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`balancer: ${targets[i]}: ${err.message}`);
    });
    // A client that goes away (a stream closed) closes its upstream request too.
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    req.pipe(up);
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      ok({
        url: `http://127.0.0.1:${port}`,
        served,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

export interface Answer {
  status: number;
  json: Record<string, unknown>;
}

export async function call(
  base: string,
  method: string,
  path: string,
  o: { role?: keyof typeof KEYS; body?: unknown } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { authorization: `Bearer ${KEYS[o.role ?? 'viewer']}` };
  if (o.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text);
  } catch {
    json = { text };
  }
  return { status: res.status, json };
}

export const command = (base: string, driveId: string, body: Record<string, unknown>) =>
  call(base, 'POST', `/api/v1/drives/${driveId}/commands`, { role: 'operator', body });

export interface StoredEvent {
  eventId: string;
  driveId?: string;
  type: string;
  phase?: string;
  commandId?: string;
}

/** Every event a query answers, following `next` (a journal's, or a gateway's over both). */
export async function allEvents(base: string, path: string, query: string): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 200; page++) {
    const qs = `${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const r = await call(base, 'GET', `${path}?${qs}`);
    if (r.status !== 200)
      throw new Error(`${base}${path}?${qs}: ${r.status} ${JSON.stringify(r.json)}`);
    out.push(...(r.json.events as StoredEvent[]));
    cursor = r.json.next as string | null;
    if (cursor === null) return out;
  }
  throw new Error(`${base}${path}: more than 200 pages`);
}

export async function stopJournal(p: JournalProcess): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const t = setTimeout(() => p.child.kill('SIGKILL'), 10_000);
  await p.exited;
  clearTimeout(t);
}
