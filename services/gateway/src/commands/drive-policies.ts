/**
 * Per-drive resilience on command round trips (cockatiel 3):
 * - a bulkhead: `maxInFlightPerDrive` commands at once, `maxQueuePerDrive` waiting,
 *   then 503 OVERLOADED. Stop and quick stop skip it: a halt never waits behind moves.
 * - a breaker: `breakerFailures` consecutive failed round trips open it; while open,
 *   commands fail fast with 503 BREAKER_OPEN and a Retry-After until `breakerHalfOpenAfterMs`
 *   has passed, then one command tests the drive. A failed round trip is one with no
 *   sign of life from the drive's service before the timeout, or an answer of
 *   DRIVE_UNREACHABLE / TIMEOUT from it. A rejection (INVALID_STATE, LIMIT_EXCEEDED…) is
 *   an answer, so it counts as success: the drive is there.
 * - the timeout is per request (`?timeoutMs=`), built around each call.
 *
 * cockatiel reads `Date.now()` for the breaker's open period; the gateway's clock
 * only says when the breaker opened, for Retry-After.
 */
import {
  type BulkheadPolicy,
  bulkhead,
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhen,
} from 'cockatiel';
import type { Reply } from '../../../contract/src/index.ts';
import type { Clock } from '../../../runtime/src/index.ts';
import type { BreakerState } from '../fleet/read-model.ts';

/** Thrown inside the breaker for a round trip that counts as a failure of the drive. */
export class DriveFailure extends Error {
  constructor(
    readonly kind: 'no-answer' | 'answer',
    readonly reply?: Reply,
  ) {
    super(
      kind === 'no-answer' ? 'no answer from the drive' : `drive answered ${reply?.error?.code}`,
    );
    this.name = 'DriveFailure';
  }
}

/** Device answers that say the drive is not there (the breaker counts them). */
export function isDriveFailureReply(r: Reply): boolean {
  return (
    r.status === 'failed' && (r.error?.code === 'DRIVE_UNREACHABLE' || r.error?.code === 'TIMEOUT')
  );
}

export interface DrivePolicy {
  readonly breaker: CircuitBreakerPolicy;
  readonly bulkhead: BulkheadPolicy;
  breakerState(): BreakerState;
  /** Seconds until the open breaker lets a test command through (≥ 1). */
  retryAfterSec(): number;
}

export interface DrivePoliciesOptions {
  maxInFlightPerDrive: number;
  maxQueuePerDrive: number;
  breakerFailures: number;
  breakerHalfOpenAfterMs: number;
}

export function breakerStateOf(s: CircuitState): BreakerState {
  if (s === CircuitState.Closed) return 'closed';
  if (s === CircuitState.HalfOpen) return 'half-open';
  return 'open';
}

export class DrivePolicies {
  readonly #o: DrivePoliciesOptions;
  readonly #clock: Clock;
  readonly #onBreaker: (driveId: string, state: BreakerState) => void;
  readonly #policies = new Map<string, DrivePolicy>();

  constructor(
    o: DrivePoliciesOptions,
    clock: Clock,
    onBreaker: (driveId: string, state: BreakerState) => void,
  ) {
    this.#o = o;
    this.#clock = clock;
    this.#onBreaker = onBreaker;
  }

  for(driveId: string): DrivePolicy {
    let p = this.#policies.get(driveId);
    if (!p) {
      p = this.#create(driveId);
      this.#policies.set(driveId, p);
    }
    return p;
  }

  #create(driveId: string): DrivePolicy {
    const o = this.#o;
    const breaker = circuitBreaker(
      handleWhen((e) => e instanceof DriveFailure),
      {
        halfOpenAfter: o.breakerHalfOpenAfterMs,
        breaker: new ConsecutiveBreaker(o.breakerFailures),
      },
    );
    let openedAt = 0;
    breaker.onStateChange((s) => {
      if (s === CircuitState.Open) openedAt = this.#clock.now();
      this.#onBreaker(driveId, breakerStateOf(s));
    });
    const clock = this.#clock;
    return {
      breaker,
      bulkhead: bulkhead(o.maxInFlightPerDrive, o.maxQueuePerDrive),
      breakerState: () => breakerStateOf(breaker.state),
      retryAfterSec: () =>
        Math.max(1, Math.ceil((openedAt + o.breakerHalfOpenAfterMs - clock.now()) / 1000)),
    };
  }
}
