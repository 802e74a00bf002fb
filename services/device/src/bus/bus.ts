/**
 * One serial link (a bus) and every drive on it: the layer between the link and a
 * normalised per-drive stream of object values. It polls each drive at its own rate
 * from its profile's poll plan (`Poller`), serves reads and writes, keeps one
 * transaction on the wire at a time with a priority lane (`Scheduler`), isolates a
 * dead drive behind its own circuit breaker (`DriveBreaker`), and follows the link
 * down and up again (`ReconnectingLink`).
 *
 * Availability: a drive is `unreachable` until it first answers, while its breaker is
 * not closed, and while the link is down; it is `online` once it answers again (an
 * exception response or a status error is an answer: the drive is there).
 */
import { profiles } from '../../../../firmware-protocol/src/index.ts';
import { type Clock, systemClock } from '../../../runtime/src/clock.ts';
import { ReconnectingLink } from '../transport/reconnecting-link.ts';
import { parseLinkUrl, TRANSPORT_DEFAULTS } from '../transport/url.ts';
import { type BreakerState, DriveBreaker, PROBE_EARLY_MS } from './breaker.ts';
import type {
  Availability,
  BusDrive,
  BusOptions,
  BusStats,
  DriveRt,
  DriveStats,
  DriveWatch,
  RequestOptions,
} from './bus-types.ts';
import type { DriveAccess, Values } from './drive-access.ts';
import { DynamixelAccess } from './dynamixel-access.ts';
import { BusError, isBusError } from './errors.ts';
import { LineGuard } from './line-guard.ts';
import { Listeners } from './listeners.ts';
import { ModbusAccess } from './modbus-access.ts';
import { pollBlocks, pollNames } from './poll-plan.ts';
import { Poller } from './poller.ts';
import { Scheduler } from './scheduler.ts';
import { DriveCounters, LatencySamples } from './stats.ts';
import { charMs, type LineTiming } from './timing.ts';
import type { MasterOptions, TransactionRecord } from './transaction.ts';

export class Bus {
  readonly linkId: string;
  readonly #clock: Clock;
  readonly #link: ReconnectingLink;
  readonly #access: DriveAccess;
  readonly #dxl: DynamixelAccess | undefined;
  readonly #drives = new Map<string, DriveRt>();
  readonly #byUnit = new Map<number, DriveRt>();
  readonly #scheduler: Scheduler;
  readonly #poller: Poller;
  readonly #latency = new LatencySamples();
  #transactions = 0;
  #linkUp = false;
  #started = false;
  #stopped = false;
  #startedAt = 0;
  readonly #onPoll = new Listeners<[driveId: string, values: Values, atWallMs: number]>();
  readonly #onTransaction = new Listeners<[driveId: string | undefined, t: TransactionRecord]>();
  readonly #onAvailability = new Listeners<[driveId: string, a: Availability, reason: string]>();
  readonly #onBreaker = new Listeners<[driveId: string, s: BreakerState]>();
  readonly #onLink = new Listeners<[s: 'up' | 'down', reason?: string]>();

  constructor(opts: BusOptions) {
    this.linkId = opts.linkId;
    const clock = opts.clock ?? systemClock;
    this.#clock = clock;
    const kind = typeof opts.link === 'string' ? parseLinkUrl(opts.link).kind : 'memory';
    const defaults = TRANSPORT_DEFAULTS[kind];
    const line: LineTiming = {
      baud: opts.baud,
      bitsPerChar: (opts.parity ?? 'none') === 'none' ? 10 : 11,
      latencyMs: opts.latencyMs ?? defaults.latencyMs,
    };
    if (!(line.baud > 0) || !(line.latencyMs >= 0)) {
      throw new BusError('BAD_REQUEST', `${opts.linkId}: baud and latencyMs must be positive`);
    }
    this.#link =
      opts.link instanceof ReconnectingLink
        ? opts.link
        : new ReconnectingLink(opts.link, {
            clock,
            ...opts.reconnect,
            open: {
              baud: opts.baud,
              ...(opts.parity ? { parity: opts.parity } : {}),
              ...opts.open,
            },
          });
    // On the wall clock, sub-millisecond waits spin on setImmediate (see LineGuard).
    const guard = new LineGuard(
      clock,
      clock === systemClock ? (fn) => setImmediate(fn) : undefined,
    );
    // In idle bus time the poller may fill in a watch read (drives with `watchHz`).
    const watching = opts.drives.some((d) => d.watchHz !== undefined);
    this.#scheduler = new Scheduler(clock, guard, watching ? () => this.#poller.idle() : undefined);
    const master: MasterOptions = {
      clock,
      line,
      guard,
      send: (bytes) => this.#link.write(bytes),
      observe: (t) => this.#observe(t),
    };
    if (opts.protocol === 'modbus-rtu') {
      const wireTimestamps = opts.wireTimestamps ?? defaults.wireTimestamps;
      this.#access = new ModbusAccess({ ...master, wireTimestamps });
      this.#dxl = undefined;
    } else {
      this.#dxl = new DynamixelAccess(master);
      this.#access = this.#dxl;
    }
    for (const spec of opts.drives) this.#addDrive(opts, line, spec);
    const drives = [...this.#drives.values()];
    this.#poller = new Poller(clock, this.#scheduler, this.#access, this.#dxl, drives, {
      linkUp: () => this.#linkUp,
      deliver: (d, values) => this.#deliver(d, values),
      answered: (d) => this.#answered(d),
      linkDownError: (d) => this.#linkDownError(d),
    });

    this.#linkUp = this.#link.up; // a ReconnectingLink passed in may be open already
    this.#link.onData((chunk) => this.#access.feed(chunk));
    this.#link.onUp(() => this.#linkWentUp());
    this.#link.onDown((reason) => this.#linkWentDown(reason));
  }

  /** Opens the link and starts polling. */
  start(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    this.#startedAt = this.#clock.now();
    this.#link.start();
    this.#poller.start();
  }

  /**
   * Stops polling, drops queued requests (BUS_STOPPED), lets the transaction in flight
   * finish, closes the link. No availability events follow.
   */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#poller.stop();
    for (const d of this.#drives.values()) this.#clearProbe(d);
    await this.#scheduler.stop();
    this.#linkUp = false;
    this.#link.close();
  }

  /** Decoded engineering values of the poll objects, once per successful poll. */
  onPoll(listener: (driveId: string, values: Values, atWallMs: number) => void): void {
    this.#onPoll.add(listener);
  }

  /** Availability changes (only changes; every drive starts `unreachable` until it answers). */
  /** Every transaction that went on the wire (`driveId` undefined for a group read). */
  onTransaction(listener: (driveId: string | undefined, t: TransactionRecord) => void): void {
    this.#onTransaction.add(listener);
  }

  onAvailability(listener: (driveId: string, a: Availability, reason: string) => void): void {
    this.#onAvailability.add(listener);
  }

  onBreaker(listener: (driveId: string, s: BreakerState) => void): void {
    this.#onBreaker.add(listener);
  }

  onLink(listener: (s: 'up' | 'down', reason?: string) => void): void {
    this.#onLink.add(listener);
  }

  /**
   * Writes named objects in order, as one or more transactions (adjacent objects
   * merged into one FC 0x10 / one Dynamixel Write). Rejects BAD_REQUEST or
   * UNKNOWN_DRIVE at once, DRIVE_UNREACHABLE or EXPIRED without sending,
   * DRIVE_REJECTED when the drive refuses, TIMEOUT / LINK_DOWN when the outcome is
   * unknown.
   */
  write(
    driveId: string,
    values: readonly (readonly [name: string, value: number])[],
    opts: RequestOptions = {},
  ): Promise<void> {
    return this.#request(driveId, opts, (d) => this.#access.prepareWrite(d, values));
  }

  /** Reads named objects (merged into as few reads as the profile allows). Errors as `write`. */
  read(
    driveId: string,
    names: readonly string[],
    opts: RequestOptions = {},
  ): Promise<Record<string, number>> {
    return this.#request(driveId, opts, (d) => this.#access.prepareRead(d, names));
  }

  /**
   * Dynamixel Reboot instruction (clears a hardware error; e-manual §Reboot). Errors
   * as `write`; BAD_REQUEST on a Modbus bus.
   */
  reboot(driveId: string, opts: RequestOptions = {}): Promise<void> {
    const dxl = this.#dxl;
    if (dxl === undefined) {
      return Promise.reject(
        new BusError('BAD_REQUEST', `${driveId}: reboot is a Dynamixel instruction`),
      );
    }
    return this.#request(driveId, opts, (d) => dxl.prepareReboot(d));
  }

  availability(driveId: string): Availability {
    return this.#drive(driveId).availability;
  }

  breakerState(driveId: string): BreakerState {
    return this.#drive(driveId).breaker.state;
  }

  stats(): BusStats {
    const now = this.#clock.now();
    const drives: Record<string, DriveStats> = {};
    for (const d of this.#drives.values()) {
      const c = d.counters;
      drives[d.id] = {
        polls: c.polls,
        pollHz: this.#started ? c.achievedHz(now, this.#startedAt) : 0,
        timeouts: c.timeouts,
        crcErrors: c.crcErrors,
        exceptions: c.exceptions,
        watches: c.watches,
        watchPolls: c.watchPolls,
        reads: d.indirect ? 'indirect' : 'direct',
        indirectMaps: c.indirectMaps,
        breaker: d.breaker.state,
        availability: d.availability,
      };
    }
    return {
      drives,
      transactions: this.#transactions,
      latencyMs: this.#latency.percentiles(),
      linkUp: this.#linkUp,
      queued: this.#scheduler.depth,
    };
  }

  // ------------------------------------------------------------------ drives

  #addDrive(opts: BusOptions, line: LineTiming, spec: BusDrive): void {
    const bad = (why: string) => new BusError('BAD_REQUEST', `${opts.linkId}: ${spec.id}: ${why}`);
    if (this.#drives.has(spec.id)) throw bad('duplicate drive id');
    if (this.#byUnit.has(spec.unit)) throw bad(`unit ${spec.unit} used twice`);
    if (spec.profile.protocol !== opts.protocol) {
      throw bad(`profile ${spec.profile.name} is ${spec.profile.protocol}, not ${opts.protocol}`);
    }
    // Modbus over serial line V1.02 §2.2: 1–247; e-manual §Packet ID: 0–252
    const [minUnit, maxUnit] = opts.protocol === 'modbus-rtu' ? [1, 247] : [0, 252];
    if (!Number.isInteger(spec.unit) || spec.unit < minUnit || spec.unit > maxUnit) {
      throw bad(`unit ${spec.unit} outside ${minUnit}–${maxUnit}`);
    }
    if (!(spec.pollHz > 0) || !Number.isFinite(spec.pollHz)) throw bad('pollHz must be > 0');
    let watch: DriveWatch | undefined;
    if (spec.watchHz !== undefined) {
      if (!(spec.watchHz > 0) || !Number.isFinite(spec.watchHz)) throw bad('watchHz must be > 0');
      const names = spec.profile.watch;
      if (names === undefined) throw bad(`profile ${spec.profile.name} has no watch objects`);
      watch = {
        names,
        blocks: pollBlocks(spec.profile, charMs(line), names),
        periodMs: 1000 / spec.watchHz,
      };
    }
    const directBlocks = pollBlocks(spec.profile, charMs(line));
    const plan = profiles.planIndirect(spec.profile, pollNames(spec.profile));
    // Through Indirect Data when that reads fewer bytes: xm430's poll list, 21 not 83.
    const indirect =
      plan && plan.block.quantity < directBlocks.reduce((n, b) => n + b.quantity, 0)
        ? { plan, modelChecked: false, mapped: false, misses: 0 }
        : undefined;
    const d: DriveRt = {
      id: spec.id,
      unit: spec.unit,
      profile: spec.profile,
      blocks: indirect ? [indirect.plan.block] : directBlocks,
      directBlocks,
      indirect,
      breaker: new DriveBreaker(this.#clock, opts.breaker ?? {}, (s) => this.#breakerChanged(d, s)),
      counters: new DriveCounters(1000 / spec.pollHz),
      availability: 'unreachable',
      pollQueued: false,
      probeTimer: undefined,
      watch,
      lastPoll: undefined,
      sampledAt: Number.NEGATIVE_INFINITY,
    };
    this.#drives.set(d.id, d);
    this.#byUnit.set(d.unit, d);
  }

  #drive(driveId: string): DriveRt {
    const d = this.#drives.get(driveId);
    if (d === undefined) {
      throw new BusError('UNKNOWN_DRIVE', `no drive ${driveId} on bus ${this.linkId}`);
    }
    return d;
  }

  #deliver(d: DriveRt, values: Values): void {
    const now = this.#clock.now();
    d.counters.poll(now);
    d.lastPoll = values;
    d.sampledAt = now;
    this.#answered(d);
    this.#onPoll.emit(d.id, values, this.#clock.wallNow());
  }

  /** The drive answered: online, unless its breaker or the link says otherwise. */
  #answered(d: DriveRt): void {
    if (this.#linkUp && d.breaker.state === 'closed')
      this.#setAvailability(d, 'online', 'answering');
  }

  #setAvailability(d: DriveRt, a: Availability, reason: string): void {
    if (d.availability === a) return;
    d.availability = a;
    this.#onAvailability.emit(d.id, a, reason);
  }

  // ------------------------------------------------------------------ breakers

  #breakerChanged(d: DriveRt, s: BreakerState): void {
    this.#onBreaker.emit(d.id, s);
    if (s !== 'open') return;
    const last = d.breaker.lastFailure;
    const why = last instanceof Error ? last.message : 'no answer';
    this.#setAvailability(d, 'unreachable', `circuit breaker open: ${why}`);
    this.#scheduleProbe(d);
  }

  /** One probe when the breaker's backoff has passed: a poll read, let through half-open. */
  #scheduleProbe(d: DriveRt): void {
    this.#clearProbe(d);
    const due = d.breaker.probeDueAt;
    if (due === undefined || this.#stopped) return;
    d.probeTimer = this.#clock.setTimer(due - this.#clock.now(), () => {
      d.probeTimer = undefined;
      // Wall-clock timers may fire a little early; the breaker's gate allows for that
      // (PROBE_EARLY_MS). Far too early (a clock jump): wait for the real due time.
      if (this.#clock.now() < due - PROBE_EARLY_MS) {
        this.#scheduleProbe(d);
        return;
      }
      // Link down: the probe goes when the link is back (`#linkWentUp`).
      if (this.#linkUp && !this.#stopped) this.#poller.pushPoll(d);
    });
  }

  #clearProbe(d: DriveRt): void {
    if (d.probeTimer) this.#clock.clearTimer(d.probeTimer);
    d.probeTimer = undefined;
  }

  // ------------------------------------------------------------------ requests

  #request<T>(
    driveId: string,
    opts: RequestOptions,
    prepare: (d: DriveRt) => () => Promise<T>,
  ): Promise<T> {
    try {
      if (this.#stopped) throw new BusError('BUS_STOPPED', `bus ${this.linkId} is stopped`);
      const d = this.#drive(driveId);
      const op = prepare(d);
      const deadline = opts.deadlineWallMs;
      if (deadline !== undefined && this.#clock.wallNow() > deadline) {
        throw new BusError('EXPIRED', `${d.id}: deadline already passed`);
      }
      const refused = withdrawn(d, opts.signal) ?? this.#refuse(d);
      if (refused) throw refused;
      return new Promise<T>((resolve, reject) => {
        this.#scheduler.push({
          lane: opts.priority ?? 'normal',
          deadlineWallMs: deadline,
          check: () => withdrawn(d, opts.signal) ?? this.#refuse(d),
          drop: reject,
          run: async () => {
            try {
              const v = await d.breaker.execute(d.id, op);
              this.#answered(d);
              resolve(v);
            } catch (err) {
              if (isBusError(err, 'DRIVE_REJECTED')) this.#answered(d);
              reject(err);
            }
          },
        });
      });
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Why a request to `d` must fail fast without being sent, if it must. */
  #refuse(d: DriveRt): BusError | undefined {
    if (!this.#linkUp) return this.#linkDownError(d);
    const s = d.breaker.state;
    if (s !== 'closed') {
      return new BusError('DRIVE_UNREACHABLE', `${d.id}: circuit breaker ${s}`, {
        cause: d.breaker.lastFailure,
      });
    }
    return undefined;
  }

  #linkDownError(d: DriveRt): BusError {
    return new BusError('DRIVE_UNREACHABLE', `${d.id}: link ${this.linkId} is down`, {
      cause: new BusError('LINK_DOWN', `link ${this.linkId} is down`),
    });
  }

  // ------------------------------------------------------------------ link

  #linkWentUp(): void {
    if (this.#stopped) return;
    this.#linkUp = true;
    this.#onLink.emit('up');
    // Probes that fell due while the link was down go now.
    for (const d of this.#drives.values()) {
      if (d.breaker.state === 'open' && d.probeTimer === undefined) this.#scheduleProbe(d);
    }
  }

  #linkWentDown(reason: string): void {
    if (this.#stopped) return;
    this.#linkUp = false;
    this.#access.abort(
      new BusError('LINK_DOWN', `link ${this.linkId} went down in a transaction (${reason})`),
    );
    this.#onLink.emit('down', reason);
    for (const d of this.#drives.values()) {
      this.#setAvailability(d, 'unreachable', `link down: ${reason}`);
    }
  }

  #observe(t: TransactionRecord): void {
    this.#transactions++;
    const d0 = t.unit === undefined ? undefined : this.#byUnit.get(t.unit);
    this.#onTransaction.emit(d0?.id, t);
    if (t.outcome === 'ok' || t.outcome === 'rejected') this.#latency.add(t.ms);
    const d = d0;
    if (d === undefined) return;
    if (t.outcome === 'timeout') d.counters.timeouts++;
    if (t.outcome === 'rejected') d.counters.exceptions++;
    d.counters.crcErrors += t.crcErrors;
  }
}

function withdrawn(d: DriveRt, signal: AbortSignal | undefined): BusError | undefined {
  if (!signal?.aborted) return undefined;
  return new BusError('WITHDRAWN', `${d.id}: withdrawn before sending (${String(signal.reason)})`);
}
