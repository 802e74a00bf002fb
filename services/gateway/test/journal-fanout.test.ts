/**
 * `GET /api/v1/events` over several journals that split the stream (MQTT 5 shared
 * subscription): one merged history, paged with the gateway's own cursor, never
 * repeating or skipping an event; refusals relayed, a silent journal a 503. The
 * gateway process asks the journals its fleet file lists (`gateway.journals`,
 * `SERVOFLEET_JOURNAL_URLS`), by default the one at `journal.host:journal.port`.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { parseFleet, startEmbeddedBroker } from '../../runtime/src/index.ts';
import { freePort } from '../../runtime/test/helpers.ts';
import { startGateway } from '../src/gateway.ts';
import { httpJournals, journalFanOut } from '../src/journal-fanout.ts';
import type { JournalPort, Relayed } from '../src/ports.ts';
import { fleetYaml, KEYS, silent, type TestGateway, testGateway } from './helpers.ts';

interface Ev {
  eventId: string;
  ts: number;
  driveId: string;
}

/**
 * A journal's query API as the journal answers it: events by (ts, arrival), `order`,
 * `limit` (default 100), `drive`, and an opaque cursor holding the position of the last
 * event of the page (an event that arrives later before that position is not in the
 * following pages).
 */
function fakeJournal(name: string) {
  const rows: (Ev & { seq: number })[] = [];
  const calls: Record<string, string>[] = [];
  let seq = 0;
  let onQuery: (() => void) | undefined;
  const port: JournalPort = {
    async query(q): Promise<Relayed> {
      calls.push(q);
      onQuery?.();
      const limit = q.limit === undefined ? 100 : Number(q.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
        return {
          status: 400,
          body: { error: { code: 'BAD_REQUEST', message: 'limit', path: '/limit' } },
        };
      }
      const dir = q.order === 'desc' ? -1 : 1;
      const key = (r: { ts: number; seq: number }) => [r.ts, r.seq] as const;
      const cmp = (a: readonly number[], b: readonly number[]) =>
        dir * (a[0]! - b[0]! || a[1]! - b[1]!);
      const after = q.cursor
        ? (JSON.parse(q.cursor.slice(name.length + 1)) as number[])
        : undefined;
      const sorted = rows
        .filter((r) => q.drive === undefined || r.driveId === q.drive)
        .filter((r) => after === undefined || cmp(key(r), after) > 0)
        .sort((a, b) => cmp(key(a), key(b)));
      const page = sorted.slice(0, limit);
      const last = page.at(-1);
      return {
        status: 200,
        body: {
          events: page.map(({ seq: _, ...e }) => e),
          next: sorted.length > limit && last ? `${name}:${JSON.stringify(key(last))}` : null,
        },
      };
    },
  };
  return {
    port,
    calls,
    add(...evs: Ev[]) {
      for (const e of evs) rows.push({ ...e, seq: seq++ });
    },
    onQuery(f: (() => void) | undefined) {
      onQuery = f;
    },
  };
}

/** Every page of `q` through `port`, following `next`. */
async function allPages(port: JournalPort, q: Record<string, string>) {
  const pages: string[][] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 100; i++) {
    const r = await port.query({ ...q, ...(cursor ? { cursor } : {}) });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const b = r.body as { events: Ev[]; next: string | null };
    pages.push(b.events.map((e) => e.eventId));
    if (b.next === null) return pages;
    cursor = b.next;
  }
  throw new Error('more than 100 pages');
}

/** Splits events between journals a and b as a shared subscription would. */
function split(evs: Ev[], pick: (i: number) => 0 | 1) {
  const a = fakeJournal('a');
  const b = fakeJournal('b');
  for (const [i, e] of evs.entries()) (pick(i) === 0 ? a : b).add(e);
  return { a, b, fan: journalFanOut([a.port, b.port]) };
}

const ev = (eventId: string, ts: number, driveId = 'axis-1'): Ev => ({ eventId, ts, driveId });

describe('the event history over several journals', () => {
  let g: TestGateway | undefined;
  afterEach(async () => {
    await g?.close();
    g = undefined;
  });

  it('merges the journals’ pages by ts, pages never repeat or skip an event', async () => {
    // Ties within and across journals; the split is uneven (a gets runs of events).
    const evs = Array.from({ length: 23 }, (_, i) => ev(`e${i}`, 1000 + Math.floor(i / 2)));
    const { a, b, fan } = split(evs, (i) => (i % 5 < 3 ? 0 : 1));
    const merged = [...evs].sort(
      (x, y) =>
        x.ts - y.ts ||
        Number(evs.indexOf(x) % 5 >= 3) - Number(evs.indexOf(y) % 5 >= 3) ||
        evs.indexOf(x) - evs.indexOf(y),
    );
    for (const limit of [1, 3, 4, 7, 23, 100]) {
      const pages = await allPages(fan, { limit: String(limit) });
      expect(pages.flat()).toEqual(merged.map((e) => e.eventId));
      expect(pages.slice(0, -1).every((p) => p.length === limit)).toBe(true);
    }
    const desc = await allPages(fan, { limit: '4', order: 'desc' });
    expect(desc.flat()).toEqual(
      [...evs]
        .sort(
          (x, y) =>
            y.ts - x.ts ||
            Number(evs.indexOf(x) % 5 >= 3) - Number(evs.indexOf(y) % 5 >= 3) ||
            evs.indexOf(y) - evs.indexOf(x),
        )
        .map((e) => e.eventId),
    );
    // The filters go to every journal as they are; the gateway's cursor does not.
    expect(a.calls[0]).toEqual({ limit: '1' });
    expect(b.calls.every((q) => q.cursor === undefined || q.cursor.startsWith('b:'))).toBe(true);
    expect(a.calls.every((q) => q.cursor === undefined || q.cursor.startsWith('a:'))).toBe(true);
  });

  it('filters apply in every journal; a journal with nothing left is not asked again', async () => {
    const evs = [
      ev('x1', 1, 'axis-1'),
      ev('x2', 2, 'axis-2'),
      ev('x3', 3, 'axis-1'),
      ev('x4', 4, 'axis-1'),
      ev('x5', 5, 'axis-1'),
    ];
    const { b, fan } = split(evs, (i) => (i === 0 ? 1 : 0));
    const pages = await allPages(fan, { drive: 'axis-1', limit: '2' });
    expect(pages).toEqual([
      ['x1', 'x3'],
      ['x4', 'x5'],
    ]);
    // b had one event, taken on the first page: only asked once.
    expect(b.calls).toEqual([{ drive: 'axis-1', limit: '2' }]);
  });

  it('an event arriving in a journal between its page and the cursor for it is not repeated', async () => {
    const evs = Array.from({ length: 8 }, (_, i) => ev(`e${i}`, 100 + i * 10));
    const { a, fan } = split(evs, (i) => (i % 2 === 0 ? 0 : 1));
    // a: e0 e2 e4 e6 (100, 120, 140, 160); b: e1 e3 e5 e7 (110, 130, 150, 170).
    // A page of 3 takes e0 e1 e2: a's page of 3 was only partly taken, so a is asked
    // again for a cursor after e2 — and by then e-late (ts 105) has arrived there.
    a.onQuery(() => {
      if (a.calls.length === 2) a.add(ev('e-late', 105));
    });
    const first = await fan.query({ limit: '3' });
    expect((first.body as { events: Ev[] }).events.map((e) => e.eventId)).toEqual([
      'e0',
      'e1',
      'e2',
    ]);
    a.onQuery(undefined);
    const rest = await allPages(fan, {
      limit: '3',
      cursor: (first.body as { next: string }).next,
    });
    expect(rest.flat()).toEqual(['e3', 'e4', 'e5', 'e6', 'e7']);
  });

  it('a refusal is relayed; a bad cursor is a 400 naming /cursor; one journal is a plain relay', async () => {
    const { a, fan } = split([ev('e0', 1), ev('e1', 2)], (i) => (i === 0 ? 0 : 1));
    const bad = await fan.query({ limit: '0' });
    expect(bad).toEqual({
      status: 400,
      body: { error: { code: 'BAD_REQUEST', message: 'limit', path: '/limit' } },
    });
    for (const cursor of ['nope', Buffer.from('["sf-journals-1",[null]]').toString('base64url')]) {
      const r = await fan.query({ cursor });
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ error: { code: 'BAD_REQUEST', path: '/cursor' } });
    }
    expect(journalFanOut([a.port])).toBe(a.port);
    expect(() => journalFanOut([])).toThrow(/no journal/);
  });

  it('through the gateway: one history from both; a journal that does not answer is a 503, not half a history', async () => {
    const { a, b } = split([ev('e0', 1), ev('e1', 2), ev('e2', 3)], (i) => (i === 1 ? 1 : 0));
    g = await testGateway({ deps: { journal: journalFanOut([a.port, b.port]) } });
    const r = await g.app.inject({ url: '/api/v1/events?limit=10', headers: g.auth('viewer') });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({
      events: [ev('e0', 1), ev('e1', 2), ev('e2', 3)],
      next: null,
    });
    await g.close();
    // Over HTTP: the first journal answers, nothing listens where the second should.
    const up = Fastify({ logger: false });
    up.get('/events', async () => ({ events: [ev('e0', 1)], next: null }));
    await up.listen({ host: '127.0.0.1', port: 0 });
    const downUrl = `http://127.0.0.1:${await freePort()}`;
    try {
      const upUrl = `http://127.0.0.1:${(up.server.address() as { port: number }).port}`;
      g = await testGateway({ deps: { journal: httpJournals([upUrl, downUrl]) } });
      const down = await g.app.inject({ url: '/api/v1/events', headers: g.auth('viewer') });
      expect(down.statusCode).toBe(503);
      expect(down.json().error.code).toBe('SERVICE_UNAVAILABLE');
      expect(down.json().error.message).toContain(downUrl);
      await g.close();
      g = await testGateway({ deps: { journal: httpJournals([upUrl]) } });
      const one = await g.app.inject({ url: '/api/v1/events', headers: g.auth('viewer') });
      expect(one.json()).toEqual({ events: [ev('e0', 1)], next: null });
    } finally {
      await up.close();
    }
  });

  it('the gateway process asks every journal of gateway.journals, or SERVOFLEET_JOURNAL_URLS, or the one at journal.host:port', async () => {
    // Two journals' query APIs over HTTP, each with its share of the history.
    const asked: string[] = [];
    const journals: FastifyInstance[] = [];
    const urls: string[] = [];
    for (const [name, evs] of [
      ['a', [ev('a0', 1), ev('a1', 3)]],
      ['b', [ev('b0', 2)]],
    ] as const) {
      const j = Fastify({ logger: false });
      j.get('/events', async () => {
        asked.push(name);
        return { events: evs, next: null };
      });
      await j.listen({ host: '127.0.0.1', port: 0 });
      journals.push(j);
      urls.push(`http://127.0.0.1:${(j.server.address() as { port: number }).port}`);
    }
    const [urlA, urlB] = urls as [string, string];
    const broker = await startEmbeddedBroker({ port: 0, log: silent });
    /**
     * The history through a gateway started with this `gateway.journals` (YAML, or none),
     * other top-level fleet file text, and environment.
     */
    const history = async (
      o: { journals?: string; top?: string; env?: Record<string, string> } = {},
    ) => {
      asked.length = 0;
      // fleetYaml ends inside the gateway section.
      const gateway = o.journals === undefined ? '' : `  journals: ${o.journals}\n`;
      const fleet = parseFleet(
        `${fleetYaml(gateway)}broker: { url: ${broker.url}, embedded: false }\n${o.top ?? ''}`,
        'fleet',
        o.env ?? {},
      );
      const gw = await startGateway({ fleet, log: silent, port: 0, instanceId: 'fanout' });
      try {
        const r = await fetch(`${gw.url}/api/v1/events?limit=10`, {
          headers: { authorization: `Bearer ${KEYS.viewer}` },
        });
        expect(r.status).toBe(200);
        const body = (await r.json()) as { events: Ev[] };
        return { ids: body.events.map((e) => e.eventId), asked: [...asked].sort() };
      } finally {
        await gw.close();
      }
    };
    try {
      // Two in the fleet file: both asked, one history merged by ts.
      expect(await history({ journals: `[${urlA}, ${urlB}/]` })).toEqual({
        ids: ['a0', 'b0', 'a1'],
        asked: ['a', 'b'],
      });
      // The environment replaces the file's list.
      expect(
        await history({
          journals: `[${urlA}]`,
          env: { SERVOFLEET_JOURNAL_URLS: `${urlB},${urlA}` },
        }),
      ).toEqual({ ids: ['a0', 'b0', 'a1'], asked: ['a', 'b'] });
      expect(await history({ env: { SERVOFLEET_JOURNAL_URLS: urlB } })).toEqual({
        ids: ['b0'],
        asked: ['b'],
      });
      // Neither: the one journal at journal.host:journal.port, as before.
      const top = `journal: { host: 127.0.0.1, port: ${new URL(urlA).port} }\n`;
      expect(await history({ top })).toEqual({ ids: ['a0', 'a1'], asked: ['a'] });
    } finally {
      await broker.close();
      for (const j of journals) await j.close();
    }
  });
});
