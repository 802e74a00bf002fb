/**
 * API keys, roles, rate limits, security headers, and the demo-key guard.
 */
import { Agent, request } from 'node:http';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { parseFleet } from '../../runtime/src/index.ts';
import {
  bearerKey,
  DEMO_KEYS,
  isLoopbackHost,
  keyRing,
  roleAllows,
  sha256Hex,
} from '../src/auth/api-keys.ts';
import { GatewayError } from '../src/errors.ts';
import { startGateway } from '../src/gateway.ts';
import { fleetYaml, KEYS, type TestGateway, testGateway } from './helpers.ts';

describe('API keys', () => {
  it('identifies a key by its SHA-256, and nothing else', () => {
    const ring = keyRing([
      { name: 'a', role: 'viewer', sha256: sha256Hex('key-a') },
      { name: 'b', role: 'admin', sha256: sha256Hex('key-b') },
    ]);
    expect(ring.identify('key-a')).toEqual({ name: 'a', role: 'viewer' });
    expect(ring.identify('key-b')).toEqual({ name: 'b', role: 'admin' });
    expect(ring.identify('key-c')).toBeUndefined();
    expect(ring.identify('')).toBeUndefined();
    expect(ring.identify(sha256Hex('key-a'))).toBeUndefined();
    expect(ring.identify('x'.repeat(10_000))).toBeUndefined();
    expect(ring.demoKeys).toEqual([]);
  });

  it('knows the demo keys by hash (the demo fleet file’s hashes)', () => {
    expect(Object.values(DEMO_KEYS).sort()).toEqual(['demo-admin', 'demo-operator', 'demo-viewer']);
    expect(DEMO_KEYS['2c409f0dcce66d0c980ae534d1ccdc0fc6738d7fc35d803949919f4dfa3f8834']).toBe(
      'demo-viewer',
    );
  });

  it.each([
    ['Bearer abc', 'abc'],
    ['bearer abc', 'abc'],
    ['Bearer  abc ', 'abc'],
    ['Basic abc', undefined],
    ['Bearer', undefined],
    ['Bearer a b', undefined],
    [undefined, undefined],
  ])('bearer %j → %j', (header, key) => {
    expect(bearerKey(header)).toBe(key);
  });

  it('roles: viewer < operator < admin', () => {
    expect(roleAllows('admin', 'operator')).toBe(true);
    expect(roleAllows('operator', 'operator')).toBe(true);
    expect(roleAllows('viewer', 'operator')).toBe(false);
    expect(roleAllows('operator', 'admin')).toBe(false);
  });

  it.each([
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['localhost', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['0.0.0.0', false],
    ['::', false],
    ['192.168.1.10', false],
    ['plc.example', false],
  ])('loopback %s → %s', (host, yes) => {
    expect(isLoopbackHost(host)).toBe(yes);
  });
});

describe('auth over HTTP', () => {
  let g: TestGateway;
  afterEach(async () => {
    await g?.close();
  });

  it('401 UNAUTHORIZED without a key or with a bad one, with WWW-Authenticate', async () => {
    g = await testGateway();
    const none = await g.app.inject({ url: '/api/v1/drives' });
    expect(none.statusCode).toBe(401);
    expect(none.json()).toEqual({ error: { code: 'UNAUTHORIZED', message: expect.any(String) } });
    expect(none.headers['www-authenticate']).toContain('Bearer');
    const bad = await g.app.inject({
      url: '/api/v1/drives',
      headers: { authorization: 'Bearer not-a-key' },
    });
    expect(bad.statusCode).toBe(401);
    expect(bad.headers['www-authenticate']).toContain('invalid_token');
    const basic = await g.app.inject({
      url: '/api/v1/drives',
      headers: { authorization: `Basic ${KEYS.viewer}` },
    });
    expect(basic.statusCode).toBe(401);
  });

  it('a key in the query string counts only on /stream', async () => {
    g = await testGateway();
    const r = await g.app.inject({ url: `/api/v1/drives?key=${KEYS.viewer}` });
    expect(r.statusCode).toBe(401);
  });

  it('viewers read, operators and admins too; whoami says who', async () => {
    g = await testGateway();
    for (const role of ['viewer', 'operator', 'admin'] as const) {
      const r = await g.app.inject({ url: '/api/v1/drives', headers: g.auth(role) });
      expect(r.statusCode).toBe(200);
      expect(r.json().drives.map((d: { id: string }) => d.id)).toEqual([
        'axis-1',
        'axis-2',
        'axis-3',
      ]);
      const who = await g.app.inject({ url: '/api/v1/whoami', headers: g.auth(role) });
      expect(who.json()).toEqual({ name: `${role}-1`, role });
    }
  });

  it('403 FORBIDDEN for a viewer starting a line', async () => {
    g = await testGateway();
    const r = await g.app.inject({
      method: 'POST',
      url: '/api/v1/lines/line-1/start',
      headers: g.auth('viewer'),
    });
    expect(r.statusCode).toBe(403);
    expect(r.json().error.code).toBe('FORBIDDEN');
  });

  it('on one keep-alive connection every request is judged by its own key', async () => {
    g = await testGateway();
    const base = await g.app.listen({ host: '127.0.0.1', port: 0 });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set<unknown>();
    const get = (authorization: string) =>
      new Promise<{ status: number; who: unknown }>((resolve, reject) => {
        const req = request(
          `${base}/api/v1/whoami`,
          { agent, headers: { authorization } },
          (res) => {
            sockets.add(res.socket);
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => {
              text += c;
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, who: JSON.parse(text) }));
          },
        );
        req.on('error', reject);
        req.end();
      });
    try {
      const seq = [
        `Bearer ${KEYS.admin}`,
        `Bearer ${KEYS.admin}`,
        `Bearer ${KEYS.viewer}`,
        `Bearer ${KEYS.admin.slice(0, -1)}x`,
        'Bearer x',
        `Bearer ${KEYS.viewer}`,
        `Bearer ${KEYS.operator}`,
      ];
      const got: { status: number; who: unknown }[] = [];
      for (const a of seq) got.push(await get(a));
      expect(sockets.size).toBe(1);
      expect(got.map((r) => r.status)).toEqual([200, 200, 200, 401, 401, 200, 200]);
      expect(got.map((r) => (r.who as { role?: string }).role ?? null)).toEqual([
        'admin',
        'admin',
        'viewer',
        null,
        null,
        'viewer',
        'operator',
      ]);
    } finally {
      agent.destroy();
    }
  });

  it('open without a key: health, readiness, metrics, documents, dashboard', async () => {
    g = await testGateway();
    for (const url of [
      '/healthz',
      '/readyz',
      '/metrics',
      '/openapi.json',
      '/asyncapi.json',
      '/docs',
      '/',
    ]) {
      const r = await g.app.inject({ url });
      expect([url, r.statusCode]).toEqual([url, 200]);
    }
  });

  it('429 RATE_LIMITED per key, with the rate-limit headers; other keys keep their budget', async () => {
    g = await testGateway({ options: { rateLimitMax: 3, rateLimitWindowMs: 60_000 } });
    const get = (role: 'viewer' | 'operator') =>
      g.app.inject({ url: '/api/v1/drives/axis-1', headers: g.auth(role) });
    for (let i = 0; i < 3; i++) {
      const ok = await get('viewer');
      expect(ok.statusCode).toBe(200);
      expect(ok.headers['x-ratelimit-limit']).toBe('3');
      expect(ok.headers['x-ratelimit-remaining']).toBe(String(2 - i));
    }
    const limited = await get('viewer');
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toEqual({
      error: { code: 'RATE_LIMITED', message: expect.any(String) },
    });
    expect(limited.headers['x-ratelimit-remaining']).toBe('0');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // The budget is per key across the API, not per route.
    const otherRoute = await g.app.inject({ url: '/api/v1/drives', headers: g.auth('viewer') });
    expect(otherRoute.statusCode).toBe(429);
    expect((await get('operator')).statusCode).toBe(200);
    // Health stays reachable.
    expect((await g.app.inject({ url: '/healthz' })).statusCode).toBe(200);
  });

  it('security headers on the page (helmet), and a CSP that allows nothing from elsewhere', async () => {
    g = await testGateway();
    for (const url of ['/', '/docs/']) {
      const r = await g.app.inject({ url, headers: g.auth('viewer') });
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers['x-frame-options']).toBe('SAMEORIGIN');
      const csp = String(r.headers['content-security-policy']);
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('https:');
    }
  });

  it('API answers, errors included, carry the REST set: no framing, nothing loadable, not cached', async () => {
    g = await testGateway();
    const answers = [
      await g.app.inject({ url: '/api/v1/drives', headers: g.auth('viewer') }),
      await g.app.inject({ url: '/api/v1/drives' }), // 401
      await g.app.inject({ url: '/api/v1/drives/nope', headers: g.auth('viewer') }), // 404
    ];
    expect(answers.map((r) => r.statusCode)).toEqual([200, 401, 404]);
    for (const r of answers) {
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers['x-frame-options']).toBe('DENY');
      expect(r.headers['content-security-policy']).toBe(
        "default-src 'none'; frame-ancestors 'none'",
      );
      expect(r.headers['cache-control']).toBe('no-store');
      expect(r.headers['strict-transport-security']).toContain('max-age=');
    }
  });
});

describe('demo keys', () => {
  it('the gateway refuses a non-loopback address while a demo key is configured', async () => {
    const fleet = parseFleet(
      fleetYaml(`    - { name: demo-admin, role: admin, sha256: ${sha256Hex('demo-admin')} }`),
    );
    const err = await startGateway({
      fleet,
      log: pino({ level: 'silent' }),
      host: '0.0.0.0',
      port: 0,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect(err).toMatchObject({ code: 'DEMO_KEYS_NOT_LOOPBACK' });
    expect((err as Error).message).toContain('demo-admin');
  });
});
