/**
 * Line and journal routes (503 SERVICE_UNAVAILABLE until those services exist, relayed
 * when their ports are given, line state from MQTT when the line controller publishes
 * it), the gateway's own error codes, options.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { ERROR_CODES as CONTRACT_CODES } from '../../contract/src/index.ts';
import { ERROR_CODES, HTTP_STATUS } from '../src/errors.ts';
import { httpJournal } from '../src/journal-http.ts';
import { parseGatewayOptions } from '../src/options.ts';
import type { JournalPort, LinePort } from '../src/ports.ts';
import { flush, type TestGateway, testGateway } from './helpers.ts';

describe('lines and events', () => {
  let g: TestGateway;
  afterEach(async () => {
    await g?.close();
  });

  it('503 SERVICE_UNAVAILABLE while there is no line controller or journal; nothing sent', async () => {
    g = await testGateway();
    const before = g.broker.published.length;
    for (const [method, url] of [
      ['GET', '/api/v1/lines'],
      ['GET', '/api/v1/lines/line-1'],
      ['POST', '/api/v1/lines/line-1/start'],
      ['POST', '/api/v1/lines/line-1/stop'],
      ['POST', '/api/v1/lines/line-1/estop'],
      ['GET', '/api/v1/events'],
    ] as const) {
      const r = await g.app.inject({ method, url, headers: g.auth('operator') });
      expect([url, r.statusCode, r.json().error.code]).toEqual([url, 503, 'SERVICE_UNAVAILABLE']);
      expect(r.headers['retry-after']).toBeDefined();
    }
    expect(g.broker.published.length).toBe(before);
  });

  it('404 NOT_FOUND for a line that is not in the fleet; 400 for an unknown action', async () => {
    g = await testGateway();
    const r = await g.app.inject({ url: '/api/v1/lines/line-9', headers: g.auth('viewer') });
    expect(r.statusCode).toBe(404);
    expect(r.json().error.code).toBe('NOT_FOUND');
    const a = await g.app.inject({
      method: 'POST',
      url: '/api/v1/lines/line-1/explode',
      headers: g.auth('operator'),
    });
    expect(a.statusCode).toBe(400);
  });

  it('line reads answer from the line controller’s retained state on MQTT', async () => {
    g = await testGateway();
    await g.device.client.publishJson(
      'servofleet/lines/line-1/state',
      { ts: 1, state: 'RUNNING', cycles: 7 },
      { qos: 1, retain: true },
    );
    await flush();
    const one = await g.app.inject({ url: '/api/v1/lines/line-1', headers: g.auth('viewer') });
    expect(one.statusCode).toBe(200);
    expect(one.json()).toMatchObject({
      id: 'line-1',
      state: { state: 'RUNNING', cycles: 7 },
      stations: [{ id: 's1' }, { id: 's2' }],
    });
    const all = await g.app.inject({ url: '/api/v1/lines', headers: g.auth('viewer') });
    expect(all.json().lines).toHaveLength(1);
  });

  it('line commands go over MQTT to a line controller that publishes the line’s state', async () => {
    g = await testGateway();
    const lc = g.broker.client('line-controller');
    await lc.subscribe('servofleet/lines/+/commands');
    lc.onMessage((_topic, payload, packet) => {
      const cmd = JSON.parse(payload.toString('utf8'));
      const r = {
        commandId: cmd.commandId,
        status: cmd.type === 'start' ? 'completed' : 'rejected',
        ts: Date.now(),
        lineId: 'line-1',
        type: cmd.type,
        state: 'RUNNING',
        ...(cmd.type === 'start' ? {} : { error: { code: 'INVALID_STATE', message: 'not now' } }),
      };
      const to = packet.properties?.responseTopic;
      void lc.publishJson(to ?? cmd.replyTo, r, {
        qos: 1,
        properties: { correlationData: packet.properties?.correlationData },
      });
    });
    await lc.publishJson(
      'servofleet/lines/line-1/state',
      { lineId: 'line-1', ts: 1, state: 'IDLE' },
      { qos: 1, retain: true },
    );
    await flush();
    const start = await g.app.inject({
      method: 'POST',
      url: '/api/v1/lines/line-1/start',
      headers: g.auth('operator'),
    });
    expect(start.statusCode).toBe(200);
    expect(start.json()).toMatchObject({ status: 'completed', lineId: 'line-1', type: 'start' });
    const [sent] = g.broker.sent('servofleet/lines/line-1/commands');
    expect(sent!.json).toMatchObject({
      type: 'start',
      commandId: expect.any(String),
      deadline: expect.any(Number),
    });
    expect(sent!.properties).toMatchObject({ responseTopic: 'servofleet/gateway/test/replies' });
    const stop = await g.app.inject({
      method: 'POST',
      url: '/api/v1/lines/line-1/stop',
      headers: g.auth('operator'),
    });
    expect(stop.statusCode).toBe(409);
    expect(stop.json().error.code).toBe('INVALID_STATE');
    // Its process says it is offline: nothing is sent any more.
    await lc.publishJson(
      'servofleet/services/line-line-1/availability',
      { status: 'offline', ts: 2 },
      { qos: 1, retain: true },
    );
    await flush();
    const before = g.broker.sent('servofleet/lines/+/commands').length;
    const gone = await g.app.inject({
      method: 'POST',
      url: '/api/v1/lines/line-1/estop',
      headers: g.auth('operator'),
    });
    expect(gone.statusCode).toBe(503);
    expect(g.broker.sent('servofleet/lines/+/commands').length).toBe(before);
  });

  it('events are relayed to the journal’s HTTP API; 503 with the reason when it does not answer', async () => {
    const journal = Fastify({ logger: false });
    journal.get('/events', async (req) => ({ events: [{ eventId: 'e1' }], query: req.query }));
    await journal.listen({ host: '127.0.0.1', port: 0 });
    const port = (journal.server.address() as { port: number }).port;
    try {
      g = await testGateway({ deps: { journal: httpJournal(`http://127.0.0.1:${port}`) } });
      const r = await g.app.inject({
        url: '/api/v1/events?driveId=axis-1&limit=5',
        headers: g.auth('viewer'),
      });
      expect(r.statusCode).toBe(200);
      expect(r.json()).toEqual({
        events: [{ eventId: 'e1' }],
        query: { driveId: 'axis-1', limit: '5' },
      });
    } finally {
      await journal.close();
    }
    const down = await g.app.inject({ url: '/api/v1/events', headers: g.auth('viewer') });
    expect(down.statusCode).toBe(503);
    expect(down.json().error).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    expect(down.json().error.message).toContain('ECONNREFUSED');
  });

  it('with the line controller’s and journal’s APIs given, the gateway relays to them', async () => {
    const calls: string[] = [];
    const lines: LinePort = {
      list: async () => ({ status: 200, body: { lines: [{ id: 'line-1' }] } }),
      get: async (id) => ({ status: 200, body: { id } }),
      command: async (id, action, by) => {
        calls.push(`${id} ${action} ${by}`);
        return { status: 202, body: { id, action, accepted: true } };
      },
    };
    const journal: JournalPort = {
      query: async (q) => ({ status: 200, body: { events: [], query: q } }),
    };
    g = await testGateway({ deps: { lines, journal } });
    const start = await g.app.inject({
      method: 'POST',
      url: '/api/v1/lines/line-1/estop',
      headers: g.auth('operator'),
    });
    expect(start.statusCode).toBe(202);
    expect(calls).toEqual(['line-1 estop operator-1']);
    const ev = await g.app.inject({
      url: '/api/v1/events?driveId=axis-1',
      headers: g.auth('viewer'),
    });
    expect(ev.json()).toEqual({ events: [], query: { driveId: 'axis-1' } });
  });

  it('503 SERVICE_UNAVAILABLE when the line controller does not answer', async () => {
    const lines: LinePort = {
      list: async () => {
        throw new Error('connect ECONNREFUSED');
      },
      get: async () => ({ status: 200, body: {} }),
      command: async () => ({ status: 200, body: {} }),
    };
    g = await testGateway({ deps: { lines } });
    const r = await g.app.inject({ url: '/api/v1/lines', headers: g.auth('viewer') });
    expect(r.statusCode).toBe(503);
    expect(r.json().error.message).toContain('ECONNREFUSED');
  });
});

describe('error codes and options', () => {
  it('services/gateway/ERRORS.md documents exactly the gateway’s codes', () => {
    const doc = readFileSync(resolve(import.meta.dirname, '../ERRORS.md'), 'utf8');
    const documented = [...doc.matchAll(/^\|\s*`([A-Z0-9_]+)`\s*\|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });

  it('every contract code has an HTTP status', () => {
    expect(Object.keys(HTTP_STATUS).sort()).toEqual(Object.keys(CONTRACT_CODES).sort());
  });

  it('options: defaults, and unknown or bad keys are errors', () => {
    expect(parseGatewayOptions({})).toMatchObject({ commandTimeoutMs: 10_000, breakerFailures: 3 });
    expect(() => parseGatewayOptions({ comandTimeoutMs: 5 } as never)).toThrow(
      /GATEWAY|comandTimeoutMs/,
    );
    expect(() => parseGatewayOptions({ commandTimeoutMs: 90_000 })).toThrow(/maxCommandTimeoutMs/);
    const input = { breakerFailures: 5 };
    parseGatewayOptions(input);
    expect(input).toEqual({ breakerFailures: 5 });
  });
});
