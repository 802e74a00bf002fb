/**
 * The SQLite store: append idempotent on eventId, queries by each filter, cursor
 * pagination that returns every matching row exactly once, retention.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { type EventQuery, type EventStore, openEventStore } from '../src/index.ts';
import { openDatabase } from '../src/store/sqlite.ts';
import { row } from './fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'servofleet-journal-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const fresh = () => openEventStore(join(dir, `s${++files}.db`));

const ids = (s: EventStore, q: Partial<EventQuery> = {}) =>
  s
    .query({ limit: 1000, order: 'asc', ...q })
    .events.map((e) => (JSON.parse(e.json) as { eventId: string }).eventId);

describe('append', () => {
  it('stores each eventId once, however often it is appended', () => {
    const s = fresh();
    const a = row({ eventId: 'a' });
    const b = row({ eventId: 'b' });
    expect(s.append([a, b])).toEqual({ inserted: 2, duplicates: 0 });
    expect(s.append([a, row({ eventId: 'c' }), b])).toEqual({ inserted: 1, duplicates: 2 });
    // A duplicate inside one batch, too.
    expect(s.append([row({ eventId: 'd' }), row({ eventId: 'd' })])).toEqual({
      inserted: 1,
      duplicates: 1,
    });
    expect(ids(s).sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(s.rowCount()).toBe(4);
    s.close();
  });

  it('keeps what it stored across a reopen, in WAL mode with synchronous=FULL', () => {
    const path = join(dir, 'reopen.db');
    const s = openEventStore(path);
    s.append([row({ eventId: 'x', ts: 5 }), row({ eventId: 'y', ts: 6 })]);
    s.close();
    const db = openDatabase(path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    const again = openEventStore(path);
    expect(ids(again)).toEqual(['x', 'y']);
    expect(again.rowCount()).toBe(2);
    expect(again.append([row({ eventId: 'x' })]).duplicates).toBe(1);
    again.close();
  });

  it('refuses a database written by a newer schema, with JOURNAL_DB_OPEN', () => {
    const path = join(dir, 'newer.db');
    const db = openDatabase(path);
    db.pragma('user_version = 99');
    db.close();
    expect(() => openEventStore(path)).toThrow(
      expect.objectContaining({ code: 'JOURNAL_DB_OPEN' }),
    );
  });

  it('refuses a file that is not a database, with JOURNAL_DB_OPEN', () => {
    expect(() => openEventStore('/proc/version')).toThrow(
      expect.objectContaining({ code: 'JOURNAL_DB_OPEN' }),
    );
  });
});

describe('query', () => {
  const s = fresh();
  s.append([
    row({ eventId: 'd1-state', driveId: 'axis-1', type: 'state', ts: 100 }),
    row({
      eventId: 'd1-rcv',
      driveId: 'axis-1',
      type: 'command',
      commandId: 'c-1',
      phase: 'received',
      ts: 110,
    }),
    row({ eventId: 'd2-fault', driveId: 'axis-2', type: 'fault', ts: 120 }),
    row({ eventId: 'l1-cycle', driveId: null, lineId: 'line-1', type: 'cycle', ts: 130 }),
    row({
      eventId: 'd1-done',
      driveId: 'axis-1',
      type: 'command',
      commandId: 'c-1',
      phase: 'completed',
      ts: 140,
    }),
    row({ eventId: 'l1-step', lineId: 'line-1', driveId: 'axis-2', type: 'step', ts: 150 }),
  ]);

  it('returns everything in ts order', () => {
    expect(ids(s)).toEqual(['d1-state', 'd1-rcv', 'd2-fault', 'l1-cycle', 'd1-done', 'l1-step']);
    expect(ids(s, { order: 'desc' })).toEqual([
      'l1-step',
      'd1-done',
      'l1-cycle',
      'd2-fault',
      'd1-rcv',
      'd1-state',
    ]);
  });

  it('filters by drive, line, type, commandId and time range', () => {
    expect(ids(s, { drive: 'axis-1' })).toEqual(['d1-state', 'd1-rcv', 'd1-done']);
    expect(ids(s, { line: 'line-1' })).toEqual(['l1-cycle', 'l1-step']);
    expect(ids(s, { types: ['command'] })).toEqual(['d1-rcv', 'd1-done']);
    expect(ids(s, { types: ['fault', 'cycle'] })).toEqual(['d2-fault', 'l1-cycle']);
    expect(ids(s, { commandId: 'c-1' })).toEqual(['d1-rcv', 'd1-done']);
    expect(ids(s, { from: 110, to: 140 })).toEqual(['d1-rcv', 'd2-fault', 'l1-cycle']);
    expect(ids(s, { from: 141 })).toEqual(['l1-step']);
    expect(ids(s, { drive: 'axis-2', line: 'line-1' })).toEqual(['l1-step']);
    expect(ids(s, { drive: 'axis-1', types: ['fault'] })).toEqual([]);
    expect(ids(s, { drive: 'nope' })).toEqual([]);
  });

  it('deletes the command index of deleted events', () => {
    const x = openEventStore(':memory:');
    x.append([
      row({ eventId: 'k1', commandIds: ['k', 'l'], arrived: 1 }),
      row({ eventId: 'k2', commandId: 'k', arrived: 5 }),
    ]);
    expect(x.commandHistory('l')).toHaveLength(1);
    expect(x.pruneChunk({ arrivedBefore: 2 })).toBe(1);
    expect(x.commandHistory('l')).toEqual([]);
    expect(x.commandHistory('k').map((e) => JSON.parse(e.json).eventId)).toEqual(['k2']);
  });

  it('gives the history of one command with its phases', () => {
    expect(s.commandHistory('c-1').map((e) => [e.phase, e.driveId])).toEqual([
      ['received', 'axis-1'],
      ['completed', 'axis-1'],
    ]);
    expect(s.commandHistory('c-none')).toEqual([]);
  });
});

describe('cursor pagination', () => {
  it('covers every matching row exactly once, in order, whatever the page size', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ ts: fc.integer({ min: 0, max: 20 }), drive: fc.boolean() }), {
          maxLength: 60,
        }),
        fc.integer({ min: 1, max: 7 }),
        fc.constantFrom<'asc' | 'desc'>('asc', 'desc'),
        fc.boolean(),
        (specs, limit, order, onlyAxis1) => {
          const s = openEventStore(':memory:');
          s.append(
            specs.map((sp, i) =>
              row({ eventId: `p${i}`, ts: sp.ts, driveId: sp.drive ? 'axis-1' : 'axis-2' }),
            ),
          );
          const filter = onlyAxis1 ? { drive: 'axis-1' } : {};
          const seen: string[] = [];
          let after: EventQuery['after'];
          for (let pages = 0; pages < 100; pages++) {
            const page = s.query({ ...filter, limit, order, ...(after ? { after } : {}) });
            seen.push(
              ...page.events.map((e) => (JSON.parse(e.json) as { eventId: string }).eventId),
            );
            expect(page.events.length).toBeLessThanOrEqual(limit);
            if (!page.more) break;
            expect(page.events.length).toBe(limit);
            after = page.events.at(-1)!;
          }
          const expected = specs
            .map((sp, i) => ({ ...sp, id: `p${i}`, seq: i }))
            .filter((sp) => !onlyAxis1 || sp.drive)
            .sort((a, b) => (a.ts - b.ts || a.seq - b.seq) * (order === 'asc' ? 1 : -1))
            .map((sp) => sp.id);
          expect(seen).toEqual(expected);
          s.close();
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('pruneChunk (retention)', () => {
  it('deletes events that arrived before the limit, a chunk at a time', () => {
    const s = openEventStore(':memory:');
    s.append(Array.from({ length: 10 }, (_, i) => row({ eventId: `a${i}`, arrived: 1000 + i })));
    expect(s.pruneChunk({ arrivedBefore: 1005, chunk: 3 })).toBe(3);
    expect(s.pruneChunk({ arrivedBefore: 1005, chunk: 3 })).toBe(2);
    expect(s.pruneChunk({ arrivedBefore: 1005, chunk: 3 })).toBe(0);
    expect(ids(s)).toEqual(['a5', 'a6', 'a7', 'a8', 'a9']);
    expect(s.rowCount()).toBe(5);
  });

  it('keeps only the newest maxRows events by arrival', () => {
    const s = openEventStore(':memory:');
    // ts order differs from arrival order: size retention goes by arrival.
    s.append(Array.from({ length: 10 }, (_, i) => row({ eventId: `m${i}`, ts: 100 - i })));
    let deleted = 0;
    for (
      let n = s.pruneChunk({ maxRows: 4, chunk: 4 });
      n > 0;
      n = s.pruneChunk({ maxRows: 4, chunk: 4 })
    )
      deleted += n;
    expect(deleted).toBe(6);
    expect(ids(s)).toEqual(['m9', 'm8', 'm7', 'm6']);
    expect(s.rowCount()).toBe(4);
    // Sequence numbers keep growing after deletes (AUTOINCREMENT): cursors stay valid.
    s.append([row({ eventId: 'late', ts: 1 })]);
    const seqs = s.query({ limit: 10, order: 'asc' }).events.map((e) => e.seq);
    expect(Math.min(...seqs)).toBe(7);
    expect(Math.max(...seqs)).toBe(11);
  });
});
