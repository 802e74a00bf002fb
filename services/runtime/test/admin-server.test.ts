import { afterEach, describe, expect, it } from 'vitest';
import {
  buildAdminApp,
  createMetrics,
  type Readiness,
  RuntimeError,
  startAdminServer,
} from '../src/index.ts';
import { memoryLogger } from './helpers.ts';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

describe('buildAdminApp', () => {
  it('answers /healthz 200 while the process runs', async () => {
    const app = buildAdminApp({
      registry: createMetrics({ service: 't' }).registry,
      readiness: () => ({ ready: false }),
    });
    const res = await app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('answers /readyz 200 or 503 with the details the service gives', async () => {
    let state: Readiness = { ready: false, details: { mqtt: 'connecting' } };
    const app = buildAdminApp({
      registry: createMetrics({ service: 't' }).registry,
      readiness: () => state,
    });
    const down = await app.inject({ method: 'GET', url: '/readyz' });
    expect(down.statusCode).toBe(503);
    expect(down.json()).toEqual({ status: 'not ready', details: { mqtt: 'connecting' } });
    state = { ready: true, details: { mqtt: 'connected' } };
    const up = await app.inject({ method: 'GET', url: '/readyz' });
    expect(up.statusCode).toBe(200);
    expect(up.json()).toEqual({ status: 'ready', details: { mqtt: 'connected' } });
  });

  it('answers /readyz 503 when the readiness check throws', async () => {
    const app = buildAdminApp({
      registry: createMetrics({ service: 't' }).registry,
      readiness: async () => {
        throw new Error('link closed');
      },
    });
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ status: 'not ready', error: { message: 'link closed' } });
  });

  it('serves the registry on /metrics: process metrics and our own, labelled by service', async () => {
    const metrics = createMetrics({ service: 'device' });
    const polls = metrics.counter('servofleet_polls_total', 'polls', ['link']);
    polls.inc({ link: 'bus-a' }, 3);
    // Asking again returns the same counter, not a registration error.
    expect(metrics.counter('servofleet_polls_total', 'polls', ['link'])).toBe(polls);
    metrics
      .histogram('servofleet_poll_seconds', 'poll time', { buckets: [0.01, 0.1] })
      .observe(0.05);
    metrics.gauge('servofleet_up', 'up').set(1);
    const app = buildAdminApp({ registry: metrics.registry, readiness: () => ({ ready: true }) });
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.body).toContain('servofleet_polls_total{link="bus-a",service="device"} 3');
    expect(res.body).toContain('servofleet_poll_seconds_bucket{le="0.1",service="device"} 1');
    expect(res.body).toContain('servofleet_up{service="device"} 1');
    expect(res.body).toContain('process_cpu_user_seconds_total');
    expect(res.body).toContain('nodejs_eventloop_lag_seconds');
  });

  it('refuses a metric name registered as another type', () => {
    const metrics = createMetrics({ service: 't', defaultMetrics: false });
    metrics.counter('servofleet_x', 'x');
    expect(() => metrics.gauge('servofleet_x', 'x')).toThrow(/another type/);
  });
});

describe('startAdminServer', () => {
  it('listens on loopback, logs one line saying where, serves over HTTP', async () => {
    const { log, lines } = memoryLogger();
    const srv = await startAdminServer({
      port: 0,
      registry: createMetrics({ service: 't' }).registry,
      readiness: () => ({ ready: true }),
      log,
    });
    closers.push(() => srv.close());
    expect(srv.url).toBe(`http://127.0.0.1:${srv.port}`);
    expect(lines()).toEqual([
      expect.objectContaining({
        url: srv.url,
        msg: `admin endpoints on ${srv.url} (/healthz, /readyz, /metrics)`,
      }),
    ]);
    const res = await fetch(`${srv.url}/readyz`);
    expect(res.status).toBe(200);
  });

  it('fails with LISTEN_FAILED when the port is taken', async () => {
    const deps = {
      registry: createMetrics({ service: 't' }).registry,
      readiness: () => ({ ready: true }),
      log: memoryLogger().log,
    };
    const first = await startAdminServer({ ...deps, port: 0 });
    closers.push(() => first.close());
    const err = await startAdminServer({ ...deps, port: first.port }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RuntimeError);
    expect((err as RuntimeError).code).toBe('LISTEN_FAILED');
  });
});
