/**
 * The line's status as the world sees it: its state (IDLE, RUNNING, STOPPING, STOPPED,
 * ESTOPPED, FAULTED) with the reason, the step in progress, the counters from the saga
 * log and the stations — the retained `{root}/lines/{id}/state` message. A state change
 * is appended to the saga log first, then announced as an event and published.
 */
import type { LineState, LineStateName } from '../../../contract/src/index.ts';
import type { Clock, Logger } from '../../../runtime/src/index.ts';
import type { SagaBook } from '../saga/saga-book.ts';
import type { LineMetrics, LineOutput } from './line-controller.ts';
import type { Stations } from './stations.ts';

export class LineStatus {
  readonly #lineId: string;
  readonly #book: SagaBook;
  readonly #stations: Stations;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #out: LineOutput;
  readonly #metrics: LineMetrics | undefined;
  #state: LineStateName = 'IDLE';
  #reason: string | null = null;
  #since: number;
  #seq = 0;
  #step: string | null = null;
  readonly #waiters = new Set<() => void>();

  constructor(o: {
    lineId: string;
    book: SagaBook;
    stations: Stations;
    clock: Clock;
    log: Logger;
    out: LineOutput;
    metrics?: LineMetrics | undefined;
  }) {
    this.#lineId = o.lineId;
    this.#book = o.book;
    this.#stations = o.stations;
    this.#clock = o.clock;
    this.#log = o.log;
    this.#out = o.out;
    this.#metrics = o.metrics;
    this.#since = o.clock.wallNow();
  }

  get state(): LineStateName {
    return this.#state;
  }

  get reason(): string | null {
    return this.#reason;
  }

  /** The step in progress (published), null between steps. */
  set step(id: string | null) {
    this.#step = id;
    this.publish();
  }

  /** Change state: logged (durable) first, then announced and published. */
  set(to: LineStateName, reason: string | null): void {
    const from = this.#state;
    if (from === to && this.#reason === reason) return;
    this.#book.append({ t: 'state', state: to, reason });
    this.#apply(to, reason);
    this.#log.info(
      { from, to, reason },
      `line ${this.#lineId} ${to}${reason ? `: ${reason}` : ''}`,
    );
    this.#out.event({ type: 'state', from, to, reason });
    this.publish();
    for (const w of [...this.#waiters]) w();
  }

  /** Take back a state without logging it (from the saga log after a restart, or when the log itself failed). */
  restore(state: LineStateName, reason: string | null): void {
    this.#apply(state, reason);
  }

  /** Resolves once `pred()` holds (checked at every state change). */
  when(pred: () => boolean): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve) => {
      const w = () => {
        if (!pred()) return;
        this.#waiters.delete(w);
        resolve();
      };
      this.#waiters.add(w);
    });
  }

  snapshot(): LineState {
    const s = this.#book.summary;
    return {
      lineId: this.#lineId,
      ts: this.#clock.wallNow(),
      seq: this.#seq++,
      state: this.#state,
      reason: this.#reason,
      since: this.#since,
      cycle: s.cycle,
      step: this.#step,
      cyclesCompleted: s.cyclesCompleted,
      lastCycleMs: s.lastCycleMs === null ? null : Math.round(s.lastCycleMs),
      bypassedStations: this.#stations.bypassedIds(),
      compensations: s.compensations,
      stations: this.#stations.view(),
    };
  }

  publish(): void {
    this.#out.state(this.snapshot());
  }

  #apply(state: LineStateName, reason: string | null): void {
    if (state !== this.#state) this.#since = this.#clock.wallNow();
    this.#state = state;
    this.#reason = reason;
    this.#metrics?.state(state);
  }
}
