/**
 * Authentication and roles for a plugin scope: each route says the role it needs in
 * `config.role`; a request without a valid key is 401 UNAUTHORIZED (with
 * `WWW-Authenticate: Bearer`, RFC 6750 §3), one whose key's role is too low is 403
 * FORBIDDEN. Runs in `onRequest`, before the body is read. A route with
 * `config.queryKey` (the SSE stream, for EventSource clients) also takes `?key=`.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../errors.ts';
import { bearerKey, type KeyRing, type Principal, type Role, roleAllows } from './api-keys.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The least role that may call the route; absent: open. */
    role?: Role;
    /** Accept the key as `?key=` too. */
    queryKey?: boolean;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/**
 * The key a keep-alive connection last proved, and whose it is. The next request on the
 * same connection that presents the same key is checked with one constant-time compare
 * instead of a SHA-256 of the key (7 % of a GET's CPU in the gateway). Only a key that
 * matched is kept, one per connection, and only for that connection: what a client
 * could learn from the timing is whether its key equals the one it sent before.
 */
const proven = new WeakMap<object, { key: Buffer; principal: Principal }>();

function identifyOn(ring: KeyRing, connection: object, key: string): Principal | undefined {
  const k = Buffer.from(key, 'utf8');
  const seen = proven.get(connection);
  if (seen && k.length === seen.key.length && timingSafeEqual(k, seen.key)) return seen.principal;
  const p = ring.identify(key);
  if (p) proven.set(connection, { key: k, principal: p });
  else proven.delete(connection);
  return p;
}

export function installAuth(app: FastifyInstance, ring: KeyRing): void {
  app.decorateRequest('principal', null);
  // A callback hook, not an async one: no promise per request.
  app.addHook('onRequest', (req, _reply, done) => {
    const need = req.routeOptions.config.role;
    if (!need) {
      done();
      return;
    }
    let key = bearerKey(req.headers.authorization);
    if (key === undefined && req.routeOptions.config.queryKey) {
      const q = (req.query as { key?: unknown }).key;
      if (typeof q === 'string') key = q;
    }
    const p = key === undefined ? undefined : identifyOn(ring, req.raw.socket, key);
    if (!p) {
      done(
        new ApiError(
          401,
          'UNAUTHORIZED',
          key === undefined
            ? 'no API key: send Authorization: Bearer <key>'
            : 'the API key is not valid',
          {
            headers: {
              'www-authenticate':
                key === undefined
                  ? 'Bearer realm="servofleet"'
                  : 'Bearer realm="servofleet", error="invalid_token"',
            },
          },
        ),
      );
      return;
    }
    req.principal = p;
    if (!roleAllows(p.role, need)) {
      done(
        new ApiError(
          403,
          'FORBIDDEN',
          `key '${p.name}' has the ${p.role} role; ${req.method} ${req.routeOptions.url} needs ${need}`,
        ),
      );
      return;
    }
    done();
  });
}
