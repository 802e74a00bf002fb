/**
 * The simulator: drives with physics on one clock, one bus per link with its protocol
 * slave, the link servers (TCP, PTY, in-memory), and fault injection. Deterministic
 * for a given seed and clock: with a ManualClock a run replays byte for byte.
 */
import { cia402, type profiles } from '../../firmware-protocol/src/index.ts';
import { type Clock, ManualClock, realClock, type TimerHandle } from './clock.ts';
import { SimDrive } from './drive/sim-drive.ts';
import { SimError } from './errors.ts';
import { type DriveFaultState, noDriveFaults } from './faults/drive-faults.ts';
import { type Fault, isLinkFault } from './faults/fault-schema.ts';
import type { Link } from './links/link.ts';
import { createMemoryLinkPair } from './links/memory-link.ts';
import { PtyLinkServer } from './links/pty-link.ts';
import { TcpLinkServer } from './links/tcp-link-server.ts';
import { Wire } from './links/wire.ts';
import { createRng, deriveSeed } from './rng.ts';
import { SimBus } from './sim-bus.ts';
import { ControlTable } from './slaves/control-table.ts';
import { DynamixelSlave } from './slaves/dynamixel-slave.ts';
import { ModbusSlave } from './slaves/modbus-slave.ts';

export interface SimDriveSpec {
  id: string;
  unit: number;
  profile: profiles.DriveProfile;
  /** Mechanical position of the home switch, counts. */
  homeSwitch?: number;
}

export interface SimLinkSpec {
  id: string;
  protocol: 'modbus-rtu' | 'dynamixel2';
  baud: number;
  parity?: 'none' | 'even' | 'odd';
  /** `tcp://host:port` (port 0: any free port), `pty:///path/for/the/master`, or `memory://`. */
  listen: string;
  /** Slave turnaround before answering, ms (default: the profile's). */
  turnaroundMs?: number;
  /** Pace bytes at the baud rate (default true). */
  paced?: boolean;
  /**
   * Modbus RTU: answer a request that follows another unit's reply without the
   * 3.5-character silence (default false: it is lost, as on a real RS-485 bus; see
   * ModbusSlave).
   */
  lenientFraming?: boolean;
  drives: SimDriveSpec[];
}

export interface SimulatorOptions {
  seed?: number;
  physicsHz?: number;
  /** Default: the wall clock. Pass a ManualClock to step time yourself. */
  clock?: Clock;
  /** How often the physics loop catches up with the clock, ms (default 5). */
  tickMs?: number;
  links: SimLinkSpec[];
}

interface DriveEntry {
  drive: SimDrive;
  link: string;
  faults: DriveFaultState;
}

interface LinkEntry {
  spec: SimLinkSpec;
  bus: SimBus;
  server: TcpLinkServer | PtyLinkServer | undefined;
}

export interface ActiveFault {
  fault: Fault;
  since: number;
}

export class Simulator {
  readonly clock: Clock;
  readonly #links = new Map<string, LinkEntry>();
  readonly #drives = new Map<string, DriveEntry>();
  readonly #dt: number;
  readonly #tickMs: number;
  #physicsTime: number;
  #loop: TimerHandle | undefined;
  #closed = false;
  #faults: ActiveFault[] = [];
  #faultTimers = new Set<TimerHandle>();
  /** Physics steps run, and catch-ups that had to skip time (the host was too slow). */
  readonly stats = { steps: 0, skipped: 0 };

  constructor(opts: SimulatorOptions) {
    const seed = opts.seed ?? 1;
    this.clock = opts.clock ?? realClock;
    this.#dt = 1000 / (opts.physicsHz ?? 1000);
    this.#tickMs = opts.tickMs ?? 5;
    this.#physicsTime = this.clock.now();
    for (const spec of opts.links) this.#addLink(spec, seed);
  }

  #addLink(spec: SimLinkSpec, seed: number): void {
    if (this.#links.has(spec.id))
      throw new SimError('SIM_CONFIG_INVALID', `duplicate link ${spec.id}`);
    if (!/^(tcp|pty|memory):\/\//.test(spec.listen)) {
      throw new SimError('SIM_CONFIG_INVALID', `link ${spec.id}: cannot listen on ${spec.listen}`);
    }
    const bitsPerChar = (spec.parity ?? 'none') === 'none' ? 10 : 11;
    const wire = new Wire(this.clock, { baud: spec.baud, bitsPerChar, paced: spec.paced ?? true });
    const rng = createRng(deriveSeed(seed, `link:${spec.id}`));
    const bus = new SimBus(spec.id, this.clock, wire, rng, (at) => this.stepTo(at));
    const units = new Set<number>();
    const entries: DriveEntry[] = [];
    for (const d of spec.drives) {
      if (this.#drives.has(d.id))
        throw new SimError('SIM_CONFIG_INVALID', `duplicate drive ${d.id}`);
      if (units.has(d.unit))
        throw new SimError('SIM_CONFIG_INVALID', `link ${spec.id}: unit ${d.unit} used twice`);
      if (d.profile.protocol !== spec.protocol) {
        throw new SimError(
          'SIM_CONFIG_INVALID',
          `drive ${d.id}: profile ${d.profile.name} is not ${spec.protocol}`,
        );
      }
      units.add(d.unit);
      const drive = new SimDrive({
        id: d.id,
        unit: d.unit,
        rng: createRng(deriveSeed(seed, `drive:${d.id}`)),
        ...(d.homeSwitch === undefined ? {} : { homeSwitch: d.homeSwitch }),
      });
      const entry = { drive, link: spec.id, faults: noDriveFaults() };
      this.#drives.set(d.id, entry);
      entries.push(entry);
    }
    if (spec.protocol === 'modbus-rtu') {
      const turnaroundMs = spec.turnaroundMs ?? spec.drives[0]?.profile.turnaroundMs ?? 1;
      const units = entries.map((e, i) => ({
        drive: e.drive,
        profile: spec.drives[i]!.profile,
        faults: e.faults,
      }));
      bus.setSlave(
        new ModbusSlave(units, bus.reply, this.clock, {
          baud: spec.baud,
          bitsPerChar,
          turnaroundMs,
          paced: spec.paced ?? true,
          lenientFraming: spec.lenientFraming ?? false,
        }),
      );
    } else {
      const units = entries.map((e, i) => {
        const table = new ControlTable(e.drive, spec.drives[i]!.profile);
        return { table, faults: e.faults };
      });
      bus.setSlave(new DynamixelSlave(units, bus.reply));
    }
    this.#links.set(spec.id, { spec, bus, server: undefined });
  }

  /** Open the TCP and PTY link servers and start the physics loop. Returns where each link listens. */
  async start(): Promise<{ link: string; address: string }[]> {
    const out: { link: string; address: string }[] = [];
    for (const [id, l] of this.#links) {
      const url = l.spec.listen;
      try {
        if (url.startsWith('tcp://')) {
          const { hostname, port } = new URL(url);
          const server = new TcpLinkServer(hostname, Number(port || 0), (link) =>
            l.bus.attach(link),
          );
          l.server = server;
          await server.listen();
          out.push({ link: id, address: server.address });
        } else if (url.startsWith('pty://')) {
          const server = new PtyLinkServer(
            { path: url.slice('pty://'.length), baud: l.spec.baud },
            (link) => l.bus.attach(link),
          );
          l.server = server;
          await server.listen();
          out.push({ link: id, address: server.address });
        } else {
          out.push({ link: id, address: url });
        }
      } catch (cause) {
        await this.close();
        const msg = cause instanceof Error ? cause.message : String(cause);
        throw new SimError('SIM_LISTEN_FAILED', `link ${id} cannot listen on ${url}: ${msg}`, {
          cause,
        });
      }
    }
    this.#schedule();
    return out;
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#loop = this.clock.setTimer(this.#tickMs, () => {
      this.stepTo(this.clock.now());
      this.#schedule();
    });
  }

  /** Run the physics up to `t` in fixed steps (called by the loop and before every request). */
  stepTo(t: number): void {
    const dtS = this.#dt / 1000;
    let n = Math.floor((t - this.#physicsTime) / this.#dt);
    if (n <= 0) return;
    if (n > 1000) {
      // More than a second behind (a stalled host): skip rather than spiral.
      this.stats.skipped += n - 1000;
      this.#physicsTime += (n - 1000) * this.#dt;
      n = 1000;
    }
    for (let i = 0; i < n; i++) {
      for (const e of this.#drives.values()) e.drive.step(dtS);
    }
    this.#physicsTime += n * this.#dt;
    this.stats.steps += n;
  }

  /** With a ManualClock: move time on by `ms`, running physics, pacing and faults. */
  advance(ms: number): void {
    if (!(this.clock instanceof ManualClock)) throw new Error('advance() needs a ManualClock');
    this.clock.advance(ms);
    this.stepTo(this.clock.now());
  }

  /**
   * A new in-memory connection to link `id` (the master's end): for `memory://` links,
   * and for tests on any link. It replaces the link's current connection.
   */
  connect(id: string): Link {
    const l = this.#link(id);
    const [master, slave] = createMemoryLinkPair();
    l.bus.attach(slave);
    return master;
  }

  drive(id: string): SimDrive {
    const e = this.#drives.get(id);
    if (!e) throw new SimError('SIM_UNKNOWN_DRIVE', `no drive ${id}`);
    return e.drive;
  }

  /** Every drive's true internal state. */
  drives() {
    this.stepTo(this.clock.now());
    return [...this.#drives.values()].map((e) => ({
      ...e.drive.snapshot(),
      link: e.link,
      comms: { ...e.faults },
    }));
  }

  links() {
    return [...this.#links.values()].map((l) => ({
      id: l.spec.id,
      protocol: l.spec.protocol,
      baud: l.spec.baud,
      listen: l.server?.address ?? l.spec.listen,
      connected: l.bus.connected,
      drives: l.spec.drives.map((d) => d.id),
      faults: { ...l.bus.faults },
      counters: {
        ...l.bus.counters,
        ...l.bus.wire.bytes,
        // Modbus requests lost for following another unit's reply without the silence.
        lateRequests: l.bus.slave instanceof ModbusSlave ? l.bus.slave.lateRequests : 0,
      },
    }));
  }

  faults(): ActiveFault[] {
    return this.#faults.map((f) => ({ ...f }));
  }

  /** Apply a (checked) fault. Throws SIM_UNKNOWN_DRIVE / SIM_UNKNOWN_LINK / SIM_UNSUPPORTED_FAULT. */
  inject(fault: Fault): void {
    this.stepTo(this.clock.now());
    let undo: (() => void) | undefined;
    if (isLinkFault(fault)) {
      const l = this.#link(fault.link);
      const f = l.bus.faults;
      switch (fault.fault) {
        case 'corrupt':
          f.corruptRate = fault.rate;
          undo = () => (f.corruptRate = 0);
          break;
        case 'garbage':
          f.garbageRate = fault.rate;
          f.garbageBytes = fault.bytes;
          undo = () => (f.garbageRate = 0);
          break;
        case 'truncate':
          f.truncateRate = fault.rate;
          undo = () => (f.truncateRate = 0);
          break;
        case 'disconnect':
          if (!l.server) {
            throw new SimError(
              'SIM_UNSUPPORTED_FAULT',
              `link ${fault.link} is in-memory: it cannot disconnect`,
            );
          }
          l.server.disconnect(fault.ms);
          break;
      }
    } else {
      const e = this.#drives.get(fault.drive);
      if (!e) throw new SimError('SIM_UNKNOWN_DRIVE', `no drive ${fault.drive}`);
      const d = e.drive.disturbance;
      switch (fault.fault) {
        case 'no-response':
          e.faults.noResponse = true;
          undo = () => (e.faults.noResponse = false);
          break;
        case 'delay':
          e.faults.delayMs = fault.ms;
          undo = () => (e.faults.delayMs = 0);
          break;
        case 'drive-fault':
          e.drive.raiseFault(cia402.parseErrorCode(fault.code));
          break;
        case 'load':
          d.loadTorque = fault.torque;
          undo = () => (d.loadTorque = 0);
          break;
        case 'encoder-loss':
          d.encoderLost = true;
          undo = () => (d.encoderLost = false);
          break;
        case 'bus-voltage':
          d.busOffset = fault.volts;
          undo = () => (d.busOffset = 0);
          break;
      }
    }
    const active: ActiveFault = { fault, since: this.clock.now() };
    if (undo) this.#faults.push(active);
    const duration = 'durationMs' in fault ? fault.durationMs : undefined;
    if (undo && duration !== undefined) {
      const h = this.clock.setTimer(duration, () => {
        this.#faultTimers.delete(h);
        this.#faults = this.#faults.filter((a) => a !== active);
        undo();
      });
      this.#faultTimers.add(h);
    }
    if (undo) this.#undo.set(active, undo);
  }

  #undo = new Map<ActiveFault, () => void>();

  /** Clear faults: all, or those of one drive or link. Returns how many were cleared. */
  clear(filter: { drive?: string; link?: string } = {}): number {
    if (filter.drive !== undefined && !this.#drives.has(filter.drive)) {
      throw new SimError('SIM_UNKNOWN_DRIVE', `no drive ${filter.drive}`);
    }
    if (filter.link !== undefined && !this.#links.has(filter.link)) {
      throw new SimError('SIM_UNKNOWN_LINK', `no link ${filter.link}`);
    }
    const match = (a: ActiveFault) =>
      (filter.drive === undefined || ('drive' in a.fault && a.fault.drive === filter.drive)) &&
      (filter.link === undefined || ('link' in a.fault && a.fault.link === filter.link));
    const hit = this.#faults.filter(match);
    for (const a of hit) {
      this.#undo.get(a)?.();
      this.#undo.delete(a);
    }
    this.#faults = this.#faults.filter((a) => !match(a));
    return hit.length;
  }

  #link(id: string): LinkEntry {
    const l = this.#links.get(id);
    if (!l) throw new SimError('SIM_UNKNOWN_LINK', `no link ${id}`);
    return l;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#loop) this.clock.clearTimer(this.#loop);
    for (const h of this.#faultTimers) this.clock.clearTimer(h);
    await Promise.all([...this.#links.values()].map((l) => l.server?.close()));
  }
}
