/**
 * The live stream: the ring buffer and resume rules on their own, then
 * `GET /api/v1/stream` over a real loopback socket — filters, Last-Event-ID resume,
 * reset, heartbeats, `?key=`, and the gateway's breaker changes as events.
 */
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../runtime/src/index.ts';
import { StreamHub } from '../src/stream/stream-hub.ts';
import { KEYS, type TestGateway, testGateway } from './helpers.ts';
import { openSse, type SseClient } from './sse-client.ts';

describe('StreamHub', () => {
  const hub = (bufferSize = 8, clock = new ManualClock()) =>
    new StreamHub({ bufferSize, heartbeatMs: 1000, maxBufferedBytes: 1 << 20, clock });

  it('resumes after an id with what followed it, filtered', () => {
    const h = hub();
    const a = h.publish('state', 'axis-1', { n: 1 });
    h.publish('availability', 'axis-2', { n: 2 });
    h.publish('state', 'axis-2', { n: 3 });
    h.publish('events', 'axis-1', { n: 4 });
    expect(h.since(a.id, {}).items.map((i) => i.seq)).toEqual([2, 3, 4]);
    expect(h.since(a.id, { drives: new Set(['axis-2']) }).items.map((i) => i.seq)).toEqual([2, 3]);
    expect(h.since(a.id, { types: new Set(['state']) }).items.map((i) => i.seq)).toEqual([3]);
    expect(h.since(`${h.boot}-4`, {})).toEqual({ reset: false, items: [] });
  });

  it('says reset for an id of another run, from the future, unparsable, or out of the ring', () => {
    const h = hub(4);
    for (let i = 0; i < 10; i++) h.publish('state', 'axis-1', { i });
    expect(h.since('deadbeef-3', {}).reset).toBe(true);
    expect(h.since(`${h.boot}-11`, {}).reset).toBe(true);
    expect(h.since('garbage', {}).reset).toBe(true);
    expect(h.since(`${h.boot}-5`, {}).reset).toBe(true);
    expect(h.since(`${h.boot}-6`, {})).toMatchObject({ reset: false });
    expect(h.since(`${h.boot}-6`, {}).items.map((i) => i.seq)).toEqual([7, 8, 9, 10]);
  });

  it('frames events as SSE (id, event, data) and sends heartbeats on the clock', () => {
    const clock = new ManualClock();
    const h = hub(8, clock);
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => {
      text += c.toString();
    });
    const res = out as unknown as Parameters<StreamHub['attach']>[0];
    h.attach(res, { types: new Set(['state']) });
    h.publish('state', 'axis-1', { position: 5 });
    h.publish('events', 'axis-1', { type: 'fault' });
    clock.advance(1000);
    expect(text).toBe(
      `id: ${h.boot}-1\nevent: state\ndata: {"position":5}\n\n: heartbeat ${clock.wallNow()}\n\n`,
    );
  });
});

describe('GET /api/v1/stream', () => {
  let g: TestGateway;
  let url: string;
  const clients: SseClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await g?.close();
  });

  async function start(o: Parameters<typeof testGateway>[0] = {}) {
    g = await testGateway(o);
    await g.app.listen({ host: '127.0.0.1', port: 0 });
    const addr = g.app.server.address() as { port: number };
    url = `http://127.0.0.1:${addr.port}/api/v1/stream`;
  }
  const open = async (query = '', headers: Record<string, string> = g.auth('viewer')) => {
    const c = await openSse(`${url}${query}`, headers);
    clients.push(c);
    return c;
  };

  it('streams state, availability and events as they arrive', async () => {
    await start();
    const c = await open();
    expect(c.status).toBe(200);
    expect(c.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(c.headers['x-content-type-options']).toBe('nosniff');
    await g.device.state('axis-1', { position: 1234, cia402: 'OPERATION_ENABLED' });
    await g.device.availability('axis-2', 'unreachable', 'breaker open');
    await g.device.event('axis-2', { type: 'breaker', state: 'open' });
    const s = await c.waitFor((e) => e.type === 'state' && e.data.position === 1234, 'state');
    expect(s.data).toMatchObject({ driveId: 'axis-1', cia402: 'OPERATION_ENABLED' });
    expect(s.id).toMatch(/^[0-9a-f]+-\d+$/);
    const a = await c.waitFor((e) => e.type === 'availability', 'availability');
    expect(a.data).toMatchObject({
      driveId: 'axis-2',
      status: 'unreachable',
      reason: 'breaker open',
    });
    const b = await c.waitFor((e) => e.type === 'events', 'breaker event');
    expect(b.data).toMatchObject({ driveId: 'axis-2', type: 'breaker', state: 'open' });
  });

  it('filters by drive and type', async () => {
    await start();
    const c = await open('?drive=axis-2&type=state');
    await g.device.state('axis-1', { position: 1 });
    await g.device.availability('axis-2', 'online');
    await g.device.state('axis-2', { position: 2 });
    await c.waitFor((e) => e.data.position === 2, 'axis-2 state');
    expect(c.events.map((e) => [e.type, e.data.driveId])).toEqual([['state', 'axis-2']]);
  });

  it('resumes with Last-Event-ID: the events missed while away, then live', async () => {
    await start();
    const first = await open('?type=state');
    await g.device.state('axis-1', { position: 10 });
    const seen = await first.waitFor((e) => e.data.position === 10, 'position 10');
    first.close();
    await g.device.state('axis-1', { position: 11 });
    await g.device.state('axis-3', { position: 12 });
    const again = await open('?type=state', { ...g.auth('viewer'), 'last-event-id': seen.id! });
    await again.waitFor((e) => e.data.position === 12, 'missed position 12');
    await g.device.state('axis-1', { position: 13 });
    await again.waitFor((e) => e.data.position === 13, 'live position 13');
    expect(again.events.map((e) => e.data.position)).toEqual([11, 12, 13]);
  });

  it('an id that cannot be resumed gets event: reset', async () => {
    await start();
    const c = await open('', { ...g.auth('viewer'), 'last-event-id': 'cafe-1' });
    const r = await c.waitFor((e) => e.type === 'reset', 'reset');
    expect(String(r.data.reason)).toContain('GET /api/v1/drives');
  });

  it('the gateway’s own breaker changes are stream events', async () => {
    await start({ options: { breakerFailures: 1 } });
    const c = await open('?type=events&drive=axis-1');
    g.device.behaviour.set('axis-1', () => 'silent');
    const r = await g.app.inject({
      method: 'POST',
      url: '/api/v1/drives/axis-1/commands?timeoutMs=10',
      headers: g.auth('operator'),
      payload: { type: 'enable' },
    });
    expect(r.statusCode).toBe(504);
    const e = await c.waitFor((e) => e.data.type === 'breaker', 'gateway breaker event');
    expect(e.data).toMatchObject({ driveId: 'axis-1', state: 'open', source: 'gateway' });
  });

  it('heartbeats keep the stream alive', async () => {
    await start({ options: { streamHeartbeatMs: 20 } });
    const c = await open();
    const deadline = Date.now() + 5000;
    while (!c.comments.some((x) => x.startsWith('heartbeat')) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(c.comments.some((x) => x.startsWith('heartbeat'))).toBe(true);
  });

  it('takes ?key= (EventSource); 401 without a key; 400 for a bad filter', async () => {
    await start();
    const byQuery = await open(`?key=${KEYS.viewer}`, {});
    expect(byQuery.status).toBe(200);
    const none = await open('', {});
    expect(none.status).toBe(401);
    expect(JSON.parse(none.body).error.code).toBe('UNAUTHORIZED');
    const bad = await open('?type=telemetry');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error.code).toBe('BAD_REQUEST');
    const badDrive = await open('?drive=a/b');
    expect(badDrive.status).toBe(400);
  });

  it('closing the gateway ends open streams', async () => {
    await start();
    const c = await open();
    const ended = new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (c.events.length >= 0 && g.app.gateway.hub.clients === 0) {
          clearInterval(t);
          resolve();
        }
      }, 10);
    });
    await g.app.close();
    await ended;
    expect(g.app.gateway.hub.clients).toBe(0);
  });
});
