/**
 * What describes and watches the gateway: OpenAPI, AsyncAPI, Swagger UI (local files),
 * health, readiness, metrics, the dashboard's files, load shedding, unknown routes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { asyncApiDocument } from '../../contract/src/asyncapi.ts';
import { COMMAND_TYPES, ERROR_CODES } from '../../contract/src/index.ts';
import { eventually } from '../../runtime/test/helpers.ts';
import { flush, type TestGateway, testGateway } from './helpers.ts';

describe('documents', () => {
  let g: TestGateway;
  afterEach(async () => {
    await g?.close();
  });

  it('/openapi.json: OpenAPI 3.1 with every route, bearer security and the command body by type', async () => {
    g = await testGateway();
    const doc = (await g.app.inject({ url: '/openapi.json' })).json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        '/api/v1/commands/{commandId}',
        '/api/v1/drives',
        '/api/v1/drives/{id}',
        '/api/v1/drives/{id}/commands',
        '/api/v1/events',
        '/api/v1/lines',
        '/api/v1/lines/{id}',
        '/api/v1/lines/{id}/{action}',
        '/api/v1/stream',
        '/api/v1/whoami',
        '/healthz',
        '/metrics',
        '/readyz',
      ].sort(),
    );
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    const post = doc.paths['/api/v1/drives/{id}/commands'].post;
    const body = post.requestBody.content['application/json'].schema;
    expect(body.discriminator).toEqual({ propertyName: 'type' });
    // @fastify/swagger writes `const` as a one-value `enum`.
    const types = body.oneOf.map(
      (b: { properties: { type: { const?: string; enum?: string[] } } }) =>
        b.properties.type.const ?? b.properties.type.enum?.[0],
    );
    expect(types).toEqual(COMMAND_TYPES);
    for (const b of body.oneOf) {
      expect(b.additionalProperties).toBe(false);
      expect(b.properties).not.toHaveProperty('replyTo');
      expect(b.required).not.toContain('commandId');
    }
    expect(Object.keys(post.responses)).toEqual(
      expect.arrayContaining(['200', '202', '4XX', '5XX']),
    );
    expect(post.security).toEqual([{ bearer: [] }]);
  });

  it('/asyncapi.json: AsyncAPI 3 of the MQTT contract, from the contract’s schemas', async () => {
    g = await testGateway();
    const doc = (await g.app.inject({ url: '/asyncapi.json' })).json();
    expect(doc.asyncapi).toBe('3.0.0');
    expect(doc.channels.driveState.address).toBe('servofleet/drives/{driveId}/state');
    expect(doc.servers.broker).toMatchObject({ protocol: 'mqtt' });
    expect(Object.keys(doc.channels.driveCommands.messages)).toEqual(
      COMMAND_TYPES.map((t) => `command.${t}`),
    );
    expect(doc.operations.receiveCommand.reply.address.location).toBe('$message.payload#/replyTo');
    expect(doc.operations.sendState.bindings.mqtt).toMatchObject({ qos: 1, retain: true });
    expect(doc.components.schemas.State.required).toContain('cia402');
    expect(doc.components.schemas.ErrorCode.enum).toEqual(Object.keys(ERROR_CODES));
    // Every $ref resolves inside the document.
    const text = JSON.stringify(doc);
    for (const [, ref] of text.matchAll(/"\$ref":"#\/([^"]+)"/g)) {
      const target = ref!
        .split('/')
        .reduce(
          (o: Record<string, unknown> | undefined, k) => o?.[k] as Record<string, unknown>,
          doc,
        );
      expect([ref, target !== undefined]).toEqual([ref, true]);
    }
  });

  it('asyncApiDocument takes the topic root', () => {
    const doc = asyncApiDocument({ root: 'acme/plant1/servofleet' }) as {
      channels: Record<string, { address: string | null }>;
    };
    expect(doc.channels.driveEvents!.address).toBe(
      'acme/plant1/servofleet/drives/{driveId}/events',
    );
  });

  it('/docs is Swagger UI served from the package, pointing nowhere else', async () => {
    g = await testGateway();
    const page = await g.app.inject({ url: '/docs' });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('swagger-ui-bundle.js');
    expect(page.body).not.toMatch(/https?:\/\//);
    const bundle = await g.app.inject({ url: '/docs/static/swagger-ui-bundle.js' });
    expect(bundle.statusCode).toBe(200);
  });
});

describe('health, readiness, metrics, dashboard', () => {
  let g: TestGateway;
  afterEach(async () => {
    await g?.close();
  });

  it('/readyz: 503 until every fleet drive has reported (warm), then 200', async () => {
    g = await testGateway({ start: false, options: { warmupMs: 3_600_000 } });
    expect((await g.app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const cold = await g.app.inject({ url: '/readyz' });
    expect(cold.statusCode).toBe(503);
    expect(cold.json()).toMatchObject({
      status: 'not ready',
      details: { readModel: 'warming up' },
    });
    await g.device.start();
    await flush();
    const warm = await g.app.inject({ url: '/readyz' });
    expect(warm.statusCode).toBe(200);
    expect(warm.json()).toMatchObject({
      status: 'ready',
      details: { mqtt: 'connected (MQTT 5)', readModel: 'warm', drives: { drives: 3, online: 3 } },
    });
  });

  it('/metrics: Prometheus text with the gateway’s series', async () => {
    g = await testGateway();
    await g.app.inject({ url: '/api/v1/drives', headers: g.auth('viewer') });
    const r = await g.app.inject({ url: '/metrics' });
    expect(r.headers['content-type']).toContain('text/plain');
    expect(r.body).toContain(
      'servofleet_gateway_http_requests_total{method="GET",route="/api/v1/drives",status="200"',
    );
    expect(r.body).toContain('servofleet_gateway_breaker_state{drive="axis-1",source="gateway"');
    expect(r.body).toContain('servofleet_gateway_mqtt_messages_total{kind="state"');
  });

  it('the dashboard: page, script and style, with ETags', async () => {
    g = await testGateway();
    const page = await g.app.inject({ url: '/' });
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('<script src="/dashboard.js"');
    expect(page.body).not.toMatch(/https?:\/\//);
    const js = await g.app.inject({ url: '/dashboard.js' });
    expect(js.headers['content-type']).toContain('text/javascript');
    expect(js.body).not.toMatch(/https?:\/\//);
    const again = await g.app.inject({
      url: '/dashboard.css',
      headers: {
        'if-none-match': String((await g.app.inject({ url: '/dashboard.css' })).headers.etag),
      },
    });
    expect(again.statusCode).toBe(304);
  });

  it('404 NOT_FOUND with the error body for an unknown route', async () => {
    g = await testGateway();
    const r = await g.app.inject({ url: '/api/v1/nothing', headers: g.auth('viewer') });
    expect(r.statusCode).toBe(404);
    expect(r.json()).toEqual({
      error: { code: 'NOT_FOUND', message: 'no route GET /api/v1/nothing' },
    });
  });

  it('under pressure the API sheds load with 503 OVERLOADED and Retry-After; health stays up', async () => {
    g = await testGateway({
      options: { maxHeapUsedBytes: 1, pressureSampleIntervalMs: 10, pressureRetryAfterSec: 7 },
    });
    const shed = await eventually(
      async () => {
        const r = await g.app.inject({ url: '/api/v1/drives', headers: g.auth('viewer') });
        return r.statusCode === 503 ? r : undefined;
      },
      'load shedding',
      5000,
      20,
    );
    expect(shed.json().error.code).toBe('OVERLOADED');
    expect(shed.headers['retry-after']).toBe('7');
    expect((await g.app.inject({ url: '/healthz' })).statusCode).toBe(200);
  });
});
