/**
 * The serial wire between a master and the simulated drives: half-duplex, one byte
 * after another at the baud rate (8N1: 10 bits a byte; with parity 11). Bytes from the
 * master occupy the wire before the slaves see them; bytes from a slave occupy it
 * before the master gets them. Each chunk is delivered when its last byte has crossed
 * the wire (store and forward per chunk), stamped with that time, so the slave's
 * framer sees real inter-frame gaps and the master sees the real exchange time.
 * Unpaced wires deliver at once (for benchmarks of the simulator itself).
 */
import type { Clock } from '../clock.ts';

export interface WireOptions {
  baud: number;
  bitsPerChar?: number;
  paced: boolean;
}

export class Wire {
  readonly byteMs: number;
  #clock: Clock;
  #paced: boolean;
  #freeAt = 0;
  /** Bytes carried in each direction (for tests and the control API). */
  readonly bytes = { toSlaves: 0, toMaster: 0 };

  constructor(clock: Clock, opts: WireOptions) {
    this.#clock = clock;
    this.#paced = opts.paced;
    this.byteMs = ((opts.bitsPerChar ?? 10) * 1000) / opts.baud;
  }

  /** Time at which `n` bytes sent now would have fully crossed the wire (and reserve it). */
  #occupy(n: number, from = this.#clock.now()): number {
    const now = this.#clock.now();
    if (!this.#paced) return now;
    const start = Math.max(from, this.#freeAt);
    this.#freeAt = start + n * this.byteMs;
    return this.#freeAt;
  }

  /** Master → slaves. `deliver(bytes, atMs)` runs when the chunk has arrived. */
  fromMaster(bytes: Uint8Array, deliver: (bytes: Uint8Array, atMs: number) => void): void {
    this.bytes.toSlaves += bytes.length;
    this.#schedule(bytes, deliver);
  }

  /**
   * Slave → master, `delayMs` after `fromMs` (turnaround after the request's wire time;
   * default now). The reply takes the wire at that instant even when the timer that
   * starts it fires late, so timer jitter does not add up over an exchange.
   */
  toMaster(
    bytes: Uint8Array,
    delayMs: number,
    deliver: (bytes: Uint8Array, atMs: number) => void,
    fromMs = this.#clock.now(),
  ): void {
    this.bytes.toMaster += bytes.length;
    const due = fromMs + Math.max(0, delayMs);
    const wait = due - this.#clock.now();
    if (wait > 0) {
      this.#clock.setTimer(wait, () => this.#schedule(bytes, deliver, due));
    } else {
      this.#schedule(bytes, deliver, due);
    }
  }

  #schedule(
    bytes: Uint8Array,
    deliver: (bytes: Uint8Array, atMs: number) => void,
    from?: number,
  ): void {
    const at = this.#occupy(bytes.length, from);
    this.#deliverAt(at, () => deliver(bytes, at));
  }

  /**
   * Runs `fn` at `at`, never before: Node's timers may fire up to a millisecond early
   * against performance.now() (libuv rounds to whole milliseconds), and bytes handed
   * over before their last bit has crossed the wire would shorten the silences the
   * other side measures.
   */
  #deliverAt(at: number, fn: () => void): void {
    const wait = at - this.#clock.now();
    if (wait <= 0) fn();
    else this.#clock.setTimer(wait, () => this.#deliverAt(at, fn));
  }
}
