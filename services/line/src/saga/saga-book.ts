/**
 * What the saga log says, folded record by record: the line's last state, its counters,
 * the stations out, and the cycle still open (begun, not ended) with its intents and
 * results. The same fold serves the running controller (each append) and a restart
 * (the whole file), so a restart sees exactly what the controller knew when it died.
 */
import type { LineStateName } from '../../../contract/src/index.ts';
import type {
  CompensateRecord,
  IntentRecord,
  NewRecord,
  ResultRecord,
  SagaRecord,
} from './records.ts';
import type { SagaLog } from './saga-log.ts';

export class OpenCycle {
  readonly cycle: number;
  readonly startedTs: number;
  lastTs: number;
  readonly bypassedAtStart: string[];
  readonly intents: IntentRecord[] = [];
  readonly results = new Map<string, ResultRecord>();
  compensating: CompensateRecord | undefined;

  constructor(cycle: number, ts: number, bypassed: string[]) {
    this.cycle = cycle;
    this.startedTs = ts;
    this.lastTs = ts;
    this.bypassedAtStart = bypassed;
  }

  /** The latest attempt's intent for a step's part (or its compensation). */
  latestIntent(step: number, drive: string, comp: boolean): IntentRecord | undefined {
    for (let i = this.intents.length - 1; i >= 0; i--) {
      const r = this.intents[i]!;
      if (r.step === step && r.drive === drive && r.comp === comp) return r;
    }
    return undefined;
  }

  /** Highest step index with a (non-compensation) intent; -1 when none. */
  get lastStep(): number {
    let max = -1;
    for (const r of this.intents) if (!r.comp && r.step > max) max = r.step;
    return max;
  }

  /** Latest-attempt intents without a result: the commands in flight when the log stopped. */
  inFlight(): IntentRecord[] {
    const latest = new Map<string, IntentRecord>();
    for (const r of this.intents) latest.set(`${r.step}/${r.drive}/${r.comp}`, r);
    return [...latest.values()].filter((r) => !this.results.has(r.commandId));
  }

  /**
   * Parts to compensate, newest step first: every part whose command may have run
   * (completed, failed, unknown — not rejected or expired, which never ran) and that
   * has a compensation.
   */
  toCompensate(): { step: number; parts: IntentRecord[] }[] {
    const latest = new Map<string, IntentRecord>();
    for (const r of this.intents) if (!r.comp) latest.set(`${r.step}/${r.drive}`, r);
    const byStep = new Map<number, IntentRecord[]>();
    for (const r of latest.values()) {
      if (!r.compensate) continue;
      const res = this.results.get(r.commandId);
      if (res && (res.status === 'rejected' || res.status === 'expired')) continue;
      const list = byStep.get(r.step) ?? [];
      list.push(r);
      byStep.set(r.step, list);
    }
    return [...byStep.entries()]
      .sort((a, b) => b[0] - a[0])
      .map(([step, parts]) => ({ step, parts }));
  }
}

export interface SagaSummary {
  state: LineStateName;
  reason: string | null;
  /** Number of the last cycle begun (0: none yet). */
  cycle: number;
  cyclesCompleted: number;
  compensations: number;
  lastCycleMs: number | null;
  /** Stations out of the cycle, with why. */
  bypassed: Map<string, string>;
  open: OpenCycle | undefined;
  /** ts of the last record (0: empty log). */
  lastTs: number;
}

export function emptySummary(): SagaSummary {
  return {
    state: 'IDLE',
    reason: null,
    cycle: 0,
    cyclesCompleted: 0,
    compensations: 0,
    lastCycleMs: null,
    bypassed: new Map(),
    open: undefined,
    lastTs: 0,
  };
}

/** Fold one record into the summary (mutates it). */
export function apply(s: SagaSummary, r: SagaRecord): void {
  s.lastTs = r.ts;
  if (s.open) s.open.lastTs = r.ts;
  switch (r.t) {
    case 'snapshot':
      s.state = r.state;
      s.reason = r.reason;
      s.cycle = r.cycle;
      s.cyclesCompleted = r.cyclesCompleted;
      s.compensations = r.compensations;
      s.lastCycleMs = r.lastCycleMs;
      s.bypassed = new Map(r.bypassed.map((b) => [b.station, b.reason]));
      s.open = undefined;
      break;
    case 'state':
      s.state = r.state;
      s.reason = r.reason;
      break;
    case 'cycle':
      s.cycle = Math.max(s.cycle, r.cycle);
      s.open = new OpenCycle(r.cycle, r.ts, r.bypassed);
      break;
    case 'intent':
      if (s.open?.cycle === r.cycle) s.open.intents.push(r);
      break;
    case 'result':
      if (s.open?.cycle === r.cycle) s.open.results.set(r.commandId, r);
      break;
    case 'bypass':
      s.bypassed.set(r.station, r.reason);
      break;
    case 'rejoin':
      s.bypassed.delete(r.station);
      break;
    case 'compensate':
      if (s.open?.cycle === r.cycle) s.open.compensating = r;
      break;
    case 'end':
      s.cyclesCompleted = r.cyclesCompleted;
      s.compensations = r.compensations;
      if (r.outcome === 'completed' && r.ms !== undefined) s.lastCycleMs = r.ms;
      if (s.open?.cycle === r.cycle) s.open = undefined;
      break;
  }
}

export function summarize(records: readonly SagaRecord[]): SagaSummary {
  const s = emptySummary();
  for (const r of records) apply(s, r);
  return s;
}

/**
 * The log and its fold, kept together. `append` folds the record at once (the in-memory
 * view is always the latest) and resolves when it is on disk; a failure to write is
 * reported through `onError` (and rejects the promises of that record and all later ones).
 */
export class SagaBook {
  readonly summary: SagaSummary;
  readonly #log: SagaLog;
  #onError: (err: Error) => void;

  constructor(log: SagaLog, summary: SagaSummary, onError: (err: Error) => void = () => {}) {
    this.#log = log;
    this.summary = summary;
    this.#onError = onError;
  }

  get path(): string {
    return this.#log.path;
  }

  set onError(cb: (err: Error) => void) {
    this.#onError = cb;
  }

  /** Fold now; resolves when durable. Awaiting it is optional: a failure is reported either way. */
  append(rec: NewRecord): Promise<void> {
    const { record, durable } = this.#log.append(rec);
    apply(this.summary, record);
    durable.catch((err: Error) => this.#onError(err));
    return durable;
  }

  /** At a cycle boundary: shrink the file to one snapshot when it has grown large. */
  async maybeCompact(): Promise<boolean> {
    if (this.summary.open || !this.#log.needsCompaction) return false;
    const s = this.summary;
    await this.#log.compact([
      {
        t: 'snapshot',
        state: s.state,
        reason: s.reason,
        cycle: s.cycle,
        cyclesCompleted: s.cyclesCompleted,
        compensations: s.compensations,
        lastCycleMs: s.lastCycleMs,
        bypassed: [...s.bypassed].map(([station, reason]) => ({ station, reason })),
      },
    ]);
    return true;
  }

  drain(): Promise<void> {
    return this.#log.drain();
  }

  close(): Promise<void> {
    return this.#log.close();
  }
}
