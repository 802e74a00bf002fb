/**
 * Keeps the next request off the wire until the line has been quiet for a while after
 * a timeout, so that a late reply to the abandoned request drains away instead of
 * being taken for the next answer. The wait restarts while bytes keep arriving, up to
 * a cap (a line that never goes quiet must not stall the bus).
 */
import type { Clock } from '../../../runtime/src/clock.ts';

export class LineGuard {
  readonly #clock: Clock;
  #lastDataAt = Number.NEGATIVE_INFINITY;
  #quietMs = 0;
  #since = 0;
  #capMs = 0;

  readonly #soon: ((fn: () => void) => void) | undefined;

  /**
   * `soon`, when given, runs a callback on the next event-loop turn; waits shorter than
   * a millisecond use it instead of a timer (Node rounds timers up to whole
   * milliseconds, which would stretch every 1.75 ms Modbus silence to 2–3 ms). Only for
   * the wall clock: a manual clock would never move while it spins.
   */
  constructor(clock: Clock, soon?: (fn: () => void) => void) {
    this.#clock = clock;
    this.#soon = soon;
  }

  /** Bytes arrived. */
  noteData(): void {
    this.#lastDataAt = this.#clock.now();
  }

  /** A transaction timed out: the next request waits for `quietMs` of silence (≤ `capMs`). */
  requireQuiet(quietMs: number, capMs: number): void {
    this.#quietMs = quietMs;
    this.#capMs = capMs;
    this.#since = this.#clock.now();
  }

  /** Resolves when the next request may go on the wire. */
  ready(): Promise<void> {
    if (this.#quietMs === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        const target = Math.min(
          Math.max(this.#lastDataAt, this.#since) + this.#quietMs,
          this.#since + this.#capMs,
        );
        const wait = target - this.#clock.now();
        // 1 µs of tolerance: a timer set for `wait` may land a rounding error short
        if (wait <= 1e-3) {
          this.#quietMs = 0;
          resolve();
          return;
        }
        if (this.#soon && wait < 1) this.#soon(check);
        else this.#clock.setTimer(this.#soon ? wait - 1 + 1e-3 : wait, check);
      };
      check();
    });
  }
}
