/**
 * `/healthz` (liveness), `/readyz` (broker connected and read model warm) and
 * `/metrics` (Prometheus): open, no key, never rate limited or shed (STYLE.md §12).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Registry } from '../../../runtime/src/index.ts';
import type { GatewayCore } from '../core.ts';
import { HealthSchema, ReadySchema } from '../http/schemas.ts';

export const healthRoutes: FastifyPluginAsyncTypebox<{
  core: GatewayCore;
  registry: Registry;
}> = async (app, { core, registry }) => {
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['health'],
        summary: 'Liveness: 200 while the process runs',
        response: { 200: HealthSchema },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['health'],
        summary: 'Readiness: broker connected and read model warm',
        response: { 200: ReadySchema, 503: ReadySchema },
      },
    },
    async (_req, reply) => {
      const r = core.readiness();
      return reply
        .status(r.ready ? 200 : 503)
        .send({ status: r.ready ? 'ready' : 'not ready', details: r.details });
    },
  );

  app.get(
    '/metrics',
    { schema: { tags: ['health'], summary: 'Prometheus metrics (text exposition format)' } },
    async (_req, reply) => {
      const text = await registry.metrics();
      return reply.header('content-type', registry.contentType).send(text);
    },
  );
};
