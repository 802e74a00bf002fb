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

  constructor(clock: Clock) {
    this.#clock = clock;
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
        this.#clock.setTimer(wait, check);
      };
      check();
    });
  }
}
