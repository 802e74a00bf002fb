/**
 * One simulated bus: the wire (pacing), the link the master is connected through,
 * link faults, and the protocol slave that answers for every drive on it.
 */
import type { Clock } from './clock.ts';
import { corrupt, disturbReply, type LinkFaultState, noLinkFaults } from './faults/link-faults.ts';
import type { Link } from './links/link.ts';
import type { Wire } from './links/wire.ts';
import type { Rng } from './rng.ts';

/** A protocol slave: gets the master's bytes as they arrive, answers through `reply`. */
export interface Slave {
  receive(bytes: Uint8Array, atMs: number): void;
}

/**
 * `delayMs` after `fromMs` (the request's wire time; default now); `onSent(atMs)` when
 * the reply's last byte has crossed the wire.
 */
export type Reply = (
  bytes: Uint8Array,
  delayMs: number,
  fromMs?: number,
  onSent?: (atMs: number) => void,
) => void;

export interface BusCounters {
  requestsSeen: number;
  repliesSent: number;
  bytesIn: number;
  bytesOut: number;
  connections: number;
}

export class SimBus {
  readonly id: string;
  readonly faults: LinkFaultState = noLinkFaults();
  readonly counters: BusCounters = {
    requestsSeen: 0,
    repliesSent: 0,
    bytesIn: 0,
    bytesOut: 0,
    connections: 0,
  };
  readonly wire: Wire;
  #clock: Clock;
  #rng: Rng;
  #link: Link | undefined;
  #slave: Slave | undefined;
  #beforeReceive: (atMs: number) => void;

  constructor(
    id: string,
    clock: Clock,
    wire: Wire,
    rng: Rng,
    beforeReceive: (atMs: number) => void,
  ) {
    this.id = id;
    this.#clock = clock;
    this.wire = wire;
    this.#rng = rng;
    this.#beforeReceive = beforeReceive;
  }

  setSlave(slave: Slave): void {
    this.#slave = slave;
  }

  get slave(): Slave | undefined {
    return this.#slave;
  }

  get connected(): boolean {
    return this.#link !== undefined && !this.#link.closed;
  }

  /** The master's side connected (a TCP client, the PTY, a memory pair). Replaces any previous link. */
  attach(link: Link): void {
    this.#link = link;
    this.counters.connections++;
    link.onData((bytes) => {
      if (this.#link !== link) return;
      this.counters.bytesIn += bytes.length;
      const data = corrupt(bytes, this.faults.corruptRate, this.#rng);
      this.wire.fromMaster(data, (b, at) => {
        this.#beforeReceive(at);
        this.#slave?.receive(b, at);
      });
    });
    link.onClose(() => {
      if (this.#link === link) this.#link = undefined;
    });
  }

  /** Send a slave's reply after `delayMs` (turnaround, injected delay), through the link faults. */
  readonly reply: Reply = (bytes, delayMs, fromMs, onSent) => {
    const link = this.#link;
    if (!link) return;
    this.counters.repliesSent++;
    const data = disturbReply(bytes, this.faults, this.#rng);
    this.wire.toMaster(
      data,
      delayMs,
      (b, at) => {
        this.counters.bytesOut += b.length;
        onSent?.(at);
        link.write(b);
      },
      fromMs,
    );
  };

  now(): number {
    return this.#clock.now();
  }
}
