/**
 * The polls of one bus: each drive at its own rate on deadlines (`Ticker`), at most
 * one poll per drive waiting for the wire, Dynamixel drives of one profile and rate
 * read together with one group read per cycle. A drive whose breaker is not closed
 * is left out (the bus probes it on its own schedule), so a dead unit costs the
 * others nothing.
 *
 * Watch reads (drives with `watchHz`): when the wire is idle, the poller reads the
 * profile's `watch` objects (the statusword: one register) of the watched drive whose
 * last sample is oldest, at most `watchHz` times a second per drive, and polls the drive
 * at once, at the front of the poll lane, when they differ from its last poll. A state
 * change is then seen a few ms after it happens instead of up to a poll period later,
 * and state messages still come from whole polls only. Watch reads use only wire time
 * nothing else wants; they cost the drive's CPU and the device service's.
 */
import { dynamixel, type profiles } from '../../../../firmware-protocol/src/index.ts';
import type { Clock } from '../../../runtime/src/clock.ts';
import type { DriveRt } from './bus-types.ts';
import type { DriveAccess, Values } from './drive-access.ts';
import type { DynamixelAccess } from './dynamixel-access.ts';
import { BusError, isBusError } from './errors.ts';
import type { Job, Scheduler } from './scheduler.ts';
import { Ticker } from './ticker.ts';

/** What the poller needs from its bus. */
export interface PollerHost {
  linkUp(): boolean;
  /** A successful poll: its values. */
  deliver(d: DriveRt, values: Values): void;
  /** The drive answered (possibly with an exception / status error). */
  answered(d: DriveRt): void;
  /** Why a poll cannot go out while the link is down. */
  linkDownError(d: DriveRt): BusError;
}

/** Dynamixel drives of one profile and poll rate, polled with one group read. */
interface DxlGroup {
  readonly drives: DriveRt[];
  readonly blocks: readonly profiles.ReadBlock[];
  /** Read through Indirect Data: a member that fell back to direct reads is polled on its own. */
  readonly indirect: boolean;
  readonly fast: boolean;
  readonly periodMs: number;
  queued: boolean;
}

export class Poller {
  readonly #clock: Clock;
  readonly #scheduler: Scheduler;
  readonly #access: DriveAccess;
  readonly #dxl: DynamixelAccess | undefined;
  readonly #drives: readonly DriveRt[];
  readonly #host: PollerHost;
  readonly #groups: DxlGroup[] = [];
  readonly #tickers: Ticker[] = [];
  readonly #watched: readonly DriveRt[];
  #watchCursor = 0;

  constructor(
    clock: Clock,
    scheduler: Scheduler,
    access: DriveAccess,
    dxl: DynamixelAccess | undefined,
    drives: readonly DriveRt[],
    host: PollerHost,
  ) {
    this.#clock = clock;
    this.#scheduler = scheduler;
    this.#access = access;
    this.#dxl = dxl;
    this.#drives = drives;
    this.#host = host;
    this.#watched = drives.filter((d) => d.watch !== undefined);
    if (dxl) this.#groupDynamixel();
  }

  /**
   * The scheduler's idle filler: a watch read of the watched drive due longest, ms
   * until one falls due, or undefined (link down, nothing watched and able to answer).
   */
  idle(): Job | number | undefined {
    const n = this.#watched.length;
    if (n === 0 || !this.#host.linkUp()) return undefined;
    const now = this.#clock.now();
    let best: DriveRt | undefined;
    let bestDue = Number.POSITIVE_INFINITY;
    for (let k = 0; k < n; k++) {
      const d = this.#watched[(this.#watchCursor + k) % n]!;
      if (d.breaker.state !== 'closed' || d.pollQueued) continue;
      const due = d.sampledAt + d.watch!.periodMs;
      if (due < bestDue) {
        best = d;
        bestDue = due;
      }
    }
    if (best === undefined) return undefined;
    if (bestDue > now) return bestDue - now;
    this.#watchCursor = (this.#watched.indexOf(best) + 1) % n;
    const d = best;
    return {
      lane: 'poll',
      check: () => (this.#host.linkUp() ? undefined : this.#host.linkDownError(d)),
      drop: () => undefined,
      run: () => this.#runWatch(d),
    };
  }

  async #runWatch(d: DriveRt): Promise<void> {
    const watch = d.watch!;
    d.counters.watches++;
    try {
      const v = await d.breaker.execute(d.id, () => this.#access.readBlocks(d, watch.blocks));
      d.sampledAt = this.#clock.now();
      this.#host.answered(d);
      const ref = d.lastPoll;
      if (ref === undefined || watch.names.some((name) => v[name] !== ref[name])) {
        d.counters.watchPolls++;
        this.pushPoll(d, true);
      }
    } catch (err) {
      // A failed read waits its period like a good one (the breaker counts it).
      d.sampledAt = this.#clock.now();
      if (isBusError(err, 'DRIVE_REJECTED')) this.#host.answered(d);
    }
  }

  /**
   * Starts one ticker per poll period. At each tick every group and drive of that
   * period is queued at once, in the `poll` lane, and the link reads them back to back:
   * a cycle is one timer wake of the process rather than one per group or drive (on a
   * small VM each wake of an idle process costs it ~0.1 ms of CPU), and a command
   * queued meanwhile goes before the rest of the cycle.
   */
  start(): void {
    const byPeriod = new Map<number, (() => void)[]>();
    const add = (periodMs: number, tick: () => void) => {
      const ticks = byPeriod.get(periodMs);
      if (ticks) ticks.push(tick);
      else byPeriod.set(periodMs, [tick]);
    };
    if (this.#dxl) for (const g of this.#groups) add(g.periodMs, () => this.#tickGroup(g));
    else for (const d of this.#drives) add(d.counters.periodMs, () => this.#tick(d));
    for (const [periodMs, ticks] of byPeriod) {
      const t = new Ticker(this.#clock, periodMs, () => {
        for (const tick of ticks) tick();
      });
      t.start();
      this.#tickers.push(t);
    }
  }

  stop(): void {
    for (const t of this.#tickers) t.stop();
  }

  /**
   * Queues one read of `d`'s poll plan through its breaker (at most one waits at a
   * time). With the breaker open and its probe due, this read is the probe.
   */
  pushPoll(d: DriveRt, front = false): void {
    if (d.pollQueued) return;
    d.pollQueued = true;
    this.#scheduler.push(
      {
        lane: 'poll',
        dueAt: this.#clock.now() + d.counters.periodMs,
        check: () => (this.#host.linkUp() ? undefined : this.#host.linkDownError(d)),
        drop: () => {
          d.pollQueued = false;
        },
        run: () => this.#runPoll(d),
      },
      front,
    );
  }

  #tick(d: DriveRt): void {
    if (this.#host.linkUp() && d.breaker.state === 'closed') this.pushPoll(d);
  }

  async #runPoll(d: DriveRt): Promise<void> {
    d.pollQueued = false;
    try {
      // Breaker open and the probe not due: fails fast, nothing sent. Due: the probe.
      const values = await d.breaker.execute(d.id, async () => {
        await this.#map(d);
        return this.#access.readBlocks(d, d.blocks);
      });
      if (!this.#forgotten(d, values)) this.#host.deliver(d, values);
    } catch (err) {
      if (isBusError(err, 'DRIVE_REJECTED')) this.#host.answered(d);
      // TIMEOUT and BAD_RESPONSE are counted by the breaker; DRIVE_UNREACHABLE sent nothing.
    }
  }

  /**
   * Writes `d`'s Indirect Address entries when it polls through a bank and they are not
   * known to be in place. Nothing is written to a servo that has not answered a Ping
   * with the profile's Model Number (another model's control table may hold anything
   * at those addresses): that one, and one that refuses the entries (a status error),
   * is read directly from then on. A timeout throws, for the breaker to count.
   */
  async #map(d: DriveRt): Promise<void> {
    const ind = d.indirect;
    if (ind === undefined || ind.mapped || this.#dxl === undefined) return;
    try {
      if (!ind.modelChecked) {
        if ((await this.#dxl.modelNumber(d)) !== d.profile.modelNumber) {
          this.#direct(d);
          return;
        }
        ind.modelChecked = true;
      }
      d.counters.indirectMaps++;
      await this.#dxl.mapIndirect(d, ind.plan);
      ind.mapped = true;
    } catch (err) {
      if (!isBusError(err, 'DRIVE_REJECTED')) throw err;
      this.#direct(d);
    }
  }

  /**
   * A poll through Indirect Data that reads 0 in the check object (Status Return Level,
   * never 0 while the servo answers reads) comes from a servo that has forgotten its
   * entries (a reboot, a power cycle): it is not delivered, the entries are written
   * again and the drive polled at once. Three such polls in a row right after writing
   * the entries: the servo does not keep them, and is read directly from then on.
   */
  #forgotten(d: DriveRt, values: Values): boolean {
    const ind = d.indirect;
    if (ind === undefined) return false;
    if (values[ind.plan.check] !== 0) {
      ind.misses = 0;
      return false;
    }
    ind.mapped = false;
    if (++ind.misses >= 3) this.#direct(d);
    this.pushPoll(d, true);
    return true;
  }

  #direct(d: DriveRt): void {
    d.indirect = undefined;
    d.blocks = d.directBlocks;
  }

  /**
   * Dynamixel drives of the same profile and rate share one group read (e-manual §Sync
   * Read); with Fast Sync Read, only as many as its one combined status packet can carry.
   */
  #groupDynamixel(): void {
    for (const d of this.#drives) {
      const g = this.#groups.find(
        (x) =>
          x.drives[0]!.profile === d.profile &&
          x.periodMs === d.counters.periodMs &&
          (!x.fast || x.drives.length < fastGroupLimit(x.blocks)),
      );
      if (g) g.drives.push(d);
      else {
        this.#groups.push({
          drives: [d],
          blocks: d.blocks,
          indirect: d.indirect !== undefined,
          fast: d.profile.fastSyncRead === true,
          periodMs: d.counters.periodMs,
          queued: false,
        });
      }
    }
  }

  #tickGroup(g: DxlGroup): void {
    if (!this.#host.linkUp() || g.queued) return;
    const members: DriveRt[] = [];
    for (const d of g.drives) {
      if (d.breaker.state !== 'closed') continue;
      // One that fell back to direct reads is polled on its own.
      if (this.#readsLike(d, g)) members.push(d);
      else this.pushPoll(d);
    }
    if (members.length === 1) this.pushPoll(members[0]!);
    if (members.length < 2) return;
    g.queued = true;
    this.#scheduler.push({
      lane: 'poll',
      dueAt: this.#clock.now() + g.periodMs,
      check: () => (this.#host.linkUp() ? undefined : new BusError('LINK_DOWN', 'link down')),
      drop: () => {
        g.queued = false;
      },
      run: () => this.#runGroup(g),
    });
  }

  /** Whether `d` reads the group's way (through Indirect Data, or not). */
  #readsLike(d: DriveRt, g: DxlGroup): boolean {
    return (d.indirect !== undefined) === g.indirect;
  }

  async #runGroup(g: DxlGroup): Promise<void> {
    g.queued = false;
    if (this.#dxl === undefined) return;
    const fallback: DriveRt[] = [];
    const members: DriveRt[] = [];
    for (const d of g.drives) {
      if (d.breaker.state !== 'closed' || !this.#readsLike(d, g)) continue;
      if (d.indirect === undefined || d.indirect.mapped) members.push(d);
      // Entries not in place (start, reboot): written and read on its own, now, where
      // its breaker counts a servo that does not answer.
      else fallback.push(d);
    }
    let result: Map<string, Values | BusError> = new Map();
    if (members.length > 0) {
      try {
        result = await this.#dxl.groupRead(members, g.blocks, g.fast && members.length > 1);
      } catch {
        return; // LINK_DOWN: the bus has made everyone unreachable
      }
    }
    for (const d of members) {
      const r = result.get(d.id);
      if (r === undefined) {
        fallback.push(d);
      } else if (r instanceof BusError) {
        d.breaker.recordSuccess();
        d.counters.exceptions++;
        this.#host.answered(d);
      } else {
        d.breaker.recordSuccess();
        if (!this.#forgotten(d, r)) this.#host.deliver(d, r);
      }
    }
    // The group read failed for these: read each on its own, now, so that a dead servo
    // is found by its own breaker and does not blind the others.
    for (const d of fallback.reverse()) this.pushPoll(d, true);
  }
}

/**
 * Servos one Fast Sync Read may ask: its combined status packet has LEN = n × (4 + L)
 * (error, ID, data and CRC per servo; e-manual §Fast Sync Read), and a packet longer
 * than the framer's limit (DynamixelSDK's 1024) is dropped — every servo would then fall
 * back to a read of its own each cycle. A tenth is kept back for byte stuffing.
 */
export function fastGroupLimit(blocks: readonly profiles.ReadBlock[]): number {
  const l = Math.max(1, ...blocks.map((b) => b.quantity));
  return Math.max(1, Math.floor(dynamixel.DEFAULT_MAX_PACKET_LENGTH / ((4 + l) * 1.1)));
}
