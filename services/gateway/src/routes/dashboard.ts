/**
 * The dashboard at `/`: three static files from services/gateway/public, read once at
 * start and served from memory with an ETag. The page is open; everything it shows
 * comes from the API with the key the operator types in.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import { packageRoot } from '../../../runtime/src/index.ts';

const PUBLIC = resolve(packageRoot(import.meta.dirname), 'services/gateway/public');

const FILES: [url: string, file: string, type: string][] = [
  ['/', 'index.html', 'text/html; charset=utf-8'],
  ['/dashboard.js', 'dashboard.js', 'text/javascript; charset=utf-8'],
  ['/dashboard.css', 'dashboard.css', 'text/css; charset=utf-8'],
];

export const dashboardRoutes: FastifyPluginAsync = async (app) => {
  for (const [url, file, type] of FILES) {
    const body = readFileSync(resolve(PUBLIC, file));
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
    app.get(url, { schema: { hide: true } }, async (req, reply) => {
      reply.header('etag', etag).header('cache-control', 'no-cache');
      if (req.headers['if-none-match'] === etag) return reply.status(304).send();
      return reply.type(type).send(body);
    });
  }
  app.get('/favicon.ico', { schema: { hide: true } }, async (_req, reply) =>
    reply.status(204).send(),
  );
};
