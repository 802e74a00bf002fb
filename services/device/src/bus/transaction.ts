/**
 * What the protocol masters share: the options they are built with, the transaction
 * record the bus turns into stats, and the one-outstanding-transaction slot.
 */
import type { Clock, TimerHandle } from '../../../runtime/src/clock.ts';
import type { BusError } from './errors.ts';
import type { LineGuard } from './line-guard.ts';
import type { LineTiming } from './timing.ts';

export type TransactionOutcome = 'ok' | 'timeout' | 'rejected' | 'bad-response' | 'link-down';

/** One exchange on the wire, for stats: who, how it ended, how long it took. */
export interface TransactionRecord {
  /** Unit (Modbus) or device ID (Dynamixel); undefined for a group read. */
  unit: number | undefined;
  outcome: TransactionOutcome;
  ms: number;
  /** Frames dropped for a bad CRC while waiting. */
  crcErrors: number;
}

export interface MasterOptions {
  clock: Clock;
  line: LineTiming;
  /** Sends bytes on the link (throws LINK_DOWN when it is down). */
  send: (bytes: Uint8Array) => void;
  guard: LineGuard;
  observe: (t: TransactionRecord) => void;
}

/** The single transaction in flight on a line, with its timeout timer. */
export class Outstanding<T> {
  readonly startedAt: number;
  #timer: TimerHandle | undefined;
  #settled = false;

  constructor(
    private readonly clock: Clock,
    private readonly resolveFn: (v: T) => void,
    private readonly rejectFn: (e: BusError) => void,
  ) {
    this.startedAt = clock.now();
  }

  arm(timeoutMs: number, onTimeout: () => void): void {
    this.#timer = this.clock.setTimer(timeoutMs, onTimeout);
  }

  get settled(): boolean {
    return this.#settled;
  }

  resolve(v: T): void {
    if (this.#finish()) this.resolveFn(v);
  }

  reject(e: BusError): void {
    if (this.#finish()) this.rejectFn(e);
  }

  #finish(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    if (this.#timer) this.clock.clearTimer(this.#timer);
    return true;
  }
}
