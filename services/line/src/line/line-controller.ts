/**
 * The line controller: the line's state machine, the cycle loop, the safe stop and the
 * emergency stop. Commands arrive already parsed (line-commands.ts answers them);
 * degraded-mode.ts decides which stations are in the cycle; recovery.ts deals with what
 * the saga log says at start.
 *
 *   IDLE|STOPPED|FAULTED --start--> RUNNING --stop--> STOPPING --cycle boundary--> STOPPED
 *   RUNNING --a non-bypassable part fails / its drive goes down--> STOPPING (compensating)
 *           --compensated, every drive stopped--> FAULTED
 *   any --estop--> ESTOPPED --reset--> IDLE
 *
 * Every state change is appended to the saga log before it is published.
 */
import type {
  ContractError,
  LineEvent,
  LineState,
  LineStateName,
} from '../../../contract/src/index.ts';
import type { Clock, Logger } from '../../../runtime/src/index.ts';
import type { LinePlan } from '../cycle/parse-cycle.ts';
import type { DrivePort, Final } from '../drives/drive-link.ts';
import type { SagaBook } from '../saga/saga-book.ts';
import {
  type CycleAbort,
  type CycleOutcome,
  compensate,
  type RunnerContext,
  runCycle,
} from '../saga/saga-runner.ts';
import { DegradedMode } from './degraded-mode.ts';
import { LineDrives, type Sent, sendEach } from './drive-commands.ts';
import { LineStatus } from './line-status.ts';
import { recoverLine } from './recovery.ts';
import { Stations } from './stations.ts';

export type EventBody = { type: LineEvent['type'] } & Record<string, unknown>;

export interface LineOutput {
  event(body: EventBody): void;
  state(s: LineState): void;
}

export interface LineMetrics {
  cycle(outcome: 'completed' | 'compensated' | 'aborted', ms?: number): void;
  state(s: LineStateName): void;
  bypassed(n: number): void;
}

export interface LineControllerOptions {
  plan: LinePlan;
  link: DrivePort;
  book: SagaBook;
  clock: Clock;
  log: Logger;
  out: LineOutput;
  metrics?: LineMetrics;
  /** An interrupted cycle younger than this is resumed after a restart; older ones are compensated (default 30 s). */
  resumeWithinMs?: number;
  /** How long drive commands outside the cycle (enable, stop, quickStop) may take, ms (default 5000). */
  commandTimeoutMs?: number;
}

/** How long after an estop a drive seen enabled again is quick-stopped again, ms. */
const ESTOP_GUARD_MS = 5000;
/** At most one such quickStop per drive this often, ms. */
const ESTOP_RESEND_MS = 300;

export class LineController {
  readonly plan: LinePlan;
  readonly stations: Stations;
  readonly degraded: DegradedMode;
  readonly status: LineStatus;
  readonly drives: LineDrives;
  readonly #o: LineControllerOptions;
  readonly #log: Logger;
  #loop: Promise<void> | undefined;
  #cycleAbort: AbortController | undefined;
  #compAbort: AbortController | undefined;
  #compensating = false;
  readonly #ctx: RunnerContext;

  constructor(o: LineControllerOptions) {
    this.#o = o;
    this.plan = o.plan;
    this.#log = o.log;
    this.stations = new Stations(o.plan.stations);
    this.drives = new LineDrives(o.link, o.plan.lineId, o.plan.drives, o.commandTimeoutMs);
    this.status = new LineStatus({
      lineId: o.plan.lineId,
      book: o.book,
      stations: this.stations,
      clock: o.clock,
      log: o.log,
      out: o.out,
      metrics: o.metrics,
    });
    this.degraded = new DegradedMode({
      plan: o.plan,
      stations: this.stations,
      link: o.link,
      book: o.book,
      out: o.out,
      log: o.log,
      metrics: o.metrics,
      running: () => this.running,
      abortCycle: (a) => {
        if (this.#cycleAbort && !this.#cycleAbort.signal.aborted) this.#cycleAbort.abort(a);
      },
      publishState: () => this.publishState(),
      enable: (drives, resetFault) => this.drives.enable(drives, resetFault),
    });
    this.#ctx = {
      plan: o.plan,
      link: o.link,
      book: o.book,
      clock: o.clock,
      log: o.log,
      isBypassed: (s) => this.stations.isBypassed(s),
      bypass: (s, reason) => this.degraded.bypass(s, reason),
      emit: (body) => o.out.event(body),
      setStep: (id) => {
        this.status.step = id;
      },
    };
    o.link.onChange((driveId) => this.degraded.onDrive(driveId));
  }

  get state(): LineStateName {
    return this.status.state;
  }

  get compensating(): boolean {
    return this.#compensating;
  }

  get running(): boolean {
    return this.#loop !== undefined;
  }

  snapshot(): LineState {
    return this.status.snapshot();
  }

  publishState(): void {
    this.status.publish();
  }

  /** Change state: logged (durable) first, then published. */
  setState(to: LineStateName, reason: string | null): void {
    this.status.set(to, reason);
  }

  /** Resolves once `pred()` holds (checked at every state change). */
  whenState(pred: () => boolean): Promise<void> {
    return this.status.when(pred);
  }

  // ---- running -------------------------------------------------------------------

  /**
   * Prepare and start cycling: stations whose drives are down are taken out (a
   * non-bypassable one refuses the start), the active stations' drives are enabled.
   */
  async start(reason: string): Promise<{ ok: true } | { ok: false; error: ContractError }> {
    const link = this.#o.link;
    for (const st of this.stations.all()) {
      const down = st.plan.drives.filter((d) => !link.isUp(d));
      if (down.length === 0) {
        if (st.status !== 'active' && (this.plan.autoRejoin || st.status === 'rejoining')) {
          st.status = 'rejoining';
          await this.degraded.rejoin(st, false);
        }
        continue;
      }
      if (!st.plan.bypassable) {
        return {
          ok: false,
          error: {
            code: 'DRIVE_UNREACHABLE',
            message: `station ${st.plan.id} is not bypassable and ${down.map((d) => `${d} is ${link.view(d).availability}`).join(', ')}`,
          },
        };
      }
      this.degraded.bypass(st.plan.id, `${down.join(', ')} not online at start`);
    }
    const drives = this.stations
      .all()
      .filter((s) => s.status === 'active')
      .flatMap((s) => s.plan.drives);
    const bad = await this.drives.enable(drives, false);
    for (const b of bad) {
      const st = this.stations.ofDrive(b.driveId)!;
      if (!st.plan.bypassable) {
        return {
          ok: false,
          error: { code: b.error.code, message: `enabling ${b.driveId}: ${b.error.message}` },
        };
      }
      this.degraded.bypass(
        st.plan.id,
        `enabling ${b.driveId} failed: ${b.error.code} ${b.error.message}`,
      );
    }
    if (this.status.state === 'ESTOPPED') {
      return { ok: false, error: { code: 'ABORTED', message: 'an estop came during the start' } };
    }
    this.setState('RUNNING', reason);
    this.run();
    return { ok: true };
  }

  /** Finish the cycle in progress, then STOPPED. */
  requestStop(reason: string): void {
    if (this.status.state === 'RUNNING') this.setState('STOPPING', reason);
  }

  /** Cancel a pending stop. */
  resumeRunning(reason: string): void {
    if (this.status.state === 'STOPPING' && !this.#compensating) this.setState('RUNNING', reason);
  }

  /** Run the cycle loop (first finishing `replayCycle` from the saga log, after a restart). */
  run(replayCycle?: number): void {
    if (this.#loop) return;
    this.#loop = (async () => {
      try {
        if (replayCycle !== undefined) await this.#runOne(replayCycle, true);
        for (;;) {
          await this.#boundary();
          if (this.status.state === 'STOPPING') {
            this.setState('STOPPED', this.status.reason);
            break;
          }
          if (this.status.state !== 'RUNNING') break;
          // A non-bypassable station whose drive is down: no cycle can complete, start none.
          const down = this.degraded.requiredDown();
          if (down.length > 0) {
            await this.drives.stopAll();
            this.setState('FAULTED', `${down.join(', ')} down at the cycle boundary`);
            break;
          }
          const cycle = this.#o.book.summary.cycle + 1;
          await this.#o.book.append({ t: 'cycle', cycle, bypassed: this.stations.bypassedIds() });
          this.#o.out.event({
            type: 'cycle',
            cycle,
            phase: 'started',
            bypassedStations: this.stations.bypassedIds(),
          });
          this.publishState();
          await this.#runOne(cycle, false);
        }
      } catch (err) {
        this.#log.error({ err }, 'the cycle loop failed');
        // Nothing more can be recorded or trusted: every drive of the line stopped.
        await this.drives.stopAll().catch(() => {});
        try {
          if (this.status.state !== 'ESTOPPED') {
            this.setState('FAULTED', `internal error: ${(err as Error).message}`);
          }
        } catch (again) {
          // The saga log itself failed: say so where we still can.
          this.status.restore('FAULTED', `internal error: ${(again as Error).message}`);
          this.#log.error({ err: again }, 'cannot record the fault in the saga log');
        }
      } finally {
        this.#loop = undefined;
        this.status.step = null;
      }
    })();
  }

  /** Resolves when the cycle loop has ended (immediately if it is not running). */
  async idle(): Promise<void> {
    await this.#loop;
  }

  async #boundary(): Promise<void> {
    await this.degraded.atBoundary();
    await this.#o.book.maybeCompact();
  }

  async #runOne(cycle: number, replay: boolean): Promise<void> {
    const abort = new AbortController();
    this.#cycleAbort = abort;
    let outcome: CycleOutcome;
    try {
      outcome = await runCycle(this.#ctx, cycle, abort.signal, replay);
    } finally {
      this.#cycleAbort = undefined;
    }
    const s = this.#o.book.summary;
    if (outcome.outcome === 'completed') {
      this.#o.book.append({
        t: 'end',
        cycle,
        outcome: 'completed',
        ms: Math.round(outcome.ms),
        cyclesCompleted: s.cyclesCompleted + 1,
        compensations: s.compensations,
      });
      this.#o.metrics?.cycle('completed', outcome.ms);
      this.#o.out.event({
        type: 'cycle',
        cycle,
        phase: 'completed',
        ms: Math.round(outcome.ms),
        bypassedStations: this.stations.bypassedIds(),
      });
      this.publishState();
    } else if (outcome.outcome === 'failed') {
      await this.safeStop(cycle, outcome.reason, 'FAULTED');
    } else {
      this.endAborted(cycle, outcome.reason);
    }
  }

  /** Close the open cycle as aborted (estop): nothing compensated. */
  endAborted(cycle: number, reason: string): void {
    const s = this.#o.book.summary;
    this.#o.book.append({
      t: 'end',
      cycle,
      outcome: 'aborted',
      cyclesCompleted: s.cyclesCompleted,
      compensations: s.compensations,
    });
    this.#o.metrics?.cycle('aborted');
    this.#o.out.event({
      type: 'cycle',
      cycle,
      phase: 'aborted',
      reason,
      bypassedStations: this.stations.bypassedIds(),
    });
    this.publishState();
  }

  /** Compensate the open cycle, stop every drive of the line, then state `after` with the reason. */
  async safeStop(cycle: number, reason: string, after: LineStateName): Promise<void> {
    this.#compensating = true;
    try {
      const open = this.#o.book.summary.open;
      if (!open?.compensating) {
        this.setState('STOPPING', `compensating: ${reason}`);
        this.#o.book.append({ t: 'compensate', cycle, reason, after });
      }
      this.#o.out.event({ type: 'compensation', cycle, phase: 'started', reason });
      const abort = new AbortController();
      this.#compAbort = abort;
      const { failed } = await compensate(this.#ctx, cycle, abort.signal).finally(() => {
        this.#compAbort = undefined;
      });
      this.#o.out.event({
        type: 'compensation',
        cycle,
        phase: 'completed',
        reason,
        ...(failed.length > 0 ? { failed } : {}),
      });
      if (abort.signal.aborted) {
        this.endAborted(cycle, 'estop during compensation');
        return;
      }
      await this.drives.stopAll();
      const s = this.#o.book.summary;
      this.#o.book.append({
        t: 'end',
        cycle,
        outcome: 'compensated',
        cyclesCompleted: s.cyclesCompleted,
        compensations: s.compensations + 1,
      });
      this.#o.metrics?.cycle('compensated');
      this.#o.out.event({
        type: 'cycle',
        cycle,
        phase: 'compensated',
        reason,
        bypassedStations: this.stations.bypassedIds(),
      });
      if (this.status.state !== 'ESTOPPED') this.setState(after, reason);
    } finally {
      this.#compensating = false;
    }
  }

  /**
   * Emergency stop: quickStop to every drive of the line at once — each published
   * before any answer is awaited, whatever its availability or breaker (a drive that is
   * down answers DRIVE_UNREACHABLE, which is reported) — the cycle cut short without
   * compensation, ESTOPPED until reset.
   */
  async estop(reason: string): Promise<Sent[]> {
    const answered = new Map<string, Final>();
    const sending = this.drives.quickStopAll((s) => answered.set(s.driveId, s.final));
    const abort: CycleAbort = { kind: 'estop', message: reason };
    this.#cycleAbort?.abort(abort);
    this.#compAbort?.abort(abort);
    this.setState('ESTOPPED', reason);
    this.#guardEstop(answered);
    const results = await sending;
    this.#estopEvent(results);
    return results;
  }

  /**
   * For a while after an estop, a drive of the line that reports OPERATION_ENABLED
   * again gets another quickStop: a motion command the device service was still
   * setting up when the quick stop arrived can re-enable the drive (a controlword
   * written after it), and an estop must hold.
   *
   * Only a state polled after the drive's quick stop completed counts (its `ts` later
   * than the reply's, both the device service's clock): state and replies travel on
   * different MQTT sessions, so a state polled just before the quick stop can arrive
   * after it. Until a drive's quick stop has an answer its states are not judged; once
   * it failed (drive down, timeout), any OPERATION_ENABLED counts.
   */
  #guardEstop(answered: ReadonlyMap<string, Final>): void {
    const clock = this.#o.clock;
    const last = new Map<string, number>();
    const off = this.#o.link.onState((d, s) => {
      if (this.status.state !== 'ESTOPPED') return off();
      if (s.cia402 !== 'OPERATION_ENABLED' || !this.plan.drives.includes(d)) return;
      const q = answered.get(d);
      if (!q || (q.status === 'completed' && (q.ts === undefined || s.ts <= q.ts))) return;
      if (clock.now() - (last.get(d) ?? Number.NEGATIVE_INFINITY) < ESTOP_RESEND_MS) return;
      last.set(d, clock.now());
      this.#log.warn({ driveId: d }, `${d} enabled again while ESTOPPED: quickStop again`);
      void sendEach({ ...this.#sendOpts(), evenIfDown: true }, [d], 'quickStop').then((r) =>
        this.#estopEvent(r, true),
      );
    });
    clock.setTimer(ESTOP_GUARD_MS, off);
  }

  /** `resent`: the guard's own quickStop to a drive enabled again, not the estop itself. */
  #estopEvent(results: Sent[], resent = false): void {
    this.#o.out.event({
      type: 'estop',
      ...(resent ? { resent: true } : {}),
      results: results.map((r) => ({
        driveId: r.driveId,
        commandId: r.commandId,
        status: r.final.status,
        ...(r.final.error ? { error: r.final.error } : {}),
      })),
    });
  }

  #sendOpts() {
    return {
      link: this.#o.link,
      lineId: this.plan.lineId,
      timeoutMs: this.#o.commandTimeoutMs ?? 5000,
    };
  }

  /** Clear ESTOPPED/FAULTED: wait for the loop to end, reset drive faults, IDLE. */
  async reset(reason: string): Promise<void> {
    await this.idle();
    await this.drives.resetFaults();
    this.setState('IDLE', reason);
  }

  // ---- restart -----------------------------------------------------------------

  /** Take back the state the saga log ends with (recovery.ts), without logging it again. */
  restore(state: LineStateName, reason: string | null): void {
    this.status.restore(state, reason);
  }

  /** Deal with what the saga log says (recovery.ts). Call once drive availability is in. */
  recover(): Promise<void> {
    return recoverLine(this, {
      book: this.#o.book,
      link: this.#o.link,
      clock: this.#o.clock,
      log: this.#log,
      out: this.#o.out,
      resumeWithinMs: this.#o.resumeWithinMs,
    });
  }
}
