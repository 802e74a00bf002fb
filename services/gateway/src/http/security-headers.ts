/**
 * Security headers from @fastify/helmet, computed once. The plugin as registered runs
 * `helmet(config)` anew for every request — building each middleware and parsing the
 * CSP directives each time, about as much work as the rest of a `GET /drives/{id}`.
 * The headers do not depend on the request (no CSP nonces here), so the gateway asks
 * @fastify/helmet for them once, on a probe app with the same options, and sets that
 * map on every reply.
 */
import helmet, { type FastifyHelmetOptions } from '@fastify/helmet';
import Fastify from 'fastify';

/** Plain HTTP on a plant network is expected (TLS, if any, ends at a proxy). */
export const HELMET_OPTIONS: FastifyHelmetOptions = {
  contentSecurityPolicy: {
    useDefaults: true,
    directives: {
      // Do not make browsers rewrite the dashboard's requests to https.
      'upgrade-insecure-requests': null,
      'style-src': ["'self'", "'unsafe-inline'"],
      'font-src': ["'self'", 'data:'],
      'connect-src': ["'self'"],
    },
  },
};

const NOT_SECURITY = new Set([
  'content-type',
  'content-length',
  'date',
  'connection',
  'keep-alive',
]);

export async function securityHeaders(
  options: FastifyHelmetOptions = HELMET_OPTIONS,
): Promise<Readonly<Record<string, string>>> {
  const probe = Fastify({ logger: false });
  await probe.register(helmet, options);
  probe.get('/', async () => '');
  const r = await probe.inject({ url: '/' });
  await probe.close();
  return Object.freeze(
    Object.fromEntries(
      Object.entries(r.headers)
        .filter(([k, v]) => !NOT_SECURITY.has(k) && v !== undefined)
        .map(([k, v]) => [k, String(v)]),
    ),
  );
}
