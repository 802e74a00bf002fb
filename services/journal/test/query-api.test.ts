/**
 * The query API through `app.inject()`: filters, pages and cursors, the history of a
 * command, 400s that name the bad parameter, 404s, and the admin routes.
 */
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../runtime/src/index.ts';
import { buildApp, openEventStore } from '../src/index.ts';
import { row } from './fixtures.ts';

const store = openEventStore(':memory:');
store.append([
  row({
    eventId: 'c9-done',
    driveId: 'axis-1',
    type: 'command',
    commandId: 'c-9',
    phase: 'completed',
    ts: 1_000,
    json: { commandType: 'moveTo' },
  }),
  // Same millisecond, arrived later: a redelivery after a journal restart.
  row({
    eventId: 'c9-rcv',
    driveId: 'axis-1',
    type: 'command',
    commandId: 'c-9',
    phase: 'received',
    ts: 1_000,
    json: { commandType: 'moveTo' },
  }),
  row({
    eventId: 'c9-acc',
    driveId: 'axis-1',
    type: 'command',
    commandId: 'c-9',
    phase: 'accepted',
    ts: 1_000,
    json: { commandType: 'moveTo' },
  }),
  ...Array.from({ length: 25 }, (_, i) =>
    row({ eventId: `s${i}`, driveId: i % 2 ? 'axis-2' : 'axis-3', type: 'state', ts: 2_000 + i }),
  ),
  row({ eventId: 'line-ev', driveId: null, lineId: 'line-1', type: 'cycle', ts: 3_000 }),
  // A line's step that issued two commands, before and after the drive's events.
  row({
    eventId: 'step-start',
    driveId: null,
    lineId: 'line-1',
    type: 'step',
    phase: 'started',
    commandIds: ['c-9', 'c-10'],
    ts: 1_000,
  }),
  row({
    eventId: 'step-done',
    driveId: null,
    lineId: 'line-1',
    type: 'step',
    phase: 'completed',
    commandIds: ['c-9', 'c-10'],
    ts: 1_000,
  }),
]);
let ready = true;
const app = buildApp({
  store,
  registry: createMetrics({ service: 'journal-test', defaultMetrics: false }).registry,
  readiness: () => ({ ready, details: { mqtt: ready ? 'connected' : 'disconnected' } }),
});

async function get(url: string) {
  const res = await app.inject({ method: 'GET', url });
  return { status: res.statusCode, body: res.json() as Record<string, unknown> };
}

type Page = { events: { eventId: string }[]; next: string | null };

describe('GET /events', () => {
  it('answers events as published, in time order, with a null next on the last page', async () => {
    const { status, body } = await get('/events?drive=axis-1');
    expect(status).toBe(200);
    const page = body as unknown as Page;
    expect(page.events.map((e) => e.eventId)).toEqual(['c9-done', 'c9-rcv', 'c9-acc']);
    expect(page.events[0]).toEqual({
      eventId: 'c9-done',
      ts: 1_000,
      type: 'command',
      driveId: 'axis-1',
      commandId: 'c-9',
      phase: 'completed',
      commandType: 'moveTo',
    });
    expect(page.next).toBeNull();
  });

  it('pages with an opaque cursor through every event exactly once', async () => {
    const seen: string[] = [];
    let url = '/events?type=state&limit=4';
    for (let i = 0; i < 20; i++) {
      const { status, body } = await get(url);
      expect(status).toBe(200);
      const page = body as unknown as Page;
      seen.push(...page.events.map((e) => e.eventId));
      if (page.next === null) break;
      url = `/events?type=state&limit=4&cursor=${encodeURIComponent(page.next)}`;
    }
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => `s${i}`));
  });

  it('filters by line, type list, commandId, time range (ms or ISO), newest first', async () => {
    const ids = async (q: string) =>
      ((await get(`/events?${q}`)).body as unknown as Page).events.map((e) => e.eventId);
    expect(await ids('line=line-1')).toEqual(['step-start', 'step-done', 'line-ev']);
    expect(await ids('type=cycle,command&limit=10')).toEqual([
      'c9-done',
      'c9-rcv',
      'c9-acc',
      'line-ev',
    ]);
    expect(await ids('commandId=c-9&order=desc')).toEqual([
      'step-done',
      'step-start',
      'c9-acc',
      'c9-rcv',
      'c9-done',
    ]);
    expect(await ids('commandId=c-10')).toEqual(['step-start', 'step-done']);
    expect(await ids('from=2020&to=2023')).toEqual(['s20', 's21', 's22']);
    expect(await ids('from=1970-01-01T00:00:03.000Z')).toEqual(['line-ev']);
  });

  it('has /drives/{id}/events and /lines/{id}/events', async () => {
    const d = (await get('/drives/axis-2/events?limit=2')).body as unknown as Page;
    expect(d.events.map((e) => e.eventId)).toEqual(['s1', 's3']);
    expect(d.next).toEqual(expect.any(String));
    const l = (await get('/lines/line-1/events')).body as unknown as Page;
    expect(l.events.map((e) => e.eventId)).toEqual(['step-start', 'step-done', 'line-ev']);
  });

  it.each([
    ['/events?limit=0', '/limit', /limit must be 1–1000/],
    ['/events?limit=5000', '/limit', /limit must be 1–1000/],
    ['/events?limit=ten', '/limit', /limit/],
    ['/events?colour=red', '/colour', /unknown parameter/],
    ['/events?drive=a/b', '/drive', /drive/],
    ['/events?drive=a&drive=b', '/drive', /drive/],
    ['/events?from=yesterday', '/from', /neither ms since the epoch nor an ISO 8601/],
    ['/events?from=200&to=100', '/from', /after to/],
    ['/events?order=up', '/order', /order/],
    ['/events?type=a%20b', '/type', /type/],
    ['/events?cursor=garbage', '/cursor', /not a cursor this journal issued/],
    ['/drives/axis-1/events?drive=axis-2', '/drive', /unknown parameter/],
    ['/drives/a+b/events', '/id', /id/],
  ])('%s → 400 BAD_REQUEST naming %s', async (url, path, message) => {
    const { status, body } = await get(url);
    expect(status).toBe(400);
    const error = body.error as { code: string; message: string; path: string };
    expect(error.code).toBe('BAD_REQUEST');
    expect(error.path).toBe(path);
    expect(error.message).toMatch(message);
  });

  it('refuses a cursor replayed with other filters', async () => {
    const first = (await get('/events?drive=axis-2&limit=1')).body as unknown as Page;
    const { status, body } = await get(
      `/events?drive=axis-3&limit=1&cursor=${encodeURIComponent(first.next!)}`,
    );
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ code: 'BAD_REQUEST', path: '/cursor' });
  });
});

describe('GET /commands/{commandId}', () => {
  it('gives the history in lifecycle order: issued, received, accepted, final, step end', async () => {
    const { status, body } = await get('/commands/c-9');
    expect(status).toBe(200);
    expect(body).toMatchObject({
      commandId: 'c-9',
      driveId: 'axis-1',
      lineId: 'line-1',
      commandType: 'moveTo',
      status: 'completed',
      final: true,
    });
    expect((body.events as { eventId: string }[]).map((e) => e.eventId)).toEqual([
      'step-start',
      'c9-rcv',
      'c9-acc',
      'c9-done',
      'step-done',
    ]);
  });

  it('has no status yet for a command only issued so far', async () => {
    const { status, body } = await get('/commands/c-10');
    expect(status).toBe(200);
    expect(body).toMatchObject({ driveId: null, lineId: 'line-1', status: null, final: false });
  });

  it('answers 404 NOT_FOUND for a command it has no event of', async () => {
    const { status, body } = await get('/commands/c-unknown');
    expect(status).toBe(404);
    expect(body.error).toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('admin routes and unknown routes', () => {
  it('serves /healthz, /readyz (503 when not ready) and /metrics', async () => {
    expect(await get('/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
    expect((await get('/readyz')).status).toBe(200);
    ready = false;
    expect(await get('/readyz')).toEqual({
      status: 503,
      body: { status: 'not ready', details: { mqtt: 'disconnected' } },
    });
    ready = true;
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/plain/);
  });

  it('answers 404 NOT_FOUND for an unknown route', async () => {
    const { status, body } = await get('/nope');
    expect(status).toBe(404);
    expect(body.error).toMatchObject({ code: 'NOT_FOUND' });
  });
});
