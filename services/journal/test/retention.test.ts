/** Retention on a manual clock: a pass at start, then one every interval. */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../runtime/src/index.ts';
import { openEventStore, startRetention } from '../src/index.ts';
import { row } from './fixtures.ts';

const DAY = 86_400_000;
const silent = pino({ level: 'silent' });
const settle = () => new Promise((r) => setTimeout(r, 20));

describe('startRetention', () => {
  it('deletes by age and by size at start, then again each interval', async () => {
    const clock = new ManualClock();
    const now = clock.wallNow();
    const store = openEventStore(':memory:');
    store.append([
      row({ eventId: 'old-1', arrived: now - 3 * DAY }),
      row({ eventId: 'old-2', arrived: now - 2 * DAY - 1 }),
      ...Array.from({ length: 6 }, (_, i) => row({ eventId: `new-${i}`, arrived: now - DAY + i })),
    ]);
    const passes: number[] = [];
    const r = startRetention({
      store,
      clock,
      log: silent,
      days: 2,
      maxRows: 5,
      intervalMs: 60_000,
      chunk: 2,
      onPass: (n) => passes.push(n),
    });
    expect(await r.run()).toBe(3); // two too old, then the oldest beyond 5 rows
    expect(store.rowCount()).toBe(5);
    const left = () =>
      store.query({ limit: 100, order: 'asc' }).events.map((e) => JSON.parse(e.json).eventId);
    expect(left()).toEqual(['new-1', 'new-2', 'new-3', 'new-4', 'new-5']);

    // The next pass is due one interval later, on the clock passed in.
    clock.advance(59_999);
    await settle();
    expect(passes).toEqual([3]);
    clock.advance(1);
    await settle();
    expect(passes).toEqual([3, 0]);
    // A day later the remaining events are past 2 days old by the following pass.
    clock.advance(DAY);
    await settle();
    expect(passes).toEqual([3, 0, 0]);
    clock.advance(60_000);
    await settle();
    expect(passes).toEqual([3, 0, 0, 5]);
    expect(store.rowCount()).toBe(0);
    await r.stop();
    clock.advance(10 * 60_000);
    await settle();
    expect(passes).toEqual([3, 0, 0, 5]);
  });
});
