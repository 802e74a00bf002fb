/**
 * The simulator's clock, passed in everywhere time decides behaviour (physics,
 * pacing, turnaround, faults). `realClock` follows the wall clock; `ManualClock` is
 * stepped by tests and benchmarks as fast as they like, so a run replays exactly.
 */

export interface TimerHandle {
  readonly id: number;
}

export interface Clock {
  /** Monotonic milliseconds (fractional). */
  now(): number;
  /** Run `fn` once, `delayMs` from now (≥ 0). */
  setTimer(delayMs: number, fn: () => void): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

interface Pending {
  id: number;
  at: number;
  seq: number;
  fn: () => void;
}

/** A clock that moves only when told to. Timers fire in due order, ties in creation order. */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: Pending[] = [];

  constructor(startMs = 0) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimer(delayMs: number, fn: () => void): TimerHandle {
    const t: Pending = {
      id: ++this.#seq,
      at: this.#now + Math.max(0, delayMs),
      seq: this.#seq,
      fn,
    };
    // Keep the list sorted by (at, seq); timers are few, so insertion is cheap.
    let i = this.#timers.length;
    while (i > 0 && this.#timers[i - 1]!.at > t.at) i--;
    this.#timers.splice(i, 0, t);
    return { id: t.id };
  }

  clearTimer(handle: TimerHandle): void {
    const i = this.#timers.findIndex((t) => t.id === handle.id);
    if (i >= 0) this.#timers.splice(i, 1);
  }

  /** Move time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      const next = this.#timers[0];
      if (!next || next.at > end) break;
      this.#timers.shift();
      this.#now = Math.max(this.#now, next.at);
      next.fn();
    }
    this.#now = end;
  }

  /** Fire timers until none is left due within `maxMs` (for draining pacing queues). */
  runFor(maxMs: number): void {
    this.advance(maxMs);
  }

  get pendingTimers(): number {
    return this.#timers.length;
  }
}

/** Wall-clock time from `performance.now()` with Node timers. */
export const realClock: Clock = {
  now: () => performance.now(),
  setTimer(delayMs, fn) {
    const t = setTimeout(fn, Math.max(0, delayMs));
    return { id: Number(t[Symbol.toPrimitive]()) };
  },
  clearTimer(handle) {
    clearTimeout(handle.id);
  },
};

/**
 * Wall-clock timers that land within a few microseconds of their due time: a
 * setTimeout to within `spinMs`, then setImmediate turns until due. For benchmarks
 * that measure a paced link against its theoretical limit, where Node's millisecond
 * timer granularity would otherwise be measured instead. Costs CPU while waiting.
 */
export function createPreciseClock(spinMs = 1.5): Clock {
  let seq = 0;
  const live = new Map<
    number,
    { kind: 'timeout' | 'immediate'; h: NodeJS.Timeout | NodeJS.Immediate }
  >();
  return {
    now: () => performance.now(),
    setTimer(delayMs, fn) {
      const id = ++seq;
      const due = performance.now() + Math.max(0, delayMs);
      const tick = () => {
        const left = due - performance.now();
        if (left <= 0) {
          live.delete(id);
          fn();
        } else if (left > spinMs) {
          live.set(id, { kind: 'timeout', h: setTimeout(tick, left - spinMs) });
        } else {
          live.set(id, { kind: 'immediate', h: setImmediate(tick) });
        }
      };
      // Never synchronously: like setTimeout, the callback runs on a later turn.
      if (delayMs > spinMs)
        live.set(id, { kind: 'timeout', h: setTimeout(tick, delayMs - spinMs) });
      else live.set(id, { kind: 'immediate', h: setImmediate(tick) });
      return { id };
    },
    clearTimer(handle) {
      const t = live.get(handle.id);
      if (!t) return;
      if (t.kind === 'timeout') clearTimeout(t.h as NodeJS.Timeout);
      else clearImmediate(t.h as NodeJS.Immediate);
      live.delete(handle.id);
    },
  };
}
