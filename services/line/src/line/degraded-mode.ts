/**
 * Degraded mode: which stations are in the cycle.
 *
 * - A drive of a bypassable station that turns unreachable/offline or whose breaker
 *   opens — or a part of such a station that fails — takes the station out: its
 *   remaining parts are skipped and the line keeps cycling.
 * - A drive of a non-bypassable station going down while a cycle runs cuts the cycle
 *   short at once: the controller compensates it and safe-stops the line.
 * - When a bypassed station's drives are all online again, it rejoins at the next
 *   cycle boundary (the line's `autoRejoin`) or on an operator `rejoin` (which may also
 *   reset a drive fault); at once when the line is not cycling.
 */
import type { ContractError } from '../../../contract/src/index.ts';
import type { Logger } from '../../../runtime/src/index.ts';
import type { LinePlan } from '../cycle/parse-cycle.ts';
import type { DrivePort } from '../drives/drive-link.ts';
import type { SagaBook } from '../saga/saga-book.ts';
import type { CycleAbort } from '../saga/saga-runner.ts';
import type { LineMetrics, LineOutput } from './line-controller.ts';
import type { StationEntry, Stations } from './stations.ts';

export interface DegradedDeps {
  plan: LinePlan;
  stations: Stations;
  link: DrivePort;
  book: SagaBook;
  out: LineOutput;
  log: Logger;
  metrics?: LineMetrics | undefined;
  /** The cycle loop is running. */
  running(): boolean;
  /** Cut the running cycle short (no-op between cycles). */
  abortCycle(a: CycleAbort): void;
  publishState(): void;
  enable(
    drives: string[],
    resetFault: boolean,
  ): Promise<{ driveId: string; error: ContractError }[]>;
}

export class DegradedMode {
  readonly #d: DegradedDeps;

  constructor(d: DegradedDeps) {
    this.#d = d;
  }

  /** Take a bypassable station out (logged, announced, published). */
  bypass(station: string, reason: string): void {
    const d = this.#d;
    const st = d.stations.get(station);
    if (!st?.plan.bypassable || st.status === 'bypassed') return;
    const wasRejoining = st.status === 'rejoining';
    st.status = 'bypassed';
    st.reason = reason;
    d.book.append({ t: 'bypass', station, reason });
    d.log.warn({ station, reason }, `station ${station} bypassed`);
    d.out.event({ type: 'station', station, change: 'bypassed', reason });
    d.metrics?.bypassed(d.stations.bypassedIds().length);
    if (wasRejoining) for (const w of st.waiting.splice(0)) w(false, reason);
    d.publishState();
  }

  /** Stations out according to the saga log (after a restart). */
  restore(bypassed: ReadonlyMap<string, string>): void {
    for (const [station, reason] of bypassed) {
      const st = this.#d.stations.get(station);
      if (st?.plan.bypassable) {
        st.status = 'bypassed';
        st.reason = reason;
      }
    }
    this.#d.metrics?.bypassed(this.#d.stations.bypassedIds().length);
  }

  /** A drive's availability or breaker changed. */
  onDrive(driveId: string): void {
    const d = this.#d;
    const st = d.stations.ofDrive(driveId);
    if (!st) return;
    if (d.link.isDown(driveId)) {
      const why = `${driveId} ${this.#why(driveId)}`;
      if (st.plan.bypassable) this.bypass(st.plan.id, why);
      else
        d.abortCycle({ kind: 'fault', message: `${why}: station ${st.plan.id} is not bypassable` });
      return;
    }
    if (
      st.status === 'bypassed' &&
      d.plan.autoRejoin &&
      st.plan.drives.every((x) => d.link.isUp(x))
    ) {
      void this.requestRejoin(st.plan.id, false);
    }
  }

  /** Mark a bypassed station to come back at the next boundary (at once when the line is not cycling). */
  async requestRejoin(
    station: string,
    byOperator: boolean,
  ): Promise<{ ok: boolean; message?: string }> {
    const d = this.#d;
    const st = d.stations.get(station);
    if (!st || st.status === 'active') return { ok: true };
    const down = st.plan.drives.filter((x) => !d.link.isUp(x));
    if (down.length > 0) return { ok: false, message: `${down.join(', ')} not online` };
    st.byOperator ||= byOperator;
    st.status = 'rejoining';
    d.publishState();
    if (!d.running()) return this.rejoin(st, false);
    return new Promise((resolve) => {
      st.waiting.push((ok, message) => resolve(ok ? { ok } : { ok, message: message ?? 'failed' }));
    });
  }

  /** At a cycle boundary: bring back the stations that wait for it, enabling their drives. */
  async atBoundary(): Promise<void> {
    for (const st of this.#d.stations.all())
      if (st.status === 'rejoining') await this.rejoin(st, true);
  }

  /** Bring a `rejoining` station back; with `enable`, enable its drives first (resetting a fault if an operator asked). */
  async rejoin(st: StationEntry, enable: boolean): Promise<{ ok: boolean; message?: string }> {
    const d = this.#d;
    if (st.status !== 'rejoining') return { ok: st.status === 'active' };
    let failure: string | undefined;
    if (enable) {
      const bad = await d.enable(st.plan.drives, st.byOperator);
      if (bad.length > 0)
        failure = bad.map((b) => `${b.driveId}: ${b.error.code} ${b.error.message}`).join('; ');
    }
    const down = st.plan.drives.filter((x) => !d.link.isUp(x));
    if (!failure && down.length > 0) failure = `${down.join(', ')} went down again`;
    if (failure) {
      st.status = 'bypassed';
      st.reason = `rejoin failed: ${failure}`;
      for (const w of st.waiting.splice(0)) w(false, failure);
      d.publishState();
      return { ok: false, message: failure };
    }
    st.status = 'active';
    st.reason = undefined;
    st.byOperator = false;
    d.book.append({ t: 'rejoin', station: st.plan.id });
    d.log.info({ station: st.plan.id }, `station ${st.plan.id} rejoined`);
    d.out.event({
      type: 'station',
      station: st.plan.id,
      change: 'rejoined',
      reason: enable ? 'drives back online: rejoined at the cycle boundary' : 'drives back online',
    });
    d.metrics?.bypassed(d.stations.bypassedIds().length);
    for (const w of st.waiting.splice(0)) w(true);
    d.publishState();
    return { ok: true };
  }

  /** Drives of non-bypassable stations that are down, with why. */
  requiredDown(): string[] {
    return this.#d.stations
      .all()
      .filter((st) => !st.plan.bypassable)
      .flatMap((st) => st.plan.drives)
      .filter((x) => this.#d.link.isDown(x))
      .map((x) => `${x} (${this.#why(x)})`);
  }

  #why(driveId: string): string {
    const v = this.#d.link.view(driveId);
    return v.breaker === 'open'
      ? 'breaker open'
      : `${v.availability}${v.reason ? ` (${v.reason})` : ''}`;
  }
}
