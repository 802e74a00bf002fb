/** The bus's public option and stats types, and its per-drive runtime record. */
import type { profiles } from '../../../../firmware-protocol/src/index.ts';
import type { Clock, TimerHandle } from '../../../runtime/src/clock.ts';
import type { Link } from '../transport/link.ts';
import type { OpenLinkOptions } from '../transport/open-link.ts';
import type { ReconnectingLink } from '../transport/reconnecting-link.ts';
import type { Parity } from '../transport/url.ts';
import type { BreakerOptions, BreakerState, DriveBreaker } from './breaker.ts';
import type { DriveRef } from './drive-access.ts';
import type { Lane } from './scheduler.ts';
import type { DriveCounters } from './stats.ts';

export type Availability = 'online' | 'unreachable';

export interface BusDrive {
  id: string;
  /** Modbus unit id (1–247) or Dynamixel device ID (0–252). */
  unit: number;
  profile: profiles.DriveProfile;
  pollHz: number;
  /**
   * Reads the profile's `watch` objects up to this often when the bus has nothing else
   * to send, and polls the drive at once when they differ from its last poll: a state
   * change is seen within a few ms of idle bus instead of up to a poll period. Off when
   * absent. Needs a profile with `watch`.
   */
  watchHz?: number | undefined;
}

/** Where the bytes go: a transport URL, a function that opens a link, or a ReconnectingLink. */
export type LinkSource = string | (() => Promise<Link>) | ReconnectingLink;

export interface BusOptions {
  linkId: string;
  protocol: 'modbus-rtu' | 'dynamixel2';
  baud: number;
  parity?: Parity;
  drives: BusDrive[];
  /**
   * A URL (`serial://…`, `tcp://…`, `memory://…`) or a link factory (e.g.
   * `async () => sim.connect('bus-a')`): the bus wraps it in a ReconnectingLink it owns.
   * A ReconnectingLink given here is started and closed by the bus as well.
   */
  link: LinkSource;
  clock?: Clock;
  breaker?: BreakerOptions;
  /**
   * Transport latency allowance added to every transaction timeout, ms. Default by
   * URL scheme: 10 serial://, 20 tcp://, 1 memory:// and link factories.
   */
  latencyMs?: number;
  /**
   * Chunk arrival times say when bytes crossed the wire, so the Modbus 3.5-character
   * silence may end a truncated frame. Default true for memory:// and link factories
   * (an in-memory link on the same clock), false for serial:// and tcp://.
   */
  wireTimestamps?: boolean;
  /** Reopen backoff when the bus builds the ReconnectingLink (default 250 ms → 10 s). */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
  /** How a URL is opened (the memory:// supplier, a serial port factory). */
  open?: OpenLinkOptions;
}

export interface RequestOptions {
  /** `high`: before any queued poll or normal request (quick stop, stop). */
  priority?: Exclude<Lane, 'poll'>;
  /** Wall-clock ms: not sent at all (EXPIRED) once this has passed. */
  deadlineWallMs?: number;
  /** Once aborted, a request still waiting in the queue is dropped unsent (WITHDRAWN). */
  signal?: AbortSignal;
}

export interface DriveStats {
  polls: number;
  /** Achieved polls per second over the recent window. */
  pollHz: number;
  timeouts: number;
  crcErrors: number;
  exceptions: number;
  /** Watch reads sent, and the polls they triggered (a watched object had changed). */
  watches: number;
  watchPolls: number;
  /**
   * `indirect`: polls read through an Indirect Address bank; `direct`: the objects'
   * own addresses. `indirectMaps`: writes of the bank's entries (1 at start, one more
   * after each reboot or power cycle of the servo).
   */
  reads: 'indirect' | 'direct';
  indirectMaps: number;
  breaker: BreakerState;
  availability: Availability;
}

export interface BusStats {
  drives: Record<string, DriveStats>;
  transactions: number;
  /** Round trip of answered transactions, recent samples. */
  latencyMs: { p50: number; p99: number };
  linkUp: boolean;
  /** Jobs waiting for the wire. */
  queued: number;
}

/** One drive's state inside the bus (not exported from the folder). */
export interface DriveRt extends DriveRef {
  /** What a poll reads: through Indirect Data while `indirect` is set, else the direct plan. */
  blocks: readonly profiles.ReadBlock[];
  readonly directBlocks: readonly profiles.ReadBlock[];
  /**
   * Polls through an Indirect Address bank (a Dynamixel profile with one): the entries
   * are written before the first poll and again whenever a poll reads 0 in the check
   * object (the servo rebooted or lost power and forgot them). Cleared for good, back
   * to direct reads, when the servo is another model than the profile's, refuses the
   * entries or keeps forgetting them.
   */
  indirect: IndirectState | undefined;
  readonly breaker: DriveBreaker;
  readonly counters: DriveCounters;
  availability: Availability;
  pollQueued: boolean;
  probeTimer: TimerHandle | undefined;
  /** The watch plan (`watchHz` set): what to read and how often at most. */
  readonly watch: DriveWatch | undefined;
  /** The values of the last successful poll. */
  lastPoll: Readonly<Record<string, number>> | undefined;
  /** When (clock ms) the watched objects were last read, by a poll or a watch read. */
  sampledAt: number;
}

export interface IndirectState {
  readonly plan: profiles.IndirectPlan;
  /** The servo answered a Ping with the profile's Model Number: its entries may be written. */
  modelChecked: boolean;
  mapped: boolean;
  /** Polls in a row that found the entries forgotten right after writing them. */
  misses: number;
}

export interface DriveWatch {
  readonly names: readonly string[];
  readonly blocks: readonly profiles.ReadBlock[];
  readonly periodMs: number;
}
