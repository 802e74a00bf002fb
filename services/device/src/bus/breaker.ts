/**
 * Per-drive circuit breaker, cockatiel 3.2.1: `ConsecutiveBreaker(N)` opens after N
 * consecutive communication failures (TIMEOUT, BAD_RESPONSE; a drive that answers with
 * an exception or status error is there, so DRIVE_REJECTED does not count, see
 * `isCommFailure`); while open, calls fail fast (DRIVE_UNREACHABLE, nothing sent);
 * after a backoff one call is let through as a probe (half-open); its success closes
 * the breaker, its failure opens it again with the next, longer backoff.
 *
 * Timing. cockatiel decides "may probe now" with `Date.now() - openedAt <
 * backoff.duration`, on the wall clock, which a test cannot step and NTP can move.
 * The backoff we give it (`ClockGatedBackoff`) draws its delay from cockatiel's own
 * `ExponentialBackoff` (half jitter: each delay in [d/2, d), d doubling from
 * `probeInitialMs` to `probeMaxMs`) but converts it into a due time on the injected
 * Clock, and reports a `duration` of +Infinity before that time and -Infinity after
 * it: the comparison then holds exactly when our clock says so, whatever Date.now()
 * does. The bus sets a Clock timer at `probeDueAt` to send the probe.
 */
import {
  BrokenCircuitError,
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  ExponentialBackoff,
  halfJitterGenerator,
  handleWhen,
  type IBackoff,
  type IBackoffFactory,
  type IHalfOpenAfterBackoffContext,
  IsolatedCircuitError,
} from 'cockatiel';
import type { Clock } from '../../../runtime/src/clock.ts';
import { BusError, isCommFailure } from './errors.ts';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  /** Consecutive failures that open the breaker (default 3). */
  failures?: number;
  /** First probe delay, ms (default 500). */
  probeInitialMs?: number;
  /** Longest probe delay, ms (default 10 000). */
  probeMaxMs?: number;
}

type Ctx = IHalfOpenAfterBackoffContext;

/**
 * How early a probe may go: wall-clock timers (Node's millisecond rounding) can fire a
 * little before their due time, and a probe refused for being 0.3 ms early would leave
 * a recovered drive unreachable.
 */
export const PROBE_EARLY_MS = 2;

class ClockGatedBackoff implements IBackoff<Ctx> {
  readonly dueAt: number;

  constructor(
    private readonly inner: IBackoff<unknown>,
    private readonly clock: Clock,
    private readonly onCreate: (b: ClockGatedBackoff) => void,
  ) {
    this.dueAt = clock.now() + inner.duration;
    onCreate(this);
  }

  /** Read by cockatiel only in `Date.now() - openedAt < duration` (see file comment). */
  get duration(): number {
    return this.clock.now() >= this.dueAt - PROBE_EARLY_MS
      ? Number.NEGATIVE_INFINITY
      : Number.POSITIVE_INFINITY;
  }

  next(context: Ctx): IBackoff<Ctx> {
    return new ClockGatedBackoff(this.inner.next(context), this.clock, this.onCreate);
  }
}

export class DriveBreaker {
  readonly #policy: CircuitBreakerPolicy;
  readonly #consecutive: ConsecutiveBreaker;
  #backoff: ClockGatedBackoff | undefined;

  constructor(clock: Clock, opts: BreakerOptions, onChange: (s: BreakerState) => void) {
    const failures = opts.failures ?? 3;
    const initialDelay = opts.probeInitialMs ?? 500;
    const maxDelay = Math.max(initialDelay, opts.probeMaxMs ?? 10_000);
    const delays = new ExponentialBackoff({
      initialDelay,
      maxDelay,
      generator: halfJitterGenerator,
    });
    const track = (b: ClockGatedBackoff) => {
      this.#backoff = b;
    };
    const halfOpenAfter: IBackoffFactory<Ctx> = {
      next: () => new ClockGatedBackoff(delays.next(), clock, track),
    };
    this.#consecutive = new ConsecutiveBreaker(failures);
    this.#policy = circuitBreaker(handleWhen(isCommFailure), {
      halfOpenAfter,
      breaker: this.#consecutive,
    });
    this.#policy.onStateChange((s) => onChange(mapState(s)));
  }

  get state(): BreakerState {
    return mapState(this.#policy.state);
  }

  /** While open: when the next probe may go (Clock ms). */
  get probeDueAt(): number | undefined {
    return this.#policy.state === CircuitState.Open ? this.#backoff?.dueAt : undefined;
  }

  /** The last failure that counted (for messages). */
  get lastFailure(): unknown {
    const f = this.#policy.lastFailure;
    return f && 'error' in f ? f.error : undefined;
  }

  /**
   * Runs one drive transaction through the breaker: closed, it runs and counts; open
   * before the probe is due, DRIVE_UNREACHABLE without running; open and due, it runs
   * as the probe (half-open).
   */
  async execute<T>(label: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await this.#policy.execute(fn);
    } catch (err) {
      if (err instanceof BrokenCircuitError || err instanceof IsolatedCircuitError) {
        throw new BusError('DRIVE_UNREACHABLE', `${label}: circuit breaker open`, {
          cause: this.lastFailure,
        });
      }
      throw err;
    }
  }

  /** A transaction outside `execute` (a group read) got this drive's answer. */
  recordSuccess(): void {
    // What the policy's execute does with a success while closed (cockatiel 3.2.1
    // CircuitBreakerPolicy: `breaker.success(state)`, the consecutive count back to 0),
    // without an async call and its promises for every servo of every group read.
    if (this.#policy.state === CircuitState.Closed) this.#consecutive.success();
  }
}

function mapState(s: CircuitState): BreakerState {
  switch (s) {
    case CircuitState.Closed:
      return 'closed';
    case CircuitState.HalfOpen:
      return 'half-open';
    default:
      return 'open'; // Open, Isolated
  }
}
