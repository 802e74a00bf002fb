/**
 * One transaction on the wire at a time per link (modbus-serial and jsmodbus let two
 * requests collide; DESIGN.md "What the anchors get wrong"). Jobs wait in three lanes,
 * each first come first served: `high` (quick stop, stop) goes before anything else,
 * then `normal` (commands' reads and writes), then `poll` (the poller's cycles). A
 * command thus waits for at most the one transaction on the wire, even when a whole
 * poll cycle of the link is queued at once. A poll that has waited past its `dueAt`
 * (a poll period) goes before the commands queued after that time, so that on a link
 * with more work than wire time neither a flood of commands starves the polls (and
 * with them the drives' state) nor the polls the commands. Right before a job goes on
 * the wire the
 * scheduler waits for the line to be quiet (after a timeout), then drops the job
 * unsent if its deadline has passed (EXPIRED) or its own check refuses it (the drive's
 * breaker opened, the link went down while it waited).
 *
 * When both lanes are empty the scheduler asks its idle filler (the poller's watch
 * reads) for a job; the filler may instead say how long until it has one, and the
 * scheduler looks again then. Filler jobs only ever take a wire that nothing else
 * wants: a job pushed meanwhile waits at most for the one filler job on the wire.
 */
import type { Clock, TimerHandle } from '../../../runtime/src/clock.ts';
import { BusError } from './errors.ts';
import type { LineGuard } from './line-guard.ts';

export type Lane = 'high' | 'normal' | 'poll';

export interface Job {
  lane: Lane;
  /** Wall-clock ms after which the job must not be sent. */
  deadlineWallMs?: number | undefined;
  /**
   * Clock ms. `poll` lane: from then on the job goes before `normal` jobs queued later
   * than that. `normal` lane: set by `push` to when it was queued.
   */
  dueAt?: number;
  /** Right before sending: a reason not to send, or undefined. */
  check?(): BusError | undefined;
  /** Puts the job's transactions on the wire; settles the job's own promise; never rejects. */
  run(): Promise<void>;
  /** The job will never run: `err` says why (nothing was sent). */
  drop(err: BusError): void;
}

/** A job for an idle wire, ms until there may be one, or undefined (nothing to fill). */
export type IdleFiller = () => Job | number | undefined;

export class Scheduler {
  readonly #clock: Clock;
  readonly #guard: LineGuard;
  readonly #lanes: Record<Lane, Job[]> = { high: [], normal: [], poll: [] };
  #pumping = false;
  #stopped = false;
  #inFlight: Promise<void> | undefined;
  readonly #idle: IdleFiller | undefined;
  #idleTimer: TimerHandle | undefined;

  constructor(clock: Clock, guard: LineGuard, idle?: IdleFiller) {
    this.#clock = clock;
    this.#guard = guard;
    this.#idle = idle;
  }

  /** Queues `job` at the back of its lane (or the front, for a retry that belongs now). */
  push(job: Job, front = false): void {
    if (this.#stopped) {
      job.drop(new BusError('BUS_STOPPED', 'the bus is stopped'));
      return;
    }
    const lane = this.#lanes[job.lane];
    if (job.lane === 'normal') job.dueAt = this.#clock.now();
    if (front) lane.unshift(job);
    else lane.push(job);
    void this.#pump();
  }

  /** Jobs waiting (not counting the one on the wire). */
  get depth(): number {
    return this.#lanes.high.length + this.#lanes.normal.length + this.#lanes.poll.length;
  }

  /** Drops every waiting job (BUS_STOPPED) and resolves once the job on the wire is done. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#clearIdleTimer();
    const err = new BusError('BUS_STOPPED', 'the bus is stopped');
    for (const lane of [this.#lanes.high, this.#lanes.normal, this.#lanes.poll]) {
      for (const job of lane.splice(0)) job.drop(err);
    }
    await this.#inFlight;
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (!this.#stopped && (this.depth > 0 || this.#idle !== undefined)) {
        await this.#guard.ready();
        if (this.#stopped) break;
        const job =
          this.#lanes.high.shift() ??
          this.#overduePoll() ??
          this.#lanes.normal.shift() ??
          this.#lanes.poll.shift() ??
          this.#fill();
        if (job === undefined) break;
        const deadline = job.deadlineWallMs;
        const now = this.#clock.wallNow();
        if (deadline !== undefined && now > deadline) {
          job.drop(new BusError('EXPIRED', `deadline passed ${Math.round(now - deadline)} ms ago`));
          continue;
        }
        const refused = job.check?.();
        if (refused) {
          job.drop(refused);
          continue;
        }
        this.#inFlight = job.run().catch(() => undefined); // run settles its own promise
        await this.#inFlight;
        this.#inFlight = undefined;
      }
    } finally {
      this.#pumping = false;
    }
  }

  /** The first poll when it fell due before the first command was queued. */
  #overduePoll(): Job | undefined {
    const due = this.#lanes.poll[0]?.dueAt;
    if (due === undefined || this.#clock.now() < due) return undefined;
    const command = this.#lanes.normal[0]?.dueAt;
    return command === undefined || due < command ? this.#lanes.poll.shift() : undefined;
  }

  /** A filler job for the idle wire, or undefined (a timer to look again, if asked). */
  #fill(): Job | undefined {
    const got = this.#idle?.();
    if (typeof got !== 'number') return got;
    this.#clearIdleTimer();
    this.#idleTimer = this.#clock.setTimer(got, () => {
      this.#idleTimer = undefined;
      void this.#pump();
    });
    return undefined;
  }

  #clearIdleTimer(): void {
    if (this.#idleTimer) this.#clock.clearTimer(this.#idleTimer);
    this.#idleTimer = undefined;
  }
}
