/**
 * Retention: events older than `days` (by arrival) and the oldest beyond `maxRows` are
 * deleted, at start and then every `intervalMs` on the clock passed in. Deletion goes
 * in chunks, yielding to the event loop between them, so appends and queries keep
 * going while a large backlog is pruned.
 */
import type { Clock, Logger, TimerHandle } from '../../runtime/src/index.ts';
import type { EventStore } from './store/event-store.ts';

const DAY_MS = 86_400_000;

export interface RetentionOptions {
  store: Pick<EventStore, 'pruneChunk'>;
  clock: Clock;
  log: Logger;
  days: number;
  maxRows: number;
  /** Default one hour. */
  intervalMs?: number;
  /** Rows per DELETE (default 5000). */
  chunk?: number;
  /** Called after each pass with the rows it deleted. */
  onPass?: (deleted: number) => void;
}

export interface Retention {
  /** One full pass now (chunk after chunk until within limits); resolves with rows deleted. */
  run(): Promise<number>;
  /** No more passes; resolves once a pass under way has stopped between two chunks. */
  stop(): Promise<void>;
}

export function startRetention(o: RetentionOptions): Retention {
  const every = o.intervalMs ?? 3_600_000;
  let timer: TimerHandle | undefined;
  let stopped = false;
  let running: Promise<number> | undefined;

  async function pass(): Promise<number> {
    const limits = {
      arrivedBefore: o.clock.wallNow() - o.days * DAY_MS,
      maxRows: o.maxRows,
      ...(o.chunk ? { chunk: o.chunk } : {}),
    };
    let total = 0;
    for (;;) {
      if (stopped) break;
      const n = o.store.pruneChunk(limits);
      total += n;
      if (n === 0) break;
      await new Promise((r) => setImmediate(r));
    }
    if (total > 0) o.log.info({ deleted: total, ...limits }, `retention: deleted ${total} events`);
    o.onPass?.(total);
    return total;
  }

  function run(): Promise<number> {
    running ??= pass()
      .catch((err: unknown) => {
        o.log.error({ err }, 'retention pass failed');
        return 0;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  }

  function arm() {
    if (stopped) return;
    timer = o.clock.setTimer(every, () => {
      void run().then(arm);
    });
  }

  arm();
  return {
    run,
    async stop() {
      stopped = true;
      if (timer) o.clock.clearTimer(timer);
      await running;
    },
  };
}
