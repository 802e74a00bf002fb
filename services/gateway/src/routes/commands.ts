/**
 * `POST /api/v1/drives/{id}/commands`: a contract command to one drive, answered with
 * its result (see commands/http-answer.ts for the status codes).
 * `GET /api/v1/commands/{commandId}`: what is known of a command — its final result,
 * or how far it got — for a client that got a 504 or lost its connection.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { CommandBody, CommandService } from '../commands/command-service.ts';
import { httpAnswer } from '../commands/http-answer.ts';
import type { GatewayCore } from '../core.ts';
import { ApiError } from '../errors.ts';
import { sendApiError } from '../http/error-handling.ts';
import {
  CommandBodySchema,
  CommandQuerySchema,
  CommandRecordSchema,
  CommandResultSchema,
  DriveParamsSchema,
  errorResponses,
} from '../http/schemas.ts';
import { unknownDrive } from './drives.ts';

const security = [{ bearer: [] }];

export const commandRoutes: FastifyPluginAsyncTypebox<{
  core: GatewayCore;
  commands: CommandService;
}> = async (app, { core, commands }) => {
  const o = core.options;

  app.post(
    '/drives/:id/commands',
    {
      config: { role: 'operator' },
      bodyLimit: o.bodyLimitBytes,
      schema: {
        tags: ['commands'],
        summary: 'Send a command to a drive and wait for its result',
        description:
          '200 completed; 202 accepted (`?wait=accepted`); 400 bad body (`error.path` names the field); 404 unknown drive; 409 INVALID_STATE, DRIVE_FAULT or ABORTED; 410 COMMAND_EXPIRED; 413 body too large; 422 LIMIT_EXCEEDED; 503 DRIVE_UNREACHABLE, BREAKER_OPEN, OVERLOADED or SERVICE_UNAVAILABLE (nothing sent; Retry-After); 504 TIMEOUT (outcome unknown; the body has the commandId for `GET /api/v1/commands/{commandId}`). A retry with the same `commandId` is executed at most once.',
        security,
        params: DriveParamsSchema,
        querystring: CommandQuerySchema,
        body: CommandBodySchema,
        response: { 200: CommandResultSchema, 202: CommandResultSchema, ...errorResponses },
      },
      onResponse: (req, reply, done) => {
        const type = (req.body as { type?: unknown } | undefined)?.type;
        core.metrics.commands.inc({
          type: typeof type === 'string' ? type : 'invalid',
          status: String(reply.statusCode),
        });
        core.metrics.commandSeconds.observe(
          { type: typeof type === 'string' ? type : 'invalid' },
          reply.elapsedTime / 1000,
        );
        done();
      },
    },
    async (req, reply) => {
      const driveId = req.params.id;
      if (!core.model.has(driveId)) throw unknownDrive(driveId);
      const timeoutMs = req.query.timeoutMs ? Number(req.query.timeoutMs) : o.commandTimeoutMs;
      if (timeoutMs > o.maxCommandTimeoutMs) {
        throw new ApiError(
          400,
          'BAD_REQUEST',
          `querystring timeoutMs: at most ${o.maxCommandTimeoutMs}`,
        );
      }
      const body = req.body as CommandBody;
      // Nothing can come of it (the drive is not online, no broker): answered here, not thrown.
      const refused = commands.refusal({ driveId, body });
      if (refused) return sendApiError(reply, refused);
      const got = await commands.send({
        driveId,
        body,
        until: req.query.wait === 'accepted' ? 'accepted' : 'final',
        timeoutMs,
      });
      const a = httpAnswer(got.reply, driveId, got.replayed);
      return reply
        .status(a.status)
        .headers(a.headers)
        .send(a.body as never);
    },
  );

  app.get(
    '/commands/:commandId',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['commands'],
        summary: 'What is known of a command: its final result, or how far it got',
        description:
          'Learnt from the replies to this gateway and from every drive’s command events (so commands sent by another gateway instance or an MQTT client are known too). Kept in memory, bounded. 404 NOT_FOUND when unknown.',
        security,
        params: Type.Object(
          { commandId: Type.String({ minLength: 1, maxLength: 128 }) },
          { additionalProperties: false },
        ),
        response: { 200: CommandRecordSchema, ...errorResponses },
      },
    },
    async (req) => {
      const r = core.results.get(req.params.commandId);
      if (!r) {
        throw new ApiError(
          404,
          'NOT_FOUND',
          `no command '${req.params.commandId}' is known here (never seen, or forgotten)`,
          { extra: { commandId: req.params.commandId } },
        );
      }
      return r;
    },
  );
};
