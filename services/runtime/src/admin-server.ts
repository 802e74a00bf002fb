/**
 * The admin endpoints every service process serves (STYLE.md §12), on their own
 * port so that they stay reachable when the service's own API is busy or absent:
 *
 *   GET /healthz   200 `{"status":"ok"}` while the process runs (liveness)
 *   GET /readyz    200 `{"status":"ready","details":…}` or 503 `{"status":"not ready",…}`
 *   GET /metrics   the process's Prometheus registry, text exposition format
 *
 * `buildAdminApp(deps)` builds the fastify app without listening (tests use
 * `app.inject()`); `startAdminServer(opts)` listens and logs one line saying where.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { RuntimeError } from './errors.ts';
import type { Logger } from './logger.ts';

export interface Readiness {
  ready: boolean;
  /** What the service depends on and how each is doing, e.g. `{ mqtt: 'connected' }`. */
  details?: Record<string, unknown>;
}

export interface AdminDeps {
  registry: Registry;
  readiness: () => Readiness | Promise<Readiness>;
  log?: Logger;
}

export interface AdminServerOptions extends AdminDeps {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 picks a free port (see `AdminServer.port`). */
  port: number;
  log: Logger;
}

export interface AdminServer {
  readonly app: FastifyInstance;
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

export function buildAdminApp(deps: AdminDeps): FastifyInstance {
  const app = Fastify({ logger: false });
  adminRoutes(app, deps);
  return app;
}

/** The three admin routes on `app` (a service whose own API serves them too: the journal). */
export function adminRoutes(app: FastifyInstance, deps: AdminDeps): void {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_req, reply) => {
    let r: Readiness;
    try {
      r = await deps.readiness();
    } catch (err) {
      deps.log?.warn({ err }, 'readiness check failed');
      const message = err instanceof Error ? err.message : String(err);
      return reply.status(503).send({ status: 'not ready', error: { message } });
    }
    return reply
      .status(r.ready ? 200 : 503)
      .send({ status: r.ready ? 'ready' : 'not ready', details: r.details ?? {} });
  });

  app.get('/metrics', async (_req, reply) => {
    const text = await deps.registry.metrics();
    return reply.header('content-type', deps.registry.contentType).send(text);
  });
}

export async function startAdminServer(opts: AdminServerOptions): Promise<AdminServer> {
  const host = opts.host ?? '127.0.0.1';
  const app = buildAdminApp(opts);
  try {
    await app.listen({ host, port: opts.port });
  } catch (cause) {
    await app.close();
    const msg = cause instanceof Error ? cause.message : String(cause);
    throw new RuntimeError(
      'LISTEN_FAILED',
      `admin server cannot listen on ${host}:${opts.port}: ${msg}`,
      {
        cause,
      },
    );
  }
  const addr = app.server.address();
  const port = addr && typeof addr === 'object' ? addr.port : opts.port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  opts.log.info({ url }, `admin endpoints on ${url} (/healthz, /readyz, /metrics)`);
  return {
    app,
    port,
    url,
    close: () => app.close(),
  };
}
