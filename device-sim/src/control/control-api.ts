/**
 * The simulator's control API (fastify, loopback): what test engineers and HIL tests
 * use to see every drive's true state and to inject faults.
 *
 *   GET    /sim/drives          every drive's true internal state
 *   GET    /sim/drives/:id      one drive
 *   GET    /sim/links           every link: where it listens, connected, counters, faults
 *   GET    /sim/faults          the active faults
 *   POST   /sim/faults          inject one fault (body: see fault-schema.ts)
 *   DELETE /sim/faults          clear all faults, or ?drive=ID / ?link=ID
 *   GET    /healthz, /readyz
 *
 * Errors: `{"error":{"code","message","path"?}}`, codes from ../errors.ts.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { SimError, type SimErrorCode } from '../errors.ts';
import { parseFault } from '../faults/fault-schema.ts';
import type { Simulator } from '../simulator.ts';

const STATUS: Record<SimErrorCode, number> = {
  SIM_BAD_REQUEST: 400,
  SIM_UNKNOWN_DRIVE: 404,
  SIM_UNKNOWN_LINK: 404,
  SIM_UNSUPPORTED_FAULT: 409,
  SIM_SCENARIO_INVALID: 400,
  SIM_CONFIG_INVALID: 400,
  SIM_LISTEN_FAILED: 500,
};

export interface ControlApiOptions {
  /** Largest request body, bytes (default 16 KiB). */
  bodyLimit?: number;
  logger?: boolean;
}

export function buildControlApi(sim: Simulator, opts: ControlApiOptions = {}): FastifyInstance {
  const app = Fastify({ logger: opts.logger ?? false, bodyLimit: opts.bodyLimit ?? 16 * 1024 });

  app.setErrorHandler((err, _req, reply) => {
    if (err instanceof SimError) {
      const body = {
        error: { code: err.code, message: err.message, ...(err.path ? { path: err.path } : {}) },
      };
      return reply.status(STATUS[err.code]).send(body);
    }
    const e = err as { statusCode?: number; code?: string; message: string };
    // Fastify's own: body not JSON, too large, wrong content type.
    const status = e.statusCode && e.statusCode >= 400 && e.statusCode < 500 ? e.statusCode : 500;
    const code = status === 413 ? 'SIM_BAD_REQUEST' : status < 500 ? 'SIM_BAD_REQUEST' : 'INTERNAL';
    return reply.status(status).send({ error: { code, message: e.message } });
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async () => ({
    status: 'ready',
    links: sim.links().map((l) => ({ id: l.id, connected: l.connected })),
  }));

  app.get('/sim/drives', async () => ({ drives: sim.drives() }));
  app.get<{ Params: { id: string } }>('/sim/drives/:id', async (req) => {
    const d = sim.drives().find((x) => x.id === req.params.id);
    if (!d) throw new SimError('SIM_UNKNOWN_DRIVE', `no drive ${req.params.id}`);
    return d;
  });
  app.get('/sim/links', async () => ({ links: sim.links() }));
  app.get('/sim/faults', async () => ({ faults: sim.faults() }));

  app.post('/sim/faults', async (req, reply) => {
    const fault = parseFault(req.body);
    sim.inject(fault);
    return reply.status(201).send({ injected: fault, faults: sim.faults() });
  });

  app.delete<{ Querystring: Record<string, string> }>('/sim/faults', async (req) => {
    const { drive, link, ...rest } = req.query;
    const unknown = Object.keys(rest)[0];
    if (unknown !== undefined) {
      throw new SimError('SIM_BAD_REQUEST', `unknown query parameter ${unknown}`, {
        path: `?${unknown}`,
      });
    }
    const cleared = sim.clear({ ...(drive ? { drive } : {}), ...(link ? { link } : {}) });
    return { cleared, faults: sim.faults() };
  });

  return app;
}
