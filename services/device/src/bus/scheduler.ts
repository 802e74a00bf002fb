/**
 * One transaction on the wire at a time per link (modbus-serial and jsmodbus let two
 * requests collide; DESIGN.md "What the anchors get wrong"). Jobs wait in two lanes:
 * `high` (quick stop, stop) always goes before anything `normal` (polls and ordinary
 * requests, first come first served). Right before a job goes on the wire the
 * scheduler waits for the line to be quiet (after a timeout), then drops the job
 * unsent if its deadline has passed (EXPIRED) or its own check refuses it (the drive's
 * breaker opened, the link went down while it waited).
 */
import type { Clock } from '../../../runtime/src/clock.ts';
import { BusError } from './errors.ts';
import type { LineGuard } from './line-guard.ts';

export type Lane = 'high' | 'normal';

export interface Job {
  lane: Lane;
  /** Wall-clock ms after which the job must not be sent. */
  deadlineWallMs?: number | undefined;
  /** Right before sending: a reason not to send, or undefined. */
  check?(): BusError | undefined;
  /** Puts the job's transactions on the wire; settles the job's own promise; never rejects. */
  run(): Promise<void>;
  /** The job will never run: `err` says why (nothing was sent). */
  drop(err: BusError): void;
}

export class Scheduler {
  readonly #clock: Clock;
  readonly #guard: LineGuard;
  readonly #lanes: Record<Lane, Job[]> = { high: [], normal: [] };
  #pumping = false;
  #stopped = false;
  #inFlight: Promise<void> | undefined;

  constructor(clock: Clock, guard: LineGuard) {
    this.#clock = clock;
    this.#guard = guard;
  }

  /** Queues `job` at the back of its lane (or the front, for a retry that belongs now). */
  push(job: Job, front = false): void {
    if (this.#stopped) {
      job.drop(new BusError('BUS_STOPPED', 'the bus is stopped'));
      return;
    }
    const lane = this.#lanes[job.lane];
    if (front) lane.unshift(job);
    else lane.push(job);
    void this.#pump();
  }

  /** Jobs waiting (not counting the one on the wire). */
  get depth(): number {
    return this.#lanes.high.length + this.#lanes.normal.length;
  }

  /** Drops every waiting job (BUS_STOPPED) and resolves once the job on the wire is done. */
  async stop(): Promise<void> {
    this.#stopped = true;
    const err = new BusError('BUS_STOPPED', 'the bus is stopped');
    for (const lane of [this.#lanes.high, this.#lanes.normal]) {
      for (const job of lane.splice(0)) job.drop(err);
    }
    await this.#inFlight;
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (!this.#stopped && this.depth > 0) {
        await this.#guard.ready();
        if (this.#stopped) break;
        const job = this.#lanes.high.shift() ?? this.#lanes.normal.shift();
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
}
