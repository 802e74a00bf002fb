/**
 * `GET /api/v1/stream`: Server-Sent Events of drive state, availability and events,
 * filtered by `?drive=a,b` and `?type=state,events`; a client that reconnects with
 * `Last-Event-ID` gets what it missed from the ring (or `event: reset` when that is
 * no longer possible), then the live stream; a `: heartbeat` comment keeps proxies
 * from closing an idle stream.
 *
 * Browsers' EventSource cannot set headers, so this route alone also takes the key as
 * `?key=` (redacted from the gateway's logs). The dashboard does not need it: it reads
 * the stream with `fetch()` and an Authorization header.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { isValidId } from '../../../contract/src/index.ts';
import type { GatewayCore } from '../core.ts';
import { ApiError } from '../errors.ts';
import { errorResponses, StreamQuerySchema } from '../http/schemas.ts';
import type { StreamFilter, StreamType } from '../stream/stream-hub.ts';

/** How long an EventSource waits before reconnecting, ms (SSE `retry:`). */
const RETRY_MS = 1000;

export const streamRoutes: FastifyPluginAsyncTypebox<{ core: GatewayCore }> = async (
  app,
  { core },
) => {
  app.get(
    '/stream',
    {
      config: { role: 'viewer', queryKey: true },
      schema: {
        tags: ['stream'],
        summary: 'Live drive state, availability and events (Server-Sent Events)',
        description:
          'Events `state`, `availability`, `events` (drive events; the gateway’s own breaker changes are `events` with `type: "breaker", source: "gateway"`), and `reset` when a `Last-Event-ID` cannot be resumed. Each data line is the MQTT payload (availability with `driveId` added).',
        security: [{ bearer: [] }],
        querystring: StreamQuerySchema,
        produces: ['text/event-stream'],
        response: errorResponses,
      },
    },
    async (req, reply) => {
      const filter: StreamFilter = {};
      if (req.query.drive) {
        const ids = req.query.drive.split(',').filter((s) => s.length > 0);
        const bad = ids.find((id) => !isValidId(id));
        if (bad !== undefined) {
          throw new ApiError(400, 'BAD_REQUEST', `querystring drive: '${bad}' is not a drive id`);
        }
        filter.drives = new Set(ids);
      }
      if (req.query.type) filter.types = new Set(req.query.type.split(',') as StreamType[]);
      const lastId = req.headers['last-event-id'];

      reply.hijack();
      const res = reply.raw;
      const headers: OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(reply.getHeaders())) if (v !== undefined) headers[k] = v;
      res.writeHead(200, {
        ...headers,
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      res.write(`retry: ${RETRY_MS}\n: servofleet stream ${core.hub.boot}\n\n`);
      // Replay and attach in one turn of the event loop: nothing published in between is lost.
      if (typeof lastId === 'string' && lastId.length > 0) {
        const { reset, items } = core.hub.since(lastId, filter);
        if (reset) {
          res.write(
            `event: reset\ndata: ${JSON.stringify({ reason: `cannot resume after ${lastId}: reload the snapshot (GET /api/v1/drives)` })}\n\n`,
          );
        }
        for (const it of items) res.write(it.frame);
      }
      core.hub.attach(res, filter);
      req.log.debug({ by: req.principal?.name, filter: req.query }, 'stream client attached');
    },
  );
};
