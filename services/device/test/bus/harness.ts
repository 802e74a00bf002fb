/**
 * Test harness for the bus: the simulator and the bus on ONE manual clock (device-sim's
 * ManualClock, extended with `wallNow` so it is also a services/runtime Clock, and with
 * the time of its next timer so a run can jump from event to event), a wire spy on the
 * in-memory link, and helpers to run simulated time.
 */
import { resolve } from 'node:path';
import {
  type Link,
  ManualClock,
  type SimLinkSpec,
  Simulator,
  type TimerHandle,
} from '../../../../device-sim/src/index.ts';
import { dynamixel, modbus, profiles } from '../../../../firmware-protocol/src/index.ts';
import type { Clock } from '../../../runtime/src/clock.ts';
import { Bus, type BusDrive, type BusOptions } from '../../src/bus/index.ts';

export const PROFILES = profiles.loadProfileDir(
  resolve(import.meta.dirname, '../../../../config/profiles'),
);
export const SF = PROFILES.get('sf-servo')!;
export const XM = PROFILES.get('xm430')!;
export const EPOCH = 1_764_000_000_000;

/** One clock for the simulator and the bus. */
export class TestClock extends ManualClock implements Clock {
  readonly #due = new Map<number, number>();

  wallNow(): number {
    return EPOCH + this.now();
  }

  override setTimer(delayMs: number, fn: () => void): TimerHandle {
    const at = this.now() + Math.max(0, delayMs);
    const h: TimerHandle = super.setTimer(delayMs, () => {
      this.#due.delete(h.id);
      fn();
    });
    this.#due.set(h.id, at);
    return h;
  }

  override clearTimer(handle: TimerHandle): void {
    this.#due.delete(handle.id);
    super.clearTimer(handle);
  }

  /** When the next timer is due, if any. */
  nextDue(): number | undefined {
    let min: number | undefined;
    for (const at of this.#due.values()) if (min === undefined || at < min) min = at;
    return min;
  }
}

/** Lets every pending promise chain and microtask (memory-link delivery) run. */
export function flush(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

export interface Rig {
  clock: TestClock;
  sim: Simulator;
}

/**
 * Runs simulated time for up to `ms`, timer by timer, letting promise chains settle in
 * between; stops early once `until()` holds. Returns `until()`.
 */
export async function runFor(rig: Rig, ms: number, until?: () => boolean): Promise<boolean> {
  const end = rig.clock.now() + ms;
  for (let i = 0; i < 1_000_000; i++) {
    await flush();
    if (until?.()) return true;
    const next = rig.clock.nextDue();
    if (next === undefined || next > end) break;
    rig.sim.advance(Math.max(0, next - rig.clock.now()));
  }
  rig.sim.advance(Math.max(0, end - rig.clock.now()));
  await flush();
  return until?.() ?? false;
}

/** Runs simulated time until `done()` or `maxMs` has passed; returns `done()`. */
export function runUntil(rig: Rig, done: () => boolean, maxMs: number): Promise<boolean> {
  return runFor(rig, maxMs, done);
}

/** Settles `p` while running simulated time (up to `maxMs`). */
export async function settle<T>(
  rig: Rig,
  p: Promise<T>,
  maxMs = 1000,
): Promise<{ ok: T } | { err: unknown }> {
  let out: { ok: T } | { err: unknown } | undefined;
  p.then(
    (ok) => {
      out = { ok };
    },
    (err: unknown) => {
      out = { err };
    },
  );
  await runUntil(rig, () => out !== undefined, maxMs);
  if (out === undefined) throw new Error(`not settled within ${maxMs} ms of simulated time`);
  return out;
}

export function simRig(
  protocol: 'modbus-rtu' | 'dynamixel2',
  opts: { seed?: number; xm?: profiles.DriveProfile } = {},
): Rig {
  const clock = new TestClock(0);
  const links: SimLinkSpec[] =
    protocol === 'modbus-rtu'
      ? [
          {
            id: 'bus-a',
            protocol: 'modbus-rtu',
            baud: 115200,
            listen: 'memory://bus-a',
            turnaroundMs: 1,
            drives: [1, 2, 3, 4].map((u) => ({ id: `axis-${u}`, unit: u, profile: SF })),
          },
        ]
      : [
          {
            id: 'bus-b',
            protocol: 'dynamixel2',
            baud: 1_000_000,
            listen: 'memory://bus-b',
            drives: [1, 2].map((u) => ({ id: `dxl-${u}`, unit: u, profile: opts.xm ?? XM })),
          },
        ];
  const sim = new Simulator({ clock, seed: opts.seed ?? 7, links });
  return { clock, sim };
}

export interface WireEvent {
  at: number;
  dir: 'tx' | 'rx';
  bytes: Uint8Array;
}

/** Records what the bus sends and receives on the link, with the time. */
export class WireSpy {
  readonly events: WireEvent[] = [];
  /** Links the bus has opened through the spy (the last one is current). */
  readonly links: Link[] = [];

  constructor(private readonly clock: TestClock) {}

  wrap(link: Link): Link {
    const events = this.events;
    const clock = this.clock;
    link.onData((bytes) => events.push({ at: clock.now(), dir: 'rx', bytes }));
    const spied: Link = {
      write(bytes) {
        events.push({ at: clock.now(), dir: 'tx', bytes: bytes.slice() });
        link.write(bytes);
      },
      close: () => link.close(),
      onData: (l) => link.onData(l),
      onClose: (l) => link.onClose(l),
      get closed() {
        return link.closed;
      },
    };
    this.links.push(spied);
    return spied;
  }

  tx(from = 0): WireEvent[] {
    return this.events.filter((e, i) => i >= from && e.dir === 'tx');
  }

  /** Modbus requests sent, decoded. */
  modbusRequests(from = 0) {
    return this.tx(from).map((e) => ({ at: e.at, ...modbus.decodeRequest(e.bytes) }));
  }

  /** Dynamixel instruction packets sent, decoded. */
  dxlInstructions(from = 0) {
    return this.tx(from).map((e) => {
      const p = dynamixel.decodePacket(e.bytes);
      if (p.kind !== 'instruction') throw new Error('the bus sent a status packet');
      return { at: e.at, id: p.id, instruction: p.instruction, params: p.params };
    });
  }
}

export function modbusDrives(pollHz = 20): BusDrive[] {
  return [1, 2, 3, 4].map((u) => ({ id: `axis-${u}`, unit: u, profile: SF, pollHz }));
}

export function dxlDrives(pollHz = 50, profile = XM): BusDrive[] {
  return [1, 2].map((u) => ({ id: `dxl-${u}`, unit: u, profile, pollHz }));
}

/** A bus on the rig's memory link, with a spy. */
export function rigBus(
  rig: Rig,
  protocol: 'modbus-rtu' | 'dynamixel2',
  extra: Partial<BusOptions> = {},
): {
  bus: Bus;
  spy: WireSpy;
  polls: Map<string, { values: Record<string, number>; at: number }[]>;
} {
  const spy = new WireSpy(rig.clock);
  const linkId = protocol === 'modbus-rtu' ? 'bus-a' : 'bus-b';
  const bus = new Bus({
    linkId,
    protocol,
    baud: protocol === 'modbus-rtu' ? 115200 : 1_000_000,
    drives: protocol === 'modbus-rtu' ? modbusDrives() : dxlDrives(),
    link: async () => spy.wrap(rig.sim.connect(linkId)),
    clock: rig.clock,
    ...extra,
  });
  const polls = new Map<string, { values: Record<string, number>; at: number }[]>();
  bus.onPoll((id, values, at) => {
    const list = polls.get(id) ?? [];
    if (list.length === 0) polls.set(id, list);
    list.push({ values, at });
  });
  return { bus, spy, polls };
}

/** Polls of `id` whose answer arrived in [fromWall, toWall). */
export function pollsIn(
  polls: Map<string, { at: number }[]>,
  id: string,
  fromWall: number,
  toWall: number,
): number {
  return (polls.get(id) ?? []).filter((p) => p.at >= fromWall && p.at < toWall).length;
}
