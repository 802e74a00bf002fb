/**
 * `buildApp(deps)`: the gateway's fastify app, without listening (STYLE.md §11; tests
 * use `app.inject()`, `startGateway` listens). Each feature is an encapsulated plugin:
 *
 *   /                      dashboard (open)
 *   /healthz /readyz /metrics          (open)
 *   /openapi.json /docs /asyncapi.json (open)
 *   /api/v1/...            API keys and roles, rate limit per key, load shedding
 *
 * Ajv runs with `removeAdditional: false` and `coerceTypes: false`: an unknown field
 * or a wrong type is a 400 naming the field, never silently dropped or converted.
 */
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import underPressure from '@fastify/under-pressure';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyPluginAsync,
  LogController,
} from 'fastify';
import {
  type Clock,
  createMetrics,
  type Fleet,
  type HttpsMaterial,
  type Logger,
  type Metrics,
  systemClock,
} from '../../runtime/src/index.ts';
import { keyRing } from './auth/api-keys.ts';
import { installAuth } from './auth/auth-hook.ts';
import { CommandService } from './commands/command-service.ts';
import { GatewayCore } from './core.ts';
import { ApiError } from './errors.ts';
import { installErrorHandling } from './http/error-handling.ts';
import { API_SECURITY_HEADERS, securityHeaders } from './http/security-headers.ts';
import { gatewayMetrics } from './metrics.ts';
import { type GatewayOptions, parseGatewayOptions } from './options.ts';
import type { GatewayMqtt, JournalPort, LinePort } from './ports.ts';
import { commandRoutes } from './routes/commands.ts';
import { dashboardRoutes } from './routes/dashboard.ts';
import { docsRoutes } from './routes/docs.ts';
import { driveRoutes } from './routes/drives.ts';
import { healthRoutes } from './routes/health.ts';
import { lineRoutes } from './routes/lines.ts';
import { streamRoutes } from './routes/stream.ts';

export interface GatewayDeps {
  fleet: Fleet;
  mqtt: GatewayMqtt;
  log: Logger;
  clock?: Clock;
  /** The process's registry (default: a new one for service `gateway`). */
  metrics?: Metrics;
  options?: Partial<GatewayOptions>;
  /** Names this instance's reply topic and service id (default: random). */
  instanceId?: string;
  /** The line controller's API (issue 6); without it line routes answer from MQTT or 503. */
  lines?: LinePort;
  /** The journal's query API (issue 6); without it `GET /events` answers 503. */
  journal?: JournalPort;
  /** Serve HTTPS with this certificate and key (`startGateway` reads `gateway.https`). */
  https?: HttpsMaterial;
}

declare module 'fastify' {
  interface FastifyInstance {
    gateway: GatewayCore;
  }
}

export function buildApp(deps: GatewayDeps): FastifyInstance {
  const options = parseGatewayOptions(deps.options);
  const metrics = deps.metrics ?? createMetrics({ service: 'gateway' });
  const clock = deps.clock ?? systemClock;
  const log = deps.log;
  const core = new GatewayCore({
    fleet: deps.fleet,
    mqtt: deps.mqtt,
    log,
    clock,
    metrics: gatewayMetrics(metrics),
    options,
    instanceId: deps.instanceId ?? Math.random().toString(36).slice(2, 10),
  });
  const commands = new CommandService(core);
  const ring = keyRing(deps.fleet.gateway.apiKeys);
  if (ring.size === 0) log.warn('no API keys in the fleet file: every /api/v1 call will be 401');

  const base = Fastify({
    ...(deps.https ? { https: deps.https } : {}),
    loggerInstance: log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimitBytes,
    return503OnClosing: true,
    ajv: {
      customOptions: {
        removeAdditional: false,
        coerceTypes: false,
        useDefaults: false,
        allErrors: false,
        discriminator: true,
      },
    },
  });
  installErrorHandling(base);
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  app.decorate('gateway', core);

  const http = core.metrics;
  app.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url ?? 'unmatched';
    http.http.inc({ method: req.method, route, status: String(reply.statusCode) });
    http.httpSeconds.observe({ method: req.method, route }, reply.elapsedTime / 1000);
    if (log.isLevelEnabled('debug')) {
      req.log.debug(
        {
          method: req.method,
          url: req.url.replace(/([?&]key=)[^&]*/g, '$1[redacted]'),
          status: reply.statusCode,
          ms: Math.round(reply.elapsedTime * 10) / 10,
          by: req.principal?.name,
        },
        'request',
      );
    }
    done();
  });

  app.addHook('onReady', async () => core.start());
  // Streams never end by themselves: end them first, or close() would wait forever.
  app.addHook('preClose', async () => core.hub.closeAll());
  app.addHook('onClose', async () => core.stop());

  // Security headers: helmet's for pages (computed once), OWASP's REST set for the API
  // (see http/security-headers.ts).
  let security: Readonly<Record<string, string>> = {};
  app.register(async () => {
    security = await securityHeaders();
  });
  app.addHook('onRequest', (req, reply, done) => {
    reply.headers(req.url.startsWith('/api/') ? API_SECURITY_HEADERS : security);
    done();
  });

  app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'servofleet gateway',
        version: '1.0.0',
        description:
          'REST front desk of a servofleet fleet. Every error body is `{ "error": { "code", "message", "path"? } }` with a contract code (services/contract/ERRORS.md). `/api/v1` needs `Authorization: Bearer <key>` (roles viewer < operator < admin); `/healthz`, `/readyz`, `/metrics`, `/openapi.json`, `/asyncapi.json`, `/docs` and the dashboard page are open.',
      },
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description: 'An API key from the fleet file (stored there as SHA-256).',
          },
        },
      },
      tags: [
        { name: 'drives', description: 'The fleet’s drives, from the gateway’s read model' },
        { name: 'commands', description: 'Commands to drives and their results' },
        { name: 'stream', description: 'Live updates (Server-Sent Events)' },
        { name: 'lines', description: 'Line controller (issue 6)' },
        { name: 'events', description: 'Journal (issue 6)' },
        { name: 'auth', description: 'API keys' },
        { name: 'health', description: 'Liveness, readiness, metrics' },
      ],
    },
  });

  app.register(healthRoutes, { core, registry: metrics.registry });
  app.register(docsRoutes, { root: deps.fleet.root, brokerUrl: deps.fleet.broker.url });
  app.register(dashboardRoutes);
  app.register(apiPlugin, {
    prefix: '/api/v1',
    core,
    commands,
    ring,
    options,
    lines: deps.lines,
    journal: deps.journal,
  });
  return base;
}

const apiPlugin: FastifyPluginAsync<{
  core: GatewayCore;
  commands: CommandService;
  ring: ReturnType<typeof keyRing>;
  options: Readonly<GatewayOptions>;
  lines: LinePort | undefined;
  journal: JournalPort | undefined;
}> = async (app, o) => {
  // Shed load for the process before it falls over (the open routes stay reachable).
  await app.register(underPressure, {
    maxEventLoopDelay: o.options.maxEventLoopDelayMs,
    maxHeapUsedBytes: o.options.maxHeapUsedBytes,
    maxRssBytes: o.options.maxRssBytes,
    sampleInterval: o.options.pressureSampleIntervalMs,
    retryAfter: o.options.pressureRetryAfterSec,
  });
  installAuth(app, o.ring);
  // One budget per key across the whole API (anonymous calls are 401 before this).
  await app.register(rateLimit, {
    global: true,
    max: o.options.rateLimitMax,
    timeWindow: o.options.rateLimitWindowMs,
    keyGenerator: (req) => (req.principal ? `key:${req.principal.name}` : `ip:${req.ip}`),
    errorResponseBuilder: (_req, ctx) =>
      new ApiError(
        429,
        'RATE_LIMITED',
        `more than ${ctx.max} requests for this API key within ${o.options.rateLimitWindowMs} ms: retry in ${ctx.after}`,
      ),
  });
  await app.register(driveRoutes, { core: o.core });
  await app.register(commandRoutes, { core: o.core, commands: o.commands });
  await app.register(streamRoutes, { core: o.core });
  await app.register(lineRoutes, { core: o.core, lines: o.lines, journal: o.journal });
};
