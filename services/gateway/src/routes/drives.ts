/**
 * `GET /api/v1/drives`, `GET /api/v1/drives/{id}`: answered from the read model, never
 * waiting on a drive. `GET /api/v1/whoami`: the caller's key name and role.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { GatewayCore } from '../core.ts';
import { ApiError } from '../errors.ts';
import { type DriveRecord, driveView } from '../fleet/read-model.ts';
import {
  DriveListSchema,
  DriveParamsSchema,
  DriveViewSchema,
  errorResponses,
  WhoamiSchema,
} from '../http/schemas.ts';

const security = [{ bearer: [] }];
const JSON_TYPE = 'application/json; charset=utf-8';

export const driveRoutes: FastifyPluginAsyncTypebox<{ core: GatewayCore }> = async (
  app,
  { core },
) => {
  // Reads far outnumber changes: each drive's JSON is made once per change, and the
  // list once per change of any drive (the response schemas document the shape).
  const one = new Map<string, { version: number; json: string }>();
  const json = (r: DriveRecord) => {
    let c = one.get(r.id);
    if (c?.version !== r.version) {
      c = { version: r.version, json: JSON.stringify(driveView(r)) };
      one.set(r.id, c);
    }
    return c.json;
  };
  let list = { version: -1, json: '' };

  app.get(
    '/drives',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['drives'],
        summary: 'Every drive: availability, state, breaker states (from memory)',
        security,
        response: { 200: DriveListSchema, ...errorResponses },
      },
    },
    async (_req, reply) => {
      if (list.version !== core.model.version) {
        list = {
          version: core.model.version,
          json: `{"drives":[${core.model.all().map(json).join(',')}]}`,
        };
      }
      return reply.type(JSON_TYPE).send(list.json as never);
    },
  );

  app.get(
    '/drives/:id',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['drives'],
        summary: 'One drive in full (from memory)',
        security,
        params: DriveParamsSchema,
        response: { 200: DriveViewSchema, ...errorResponses },
      },
    },
    async (req, reply) => {
      const r = core.model.get(req.params.id);
      if (!r) throw unknownDrive(req.params.id);
      return reply.type(JSON_TYPE).send(json(r) as never);
    },
  );

  app.get(
    '/whoami',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['auth'],
        summary: 'The name and role of the API key used',
        security,
        response: { 200: WhoamiSchema, ...errorResponses },
      },
    },
    async (req) => ({ name: req.principal!.name, role: req.principal!.role }),
  );
};

export function unknownDrive(id: string): ApiError {
  return new ApiError(404, 'UNKNOWN_DRIVE', `no drive '${id}' in the fleet`, {
    extra: { driveId: id },
  });
}
