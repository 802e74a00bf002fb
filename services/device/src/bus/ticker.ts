/**
 * A periodic timer on deadlines, so poll intervals do not drift (EdgeX device-modbus
 * re-arms from "now" and drifts; DESIGN.md "What the anchors get wrong"): the next
 * deadline is the previous deadline + period, and deadlines already missed (a slow
 * transaction, a stalled host) are skipped rather than fired in a burst.
 */
import type { Clock, TimerHandle } from '../../../runtime/src/clock.ts';

export class Ticker {
  readonly #clock: Clock;
  readonly #periodMs: number;
  readonly #fn: () => void;
  #next = 0;
  #timer: TimerHandle | undefined;
  /** Bumped by start/stop, so a callback that restarts the ticker is not re-armed twice. */
  #gen = 0;
  /** Deadlines skipped because they had passed. */
  missed = 0;

  constructor(clock: Clock, periodMs: number, fn: () => void) {
    this.#clock = clock;
    this.#periodMs = periodMs;
    this.#fn = fn;
  }

  /** First tick `offsetMs` from now, then every period. */
  start(offsetMs = 0): void {
    this.stop();
    this.#next = this.#clock.now() + offsetMs;
    this.#arm();
  }

  stop(): void {
    this.#gen++;
    if (this.#timer) this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
  }

  #arm(): void {
    this.#timer = this.#clock.setTimer(this.#next - this.#clock.now(), () => {
      this.#timer = undefined;
      const gen = this.#gen;
      this.#fn();
      if (gen !== this.#gen) return;
      const now = this.#clock.now();
      this.#next += this.#periodMs;
      if (this.#next <= now) {
        const skip = Math.floor((now - this.#next) / this.#periodMs) + 1;
        this.missed += skip;
        this.#next += skip * this.#periodMs;
      }
      this.#arm();
    });
  }
}
