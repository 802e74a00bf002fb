/**
 * The query strings of the journal's API: TypeBox schemas (Ajv checks them, unknown
 * parameters included) and their translation into a store query, with the checks a
 * schema cannot make (times, the cursor) answered as 400 BAD_REQUEST naming the
 * parameter.
 */
import { type Static, Type } from '@sinclair/typebox';
import { ID_PATTERN } from '../../../contract/src/index.ts';
import { decodeCursor, encodeCursor, queryFingerprint } from '../store/cursor.ts';
import type { EventFilter, EventPage, EventQuery } from '../store/event-store.ts';

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

const Id = Type.String({ pattern: ID_PATTERN, description: 'a drive or line id' });
const Time = Type.String({
  minLength: 1,
  maxLength: 40,
  description: 'ms since the epoch, or an ISO 8601 date-time (`2025-11-27T14:02:00Z`)',
});

const filterFields = {
  type: Type.Optional(
    Type.String({
      pattern: '^[A-Za-z0-9_.-]{1,64}(,[A-Za-z0-9_.-]{1,64}){0,15}$',
      description: 'event type, or several separated by commas (`command,fault`)',
    }),
  ),
  commandId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  from: Type.Optional({ ...Time, description: `events with ts ≥ from; ${Time.description}` }),
  to: Type.Optional({ ...Time, description: `events with ts < to; ${Time.description}` }),
  limit: Type.Optional(
    Type.String({
      pattern: '^[0-9]{1,4}$',
      description: `events per page, 1–${MAX_LIMIT} (default ${DEFAULT_LIMIT})`,
    }),
  ),
  order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')])),
  cursor: Type.Optional(
    Type.String({ minLength: 1, maxLength: 200, description: '`next` of the previous page' }),
  ),
};

const strict = { additionalProperties: false } as const;

export const EventsQuerySchema = Type.Object(
  { drive: Type.Optional(Id), line: Type.Optional(Id), ...filterFields },
  strict,
);
/** `/drives/{id}/events` and `/lines/{id}/events`: the id is in the path. */
export const ScopedEventsQuerySchema = Type.Object(filterFields, strict);
export const IdParamsSchema = Type.Object({ id: Id }, strict);
export const CommandParamsSchema = Type.Object(
  { commandId: Type.String({ minLength: 1, maxLength: 128 }) },
  strict,
);

export type EventsQuery = Static<typeof EventsQuerySchema>;

/** A 400 whose `path` names the bad query parameter. */
export class QueryError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
    this.name = 'QueryError';
  }
}

function time(name: 'from' | 'to', v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const ms = /^[0-9]{1,16}$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw new QueryError(
      `/${name}`,
      `${name}: '${v}' is neither ms since the epoch nor an ISO 8601 date-time`,
    );
  }
  return ms;
}

export interface PlannedQuery {
  query: EventQuery;
  fingerprint: string;
}

/** Query string (already schema-checked) → store query; throws QueryError. */
export function planQuery(q: EventsQuery): PlannedQuery {
  const filter: EventFilter = {};
  if (q.drive !== undefined) filter.drive = q.drive;
  if (q.line !== undefined) filter.line = q.line;
  if (q.type !== undefined) filter.types = [...new Set(q.type.split(','))];
  if (q.commandId !== undefined) filter.commandId = q.commandId;
  const from = time('from', q.from);
  const to = time('to', q.to);
  if (from !== undefined) filter.from = from;
  if (to !== undefined) filter.to = to;
  if (from !== undefined && to !== undefined && from > to) {
    throw new QueryError('/from', `from (${from}) is after to (${to})`);
  }
  const limit = q.limit === undefined ? DEFAULT_LIMIT : Number(q.limit);
  if (limit < 1 || limit > MAX_LIMIT) {
    throw new QueryError('/limit', `limit must be 1–${MAX_LIMIT}, got ${q.limit}`);
  }
  const order = q.order ?? 'asc';
  const fingerprint = queryFingerprint(filter, order);
  const query: EventQuery = { ...filter, limit, order };
  if (q.cursor !== undefined) {
    const c = decodeCursor(q.cursor, fingerprint);
    if (!c.ok) throw new QueryError('/cursor', `cursor: ${c.reason}`);
    query.after = c.pos;
  }
  return { query, fingerprint };
}

/**
 * The answer as JSON text: the stored events are JSON already, so they are joined
 * rather than parsed and serialised again.
 */
export function pageJson(page: EventPage, fingerprint: string): string {
  const last = page.events.at(-1);
  const next = page.more && last ? encodeCursor(last, fingerprint) : null;
  return `{"events":[${page.events.map((e) => e.json).join(',')}],"next":${JSON.stringify(next)}}`;
}
