/**
 * The clock every service takes where time decides behaviour (timeouts, breakers,
 * poll deadlines, command deadlines): `systemClock` in production, a manual clock in
 * tests (STYLE.md §9). `now()` is monotonic ms for intervals; `wallNow()` is ms since
 * the epoch for `ts` fields and deadlines on the wire.
 */
export interface TimerHandle {
  readonly id: number;
}

export interface Clock {
  now(): number;
  wallNow(): number;
  setTimer(delayMs: number, fn: () => void): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimer(delayMs, fn) {
    const t = setTimeout(fn, Math.max(0, delayMs));
    return { id: Number(t[Symbol.toPrimitive]()) };
  },
  clearTimer(handle) {
    clearTimeout(handle.id);
  },
};

interface Pending {
  id: number;
  at: number;
  fn: () => void;
}

/** A clock that moves only when told to; timers fire in due order, ties in creation order. */
export class ManualClock implements Clock {
  #now: number;
  #epoch: number;
  #seq = 0;
  #timers: Pending[] = [];

  constructor(startMs = 0, epochMs = 1_764_000_000_000) {
    this.#now = startMs;
    this.#epoch = epochMs;
  }

  now(): number {
    return this.#now;
  }

  wallNow(): number {
    return this.#epoch + this.#now;
  }

  setTimer(delayMs: number, fn: () => void): TimerHandle {
    const t: Pending = { id: ++this.#seq, at: this.#now + Math.max(0, delayMs), fn };
    let i = this.#timers.length;
    while (i > 0 && this.#timers[i - 1]!.at > t.at) i--;
    this.#timers.splice(i, 0, t);
    return { id: t.id };
  }

  clearTimer(handle: TimerHandle): void {
    const i = this.#timers.findIndex((t) => t.id === handle.id);
    if (i >= 0) this.#timers.splice(i, 1);
  }

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
}
