/**
 * The journal's HTTP API (fastify), on the fleet file's `journal.host:port`:
 *
 *   GET /events?drive=&line=&type=&commandId=&from=&to=&limit=&order=&cursor=
 *                                     → { events: [...], next: cursor | null }
 *   GET /drives/{id}/events?…         the same for one drive
 *   GET /lines/{id}/events?…          the same for one line
 *   GET /commands/{commandId}         the history of one command, in order, or 404
 *   GET /healthz, /readyz, /metrics   as every servofleet process (STYLE.md §12)
 *
 * Events come back exactly as they were published, ordered by their `ts` (ties in
 * arrival order); `order=desc` gives the newest first. `next` is an opaque cursor for
 * the following page (same filters), null on the last page. Errors have the gateway's
 * shape, `{ "error": { "code", "message", "path"? } }`, with contract codes: 400
 * BAD_REQUEST names the bad parameter in `path`; 404 NOT_FOUND.
 *
 * `buildApp(deps)` does not listen (tests use `app.inject()`).
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import { type ErrorCode, REPLY_STATUSES } from '../../../contract/src/index.ts';
import {
  adminRoutes,
  type Logger,
  type Readiness,
  type Registry,
} from '../../../runtime/src/index.ts';
import type { CommandEvent, EventStore } from '../store/event-store.ts';
import {
  CommandParamsSchema,
  type EventsQuery,
  EventsQuerySchema,
  IdParamsSchema,
  pageJson,
  planQuery,
  QueryError,
  ScopedEventsQuerySchema,
} from './query.ts';

export interface AppDeps {
  store: Pick<EventStore, 'query' | 'commandHistory'>;
  registry: Registry;
  readiness: () => Readiness | Promise<Readiness>;
  log?: Logger;
}

interface AjvError {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

const FINAL = new Set<string>(REPLY_STATUSES.filter((s) => s !== 'accepted'));

export function buildApp(deps: AppDeps): FastifyInstance {
  const base = Fastify({
    logger: false,
    return503OnClosing: true,
    ajv: {
      customOptions: {
        removeAdditional: false,
        coerceTypes: false,
        useDefaults: false,
        allErrors: false,
      },
    },
  });
  installErrors(base, deps.log);
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const json = (reply: FastifyReply, text: string) =>
    reply.type('application/json; charset=utf-8').send(text);

  const events = (q: EventsQuery, reply: FastifyReply) => {
    const { query, fingerprint } = planQuery(q);
    return json(reply, pageJson(deps.store.query(query), fingerprint));
  };

  app.get('/events', { schema: { querystring: EventsQuerySchema } }, (req, reply) =>
    events(req.query, reply),
  );
  app.get(
    '/drives/:id/events',
    { schema: { params: IdParamsSchema, querystring: ScopedEventsQuerySchema } },
    (req, reply) => events({ ...req.query, drive: req.params.id }, reply),
  );
  app.get(
    '/lines/:id/events',
    { schema: { params: IdParamsSchema, querystring: ScopedEventsQuerySchema } },
    (req, reply) => events({ ...req.query, line: req.params.id }, reply),
  );

  app.get('/commands/:commandId', { schema: { params: CommandParamsSchema } }, (req, reply) => {
    const { commandId } = req.params;
    const history = inOrder(deps.store.commandHistory(commandId));
    if (history.length === 0) {
      return sendError(reply, 404, {
        code: 'NOT_FOUND',
        message: `the journal has no event of command ${commandId}`,
      });
    }
    // The drive's own command events say where the command is; line events around it
    // (the step that issued it, an estop's results) are part of its history.
    const own = history.filter((e) => e.type === 'command');
    const status = own.findLast((e) => e.phase !== null)?.phase ?? null;
    const head = {
      commandId,
      driveId:
        (own.find((e) => e.driveId !== null) ?? history.find((e) => e.driveId !== null))?.driveId ??
        null,
      lineId: history.find((e) => e.lineId !== null)?.lineId ?? null,
      commandType: commandTypeOf(own),
      status,
      final: status !== null && FINAL.has(status),
    };
    const text = JSON.stringify(head).slice(0, -1);
    return json(reply, `${text},"events":[${history.map((e) => e.json).join(',')}]}`);
  });

  adminRoutes(base, {
    registry: deps.registry,
    readiness: deps.readiness,
    ...(deps.log ? { log: deps.log } : {}),
  });

  return base;
}

/**
 * A command's events by `ts`, and within one millisecond by lifecycle, then by
 * arrival: the line's step that issued it, the drive's received, accepted, final
 * result, the step's end. A redelivery after a restart of the journal must not put
 * `completed` before `received`.
 */
function inOrder(events: CommandEvent[]): CommandEvent[] {
  return [...events].sort((a, b) => a.ts - b.ts || rank(a) - rank(b) || a.seq - b.seq);
}

function rank(e: CommandEvent): number {
  if (e.type === 'command') return e.phase === 'received' ? 1 : e.phase === 'accepted' ? 2 : 3;
  if (e.type === 'step') return e.phase === 'started' ? 0 : 4;
  return 2;
}

function commandTypeOf(events: CommandEvent[]): string | null {
  for (const e of events) {
    const t = (JSON.parse(e.json) as { commandType?: unknown }).commandType;
    if (typeof t === 'string') return t;
  }
  return null;
}

function sendError(
  reply: FastifyReply,
  status: number,
  error: { code: ErrorCode; message: string; path?: string },
): FastifyReply {
  return reply.status(status).send({ error });
}

function installErrors(app: FastifyInstance, log: Logger | undefined): void {
  app.setNotFoundHandler((req, reply) => {
    sendError(reply, 404, {
      code: 'NOT_FOUND',
      message: `no route ${req.method} ${req.url.split('?')[0]}`,
    });
  });
  app.setErrorHandler((err: FastifyError | QueryError, _req, reply) => {
    if (err instanceof QueryError) {
      return sendError(reply, 400, { code: 'BAD_REQUEST', message: err.message, path: err.path });
    }
    const fe = err as FastifyError & { validation?: AjvError[]; validationContext?: string };
    const v = fe.validation?.[0];
    if (v) {
      let path = v.instancePath;
      let why = v.message ?? v.keyword;
      if (v.keyword === 'additionalProperties') {
        path += `/${String(v.params.additionalProperty)}`;
        why = 'unknown parameter';
      } else if (v.keyword === 'required') {
        path += `/${String(v.params.missingProperty)}`;
        why = 'required';
      }
      const where = fe.validationContext === 'params' ? 'path' : 'query';
      return sendError(reply, 400, {
        code: 'BAD_REQUEST',
        message: `${where} parameter ${path.replace(/^\//, '') || '?'}: ${why}`,
        path: path || '/',
      });
    }
    const status = fe.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return sendError(reply, status, { code: 'BAD_REQUEST', message: fe.message });
    }
    log?.error({ err }, 'unexpected error');
    return sendError(reply, 500, {
      code: 'INTERNAL',
      message: 'an unexpected error inside the journal; the logs have the details',
    });
  });
}
