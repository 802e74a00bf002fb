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
  #occupy(n: number): number {
    const now = this.#clock.now();
    if (!this.#paced) return now;
    const start = Math.max(now, this.#freeAt);
    this.#freeAt = start + n * this.byteMs;
    return this.#freeAt;
  }

  /** Master → slaves. `deliver(bytes, atMs)` runs when the chunk has arrived. */
  fromMaster(bytes: Uint8Array, deliver: (bytes: Uint8Array, atMs: number) => void): void {
    this.bytes.toSlaves += bytes.length;
    this.#schedule(bytes, deliver);
  }

  /** Slave → master, `delayMs` after now (turnaround). */
  toMaster(
    bytes: Uint8Array,
    delayMs: number,
    deliver: (bytes: Uint8Array, atMs: number) => void,
  ): void {
    this.bytes.toMaster += bytes.length;
    if (delayMs > 0) {
      this.#clock.setTimer(delayMs, () => this.#schedule(bytes, deliver));
    } else {
      this.#schedule(bytes, deliver);
    }
  }

  #schedule(bytes: Uint8Array, deliver: (bytes: Uint8Array, atMs: number) => void): void {
    const at = this.#occupy(bytes.length);
    const wait = at - this.#clock.now();
    if (wait <= 0) deliver(bytes, at);
    else this.#clock.setTimer(wait, () => deliver(bytes, at));
  }
}
