/**
 * The gateway's picture of the fleet, kept in memory from MQTT: every drive's
 * availability, birth certificate, latest state and breaker states, plus what the
 * line controller and the other processes announce. Requests are answered from here
 * and never wait on a drive. Drives come from the fleet file (so they are known
 * before their device service says a word) and from any birth certificate seen.
 */
import type { Availability, DriveState, Meta } from '../../../contract/src/index.ts';
import type { Fleet } from '../../../runtime/src/index.ts';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface DriveRecord {
  readonly id: string;
  readonly inFleet: boolean;
  link: string | null;
  line: { id: string; station: string } | null;
  availability: Availability | null;
  meta: Meta | null;
  state: DriveState | null;
  /** The device service's bus breaker, from its `breaker` events (null: not heard yet). */
  deviceBreaker: BreakerState | null;
  /** The gateway's own breaker on command round trips. */
  gatewayBreaker: BreakerState;
  /** `ts` of the last availability that came live (not from the retained store). */
  liveAvailabilityTs: number | null;
  /** Wall-clock ms of the last message about the drive. */
  updatedAt: number | null;
  /** Bumped on every change (cache key for the serialised view). */
  version: number;
}

export interface DriveView {
  id: string;
  link: string | null;
  line: { id: string; station: string } | null;
  availability: Availability | null;
  state: DriveState | null;
  meta: Meta | null;
  breaker: { device: BreakerState | null; gateway: BreakerState };
  /** Not `online`, never heard of, or a breaker open: commands fail fast. */
  dead: boolean;
  updatedAt: number | null;
}

export interface LineRecord {
  id: string;
  /** The line controller's last retained state, verbatim (its shape is the line controller's). */
  state: Record<string, unknown>;
  updatedAt: number;
}

export class ReadModel {
  readonly #drives = new Map<string, DriveRecord>();
  readonly #lines = new Map<string, LineRecord>();
  readonly #services = new Map<string, Availability>();
  readonly #fleetLines: Fleet['lines'];
  #version = 0;

  constructor(fleet: Fleet) {
    this.#fleetLines = fleet.lines;
    const lineOf = new Map<string, { id: string; station: string }>();
    for (const line of fleet.lines) {
      for (const s of line.stations)
        for (const d of s.drives) lineOf.set(d, { id: line.id, station: s.id });
    }
    for (const link of fleet.links) {
      for (const d of link.drives) {
        this.#drives.set(d.id, newRecord(d.id, true, link.id, lineOf.get(d.id) ?? null));
      }
    }
  }

  /** Bumped on every change to any drive. */
  get version(): number {
    return this.#version;
  }

  has(id: string): boolean {
    return this.#drives.has(id);
  }

  get(id: string): DriveRecord | undefined {
    return this.#drives.get(id);
  }

  /** In fleet-file order, then drives learnt from MQTT. */
  all(): DriveRecord[] {
    return [...this.#drives.values()];
  }

  /** Every fleet drive has said something about its availability. */
  allReported(): boolean {
    for (const d of this.#drives.values()) if (d.inFleet && !d.availability) return false;
    return true;
  }

  counts(): { drives: number; reported: number; online: number } {
    let reported = 0;
    let online = 0;
    for (const d of this.#drives.values()) {
      if (d.availability) reported++;
      if (d.availability?.status === 'online') online++;
    }
    return { drives: this.#drives.size, reported, online };
  }

  /**
   * `retained`: delivered from the broker's store on subscribing, so possibly older
   * than a live message already taken (a subscription racing the drive's own update):
   * it is used only when newer than the last live one. Live messages always win —
   * among them the broker's last will, whose `ts` is from when the session began.
   */
  setAvailability(id: string, a: Availability, retained = false): DriveRecord | undefined {
    const r = this.#ensure(id);
    if (retained && r.liveAvailabilityTs !== null && a.ts <= r.liveAvailabilityTs) return undefined;
    if (!retained) r.liveAvailabilityTs = a.ts;
    r.availability = a;
    // The device service reports its breaker through availability too ("breaker open").
    if (a.status === 'online' && r.deviceBreaker === 'open') r.deviceBreaker = 'closed';
    else if (a.status === 'unreachable' && /breaker/i.test(a.reason ?? ''))
      r.deviceBreaker = 'open';
    return this.#touch(r, a.ts);
  }

  setMeta(id: string, m: Meta): DriveRecord {
    const r = this.#ensure(id);
    r.meta = m;
    if (!r.inFleet) r.link = m.link;
    return this.#touch(r, m.ts);
  }

  setState(id: string, s: DriveState): DriveRecord | undefined {
    const r = this.#ensure(id);
    // Retained state can arrive after a newer live one on reconnect: keep the newest
    // (seq restarts with the device service, so compare times first).
    if (r.state && s.ts < r.state.ts) return undefined;
    r.state = s;
    return this.#touch(r, s.ts);
  }

  setDeviceBreaker(id: string, b: BreakerState, ts: number): DriveRecord {
    const r = this.#ensure(id);
    r.deviceBreaker = b;
    return this.#touch(r, ts);
  }

  setGatewayBreaker(id: string, b: BreakerState, ts: number): DriveRecord | undefined {
    const r = this.#drives.get(id);
    if (!r) return undefined;
    r.gatewayBreaker = b;
    return this.#touch(r, ts);
  }

  setLineState(id: string, state: Record<string, unknown>, ts: number): void {
    this.#lines.set(id, { id, state, updatedAt: ts });
  }

  lines(): LineRecord[] {
    return [...this.#lines.values()];
  }

  line(id: string): LineRecord | undefined {
    return this.#lines.get(id);
  }

  /** Lines of the fleet file (structure only). */
  fleetLines(): Fleet['lines'] {
    return this.#fleetLines;
  }

  setService(id: string, a: Availability): void {
    this.#services.set(id, a);
  }

  services(): ReadonlyMap<string, Availability> {
    return this.#services;
  }

  #ensure(id: string): DriveRecord {
    let r = this.#drives.get(id);
    if (!r) {
      r = newRecord(id, false, null, null);
      this.#drives.set(id, r);
      this.#version++;
    }
    return r;
  }

  #touch(r: DriveRecord, ts: number): DriveRecord {
    r.updatedAt = Math.max(r.updatedAt ?? 0, ts);
    r.version++;
    this.#version++;
    return r;
  }
}

function newRecord(
  id: string,
  inFleet: boolean,
  link: string | null,
  line: { id: string; station: string } | null,
): DriveRecord {
  return {
    id,
    inFleet,
    link,
    line,
    availability: null,
    meta: null,
    state: null,
    deviceBreaker: null,
    gatewayBreaker: 'closed',
    liveAvailabilityTs: null,
    updatedAt: null,
    version: 0,
  };
}

export function isDead(r: DriveRecord): boolean {
  return (
    r.availability?.status !== 'online' || r.deviceBreaker === 'open' || r.gatewayBreaker === 'open'
  );
}

export function driveView(r: DriveRecord): DriveView {
  return {
    id: r.id,
    link: r.link,
    line: r.line,
    availability: r.availability,
    state: r.state,
    meta: r.meta,
    breaker: { device: r.deviceBreaker, gateway: r.gatewayBreaker },
    dead: isDead(r),
    updatedAt: r.updatedAt,
  };
}
