/**
 * `GET /api/v1/lines`, `GET /api/v1/lines/{id}`, `POST /api/v1/lines/{id}/{start|stop|estop}`
 * and `GET /api/v1/events`: answered by the line controller and the journal (issue 6).
 * - Lines, over their contract topics: reads from the retained `{root}/lines/+/state`,
 *   commands to `{root}/lines/{id}/commands` (reply as for drive commands) — while a
 *   line controller publishes that state. A `LinePort` given to `buildApp` (an HTTP
 *   API) takes precedence.
 * - Events: relayed to the journal's HTTP query API (`startGateway` points a
 *   `JournalPort` at the fleet file's `journal.host:port`).
 * Otherwise 503 SERVICE_UNAVAILABLE: the gateway does not make up lines or a history.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';
import type { GatewayCore } from '../core.ts';
import { ApiError } from '../errors.ts';
import {
  errorResponses,
  LineActionParamsSchema,
  LineParamsSchema,
  RelayedSchema,
} from '../http/schemas.ts';
import type { JournalPort, LinePort, Relayed } from '../ports.ts';

const security = [{ bearer: [] }];

export const lineRoutes: FastifyPluginAsyncTypebox<{
  core: GatewayCore;
  lines: LinePort | undefined;
  journal: JournalPort | undefined;
}> = async (app, { core, lines, journal }) => {
  const retry = { 'retry-after': String(core.options.unreachableRetryAfterSec) };
  const notRunning = (what: string, hint: string) =>
    new ApiError(503, 'SERVICE_UNAVAILABLE', `${what} is not running here: ${hint}`, {
      headers: retry,
    });
  const lineNotRunning = () =>
    notRunning(
      'the line controller',
      `no line state on ${core.topics.allLines('state')} and no line controller API configured`,
    );
  const relay = async (reply: FastifyReply, what: string, call: () => Promise<Relayed>) => {
    let r: Relayed;
    try {
      r = await call();
    } catch (err) {
      throw new ApiError(
        503,
        'SERVICE_UNAVAILABLE',
        `${what} did not answer: ${err instanceof Error ? err.message : String(err)}`,
        { headers: retry },
      );
    }
    return reply.status(r.status).send(r.body);
  };
  /** Its retained state is there, and its process has not said it is offline. */
  const lineControllerUp = (id: string) => {
    if (!core.model.line(id)) return false;
    for (const [service, a] of core.model.services()) {
      if (service.startsWith('line') && service.endsWith(id) && a.status === 'offline')
        return false;
    }
    return true;
  };
  const knownLine = (id: string) => {
    if (!core.model.fleetLines().some((l) => l.id === id) && !core.model.line(id)) {
      throw new ApiError(404, 'NOT_FOUND', `no line '${id}' in the fleet`);
    }
  };
  const fromMqtt = (id: string) => {
    const fleetLine = core.model.fleetLines().find((l) => l.id === id);
    const rec = core.model.line(id);
    return {
      id,
      stations: fleetLine?.stations ?? [],
      state: rec?.state ?? null,
      updatedAt: rec?.updatedAt ?? null,
    };
  };

  app.get(
    '/lines',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['lines'],
        summary: 'Every line (from the line controller)',
        security,
        response: { 200: RelayedSchema, ...errorResponses },
      },
    },
    async (_req, reply) => {
      if (lines) return relay(reply, 'the line controller', () => lines.list());
      const seen = core.model.lines();
      if (seen.length === 0) throw lineNotRunning();
      return { lines: seen.map((l) => fromMqtt(l.id)) };
    },
  );

  app.get(
    '/lines/:id',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['lines'],
        summary: 'One line (from the line controller)',
        security,
        params: LineParamsSchema,
        response: { 200: RelayedSchema, ...errorResponses },
      },
    },
    async (req, reply) => {
      knownLine(req.params.id);
      if (lines) return relay(reply, 'the line controller', () => lines.get(req.params.id));
      if (!core.model.line(req.params.id)) throw lineNotRunning();
      return fromMqtt(req.params.id);
    },
  );

  app.post(
    '/lines/:id/:action',
    {
      config: { role: 'operator' },
      schema: {
        tags: ['lines'],
        summary: 'Start, stop or emergency-stop a line (through the line controller)',
        security,
        params: LineActionParamsSchema,
        response: { 200: RelayedSchema, 202: RelayedSchema, ...errorResponses },
      },
    },
    async (req, reply) => {
      knownLine(req.params.id);
      const { id, action } = req.params;
      if (lines) {
        req.log.info({ lineId: id, action, by: req.principal?.name }, `line ${id} ${action}`);
        return relay(reply, 'the line controller', () =>
          lines.command(id, action, req.principal?.name ?? 'unknown'),
        );
      }
      // Over MQTT, while a line controller publishes this line's state.
      if (!lineControllerUp(id)) throw lineNotRunning();
      req.log.info({ lineId: id, action, by: req.principal?.name }, `line ${id} ${action}`);
      const r = await core.lines.send(id, action, core.options.commandTimeoutMs);
      return reply.status(r.status).send(r.body);
    },
  );

  app.get(
    '/events',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['events'],
        summary: 'The event history (from the journal)',
        security,
        querystring: Type.Record(Type.String(), Type.String()),
        response: { 200: RelayedSchema, ...errorResponses },
      },
    },
    async (req, reply) => {
      if (!journal) {
        throw notRunning(
          'the journal',
          'no journal API configured (the live stream is GET /api/v1/stream)',
        );
      }
      return relay(reply, 'the journal', () => journal.query(req.query as Record<string, string>));
    },
  );
};
