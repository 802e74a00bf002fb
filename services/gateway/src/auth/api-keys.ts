/**
 * API keys: `Authorization: Bearer <key>`; the fleet file stores only the SHA-256 of
 * each key (hex). A presented key is hashed and compared against every stored hash
 * with `crypto.timingSafeEqual`, all of them every time, so neither the position of a
 * match nor a common prefix shows in the response time.
 */
import { hash, timingSafeEqual } from 'node:crypto';

export type Role = 'viewer' | 'operator' | 'admin';
export const ROLES: readonly Role[] = ['viewer', 'operator', 'admin'];

export interface ApiKeyEntry {
  name: string;
  sha256: string;
  role: Role;
}

export interface Principal {
  name: string;
  role: Role;
}

/** sha256 hex of the demo keys the README publishes; never off loopback. */
export const DEMO_KEYS: Readonly<Record<string, string>> = Object.freeze(
  Object.fromEntries(['demo-viewer', 'demo-operator', 'demo-admin'].map((k) => [sha256Hex(k), k])),
);

export function sha256Hex(text: string): string {
  return hash('sha256', text, 'hex');
}

/** viewer < operator < admin: may a principal with `have` do what needs `need`? */
export function roleAllows(have: Role, need: Role): boolean {
  return ROLES.indexOf(have) >= ROLES.indexOf(need);
}

export interface KeyRing {
  /** The principal of a presented key, or undefined. Constant time in the key's value. */
  identify(key: string): Principal | undefined;
  /** Names of configured demo keys (empty when none). */
  readonly demoKeys: readonly string[];
  readonly size: number;
}

export function keyRing(entries: readonly ApiKeyEntry[]): KeyRing {
  const stored = entries.map((e) => ({
    digest: Buffer.from(e.sha256, 'hex'),
    principal: Object.freeze({ name: e.name, role: e.role }),
  }));
  const demoKeys = entries.filter((e) => e.sha256 in DEMO_KEYS).map((e) => e.name);
  return {
    demoKeys,
    size: stored.length,
    identify(key) {
      // Bound the work an attacker can ask for; real keys are far shorter.
      if (key.length === 0 || key.length > 512) return undefined;
      // One-shot hash: no Hash object per request (Node ≥ 20.12).
      const digest = hash('sha256', key, 'buffer');
      let found: Principal | undefined;
      for (const s of stored) {
        // Every entry is compared, match or not.
        if (timingSafeEqual(digest, s.digest) && found === undefined) found = s.principal;
      }
      return found;
    },
  };
}

/** `Bearer <key>` → key; anything else → undefined. RFC 6750 §2.1. */
export function bearerKey(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer[ ]+([\x21-\x7E]+)\s*$/i.exec(header);
  return m?.[1];
}

const LOOPBACK_NAMES = new Set(['localhost', '::1', '[::1]', '0:0:0:0:0:0:0:1']);

/** 127.0.0.0/8, ::1, localhost (and ::ffff:127.x). Anything else — 0.0.0.0, :: included — is not. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase();
  if (LOOPBACK_NAMES.has(h)) return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}
