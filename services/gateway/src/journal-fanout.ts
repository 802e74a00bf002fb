/**
 * The event history when several journals share the stream. On an MQTT 5 broker the
 * journals split `{root}/drives/+/events` through the shared subscription
 * `$share/servofleet-journal/…`: each event is stored by exactly one of them, so no
 * single journal has the whole history. This port asks every journal the same
 * question (`GET /events?…`) and merges their pages into one.
 *
 * - Order: by `ts` as each journal orders (ascending, or `order=desc`); events with
 *   the same `ts` in different journals come in the order the journals were given.
 *   Restricted to one journal, that is the journal's own order, so a page is exactly
 *   the first `limit` events of the merged history.
 * - Paging: `next` is an opaque cursor of ours that holds one position per journal
 *   (the journal's own cursor, "from the start", or "done"). A journal whose page was
 *   only partly taken is asked once more, with `limit` = the part taken, for a cursor
 *   that ends on the last event taken: its cursors stay opaque to us. Pages never
 *   repeat or skip a stored event, except that an event arriving late (its `ts` before
 *   the page being read) shows up in a new query only, as with one journal.
 * - All or nothing: a journal that does not answer fails the query (503
 *   SERVICE_UNAVAILABLE naming it) rather than return half a history; a journal's
 *   refusal (400 for a bad parameter) is relayed as it is.
 *
 * One journal: `journalFanOut([one])` is that journal, its answers relayed as they are.
 */
import { httpJournal } from './journal-http.ts';
import type { JournalPort, Relayed } from './ports.ts';

/** The journal's own default page size (services/journal README, `limit`). */
const DEFAULT_LIMIT = 100;
const CURSOR_TAG = 'sf-journals-1';
/** Per journal: its cursor, null = from its first event, 0 = nothing more there. */
type Position = string | null | 0;

interface Page {
  events: { eventId?: unknown; ts?: unknown }[];
  next: string | null;
}

/** The event history over the journals at `baseUrls` (one journal: a plain relay). */
export function httpJournals(baseUrls: readonly string[], timeoutMs = 5000): JournalPort {
  return journalFanOut(baseUrls.map((u) => httpJournal(u, timeoutMs)));
}

export function journalFanOut(parts: readonly JournalPort[]): JournalPort {
  if (parts.length === 0) throw new Error('journalFanOut: no journal given');
  if (parts.length === 1) return parts[0]!;
  return {
    async query(q): Promise<Relayed> {
      const { cursor, ...filters } = q;
      const start = cursor === undefined ? parts.map((): Position => null) : decode(cursor);
      if (!start || start.length !== parts.length) {
        return badCursor(
          start
            ? `the cursor is from a set of ${start.length} journals; this gateway queries ${parts.length}`
            : 'not a cursor this gateway issued',
        );
      }
      const ask = (i: number, pos: string | null, limit?: string) =>
        parts[i]!.query({
          ...filters,
          ...(limit === undefined ? {} : { limit }),
          ...(pos === null ? {} : { cursor: pos }),
        });
      const answers = await Promise.all(
        start.map((pos, i) => (pos === 0 ? undefined : ask(i, pos))),
      );
      const refused = answers.find((a) => a !== undefined && a.status !== 200);
      if (refused) return refused;
      const pages = answers.map((a) => (a === undefined ? undefined : page(a)));
      if (pages.some((p) => p === null)) {
        throw new Error('a journal answered 200 with a body that is not an event page');
      }
      const limit = filters.limit === undefined ? DEFAULT_LIMIT : Number(filters.limit);
      const sign = filters.order === 'desc' ? -1 : 1;
      const taken = pages.map(() => 0);
      const events: unknown[] = [];
      while (events.length < limit) {
        let best = -1;
        for (let i = 0; i < pages.length; i++) {
          const e = pages[i]?.events[taken[i]!];
          if (e === undefined) continue;
          const b = best < 0 ? undefined : pages[best]!.events[taken[best]!]!;
          if (!b || sign * (Number(e.ts) - Number(b.ts)) < 0) best = i;
        }
        if (best < 0) break;
        events.push(pages[best]!.events[taken[best]!]);
        taken[best]!++;
      }
      const next = await Promise.all(
        start.map(async (pos, i): Promise<Position> => {
          const p = pages[i];
          if (pos === 0 || !p) return 0;
          const k = taken[i]!;
          if (k === p.events.length) return p.next ?? 0;
          if (k === 0) return pos;
          return cursorAfter((lim) => ask(i, pos, String(lim)), k, p.events[k - 1]!.eventId);
        }),
      );
      return {
        status: 200,
        body: { events, next: next.every((p) => p === 0) ? null : encode(next) },
      };
    },
  };
}

/**
 * The journal's cursor just after its `k`-th event from where `ask` starts, that event
 * being `lastId`: a page of `k` normally ends there; if an event arrived in between, the
 * page is widened once to find `lastId` and cut after it.
 */
async function cursorAfter(
  ask: (limit: number) => Promise<Relayed>,
  k: number,
  lastId: unknown,
): Promise<Position> {
  const first = pageOf(await ask(k));
  const at = first.events.findIndex((e) => e.eventId === lastId);
  if (at === first.events.length - 1) return first.next ?? 0;
  const wide = at >= 0 ? first : pageOf(await ask(Math.min(1000, 2 * k)));
  const j = wide.events.findIndex((e) => e.eventId === lastId);
  if (j < 0) return first.next ?? 0; // gone meanwhile (retention): go on after the k-th
  if (j === wide.events.length - 1) return wide.next ?? 0;
  return pageOf(await ask(j + 1)).next ?? 0;
}

function pageOf(a: Relayed): Page {
  const p = a.status === 200 ? page(a) : null;
  if (!p) throw new Error(`a journal answered ${a.status} while the gateway paged through it`);
  return p;
}

function page(a: Relayed): Page | null {
  const b = a.body as Partial<Page> | null;
  if (!b || typeof b !== 'object' || !Array.isArray(b.events)) return null;
  if (b.next !== null && typeof b.next !== 'string') return null;
  return { events: b.events, next: b.next };
}

function encode(positions: Position[]): string {
  return Buffer.from(JSON.stringify([CURSOR_TAG, positions])).toString('base64url');
}

function decode(cursor: string): Position[] | undefined {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(v) || v.length !== 2 || v[0] !== CURSOR_TAG || !Array.isArray(v[1])) {
      return undefined;
    }
    const ps = v[1] as unknown[];
    return ps.every((p) => p === null || p === 0 || typeof p === 'string')
      ? (ps as Position[])
      : undefined;
  } catch {
    return undefined;
  }
}

function badCursor(message: string): Relayed {
  return {
    status: 400,
    body: { error: { code: 'BAD_REQUEST', message: `cursor: ${message}`, path: '/cursor' } },
  };
}
