/**
 * Opaque pagination cursors: the position of the last event of a page, plus a
 * fingerprint of the query it belongs to, so that a cursor replayed with other
 * filters is refused instead of silently skipping events. base64url of a small JSON
 * array; clients must treat it as an opaque string.
 */
import type { EventFilter } from './event-store.ts';

export interface CursorPosition {
  ts: number;
  seq: number;
}

const VERSION = 1;

/** FNV-1a (32 bit) of the query's filters and order, as 8 hex digits. */
export function queryFingerprint(f: EventFilter, order: 'asc' | 'desc'): string {
  const text = JSON.stringify([
    f.drive ?? null,
    f.line ?? null,
    f.types ? [...f.types].sort() : null,
    f.commandId ?? null,
    f.from ?? null,
    f.to ?? null,
    order,
  ]);
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

export function encodeCursor(pos: CursorPosition, fingerprint: string): string {
  return Buffer.from(JSON.stringify([VERSION, pos.ts, pos.seq, fingerprint])).toString('base64url');
}

/** The position, or a reason the cursor cannot be used. */
export function decodeCursor(
  cursor: string,
  fingerprint: string,
): { ok: true; pos: CursorPosition } | { ok: false; reason: string } {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'not a cursor this journal issued' };
  }
  if (
    !Array.isArray(v) ||
    v.length !== 4 ||
    v[0] !== VERSION ||
    !Number.isSafeInteger(v[1]) ||
    !Number.isSafeInteger(v[2]) ||
    typeof v[3] !== 'string'
  ) {
    return { ok: false, reason: 'not a cursor this journal issued' };
  }
  if (v[3] !== fingerprint) {
    return {
      ok: false,
      reason: 'the cursor belongs to a query with other filters or order: repeat those filters',
    };
  }
  return { ok: true, pos: { ts: v[1] as number, seq: v[2] as number } };
}
