/**
 * Counters of a bus, for `Bus.stats()` and the metrics the service exports: per drive
 * polls, achieved poll rate over a recent window, timeouts, CRC errors and drive
 * rejections; per link transactions and round-trip latency percentiles (of answered
 * transactions, over the last `LATENCY_SAMPLES`).
 */

const LATENCY_SAMPLES = 1024;
const POLL_TIMES = 64;

export class DriveCounters {
  polls = 0;
  timeouts = 0;
  crcErrors = 0;
  exceptions = 0;
  /** Watch reads (the profile's `watch` objects in idle bus time) and the polls they caused. */
  watches = 0;
  watchPolls = 0;
  /** Writes of the drive's Indirect Address entries. */
  indirectMaps = 0;
  /** The last POLL_TIMES polls' times, a ring (`polls` says where it is). */
  readonly #times = new Float64Array(POLL_TIMES);

  constructor(readonly periodMs: number) {}

  poll(at: number): void {
    this.#times[this.polls % POLL_TIMES] = at;
    this.polls++;
  }

  /** Polls per second over the last max(2 s, 4 periods) (or since `startedAt`). */
  achievedHz(now: number, startedAt: number): number {
    const window = Math.min(Math.max(2000, 4 * this.periodMs), now - startedAt);
    if (!(window > 0)) return 0;
    let n = 0;
    const kept = Math.min(this.polls, POLL_TIMES);
    for (let i = 0; i < kept; i++) if (this.#times[i]! > now - window) n++;
    return (n * 1000) / window;
  }
}

export class LatencySamples {
  readonly #ring = new Float64Array(LATENCY_SAMPLES);
  #count = 0;

  add(ms: number): void {
    this.#ring[this.#count % LATENCY_SAMPLES] = ms;
    this.#count++;
  }

  percentiles(): { p50: number; p99: number } {
    const n = Math.min(this.#count, LATENCY_SAMPLES);
    if (n === 0) return { p50: 0, p99: 0 };
    const sorted = Array.from(this.#ring.subarray(0, n)).sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(n - 1, Math.ceil(q * n) - 1)]!;
    return { p50: at(0.5), p99: at(0.99) };
  }
}
