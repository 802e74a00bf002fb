/**
 * Security headers. Pages (the dashboard, /docs) get @fastify/helmet's, computed once;
 * JSON API answers (`/api/…`) get the set the OWASP REST Security Cheat Sheet
 * ("Security Headers") gives for APIs, stricter where it differs: no framing at all,
 * nothing loadable, never cached. A browser never renders an API answer as a page, so
 * helmet's page headers (CSP for scripts and styles, DNS prefetch, download options…)
 * would only make every answer 600 bytes longer.
 *
 * Helmet's headers are computed once: The plugin as registered runs
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

/** OWASP REST Security Cheat Sheet, "Security Headers", for JSON API answers. */
export const API_SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
});

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
