/**
 * Test harness: a simulator on a ManualClock and a byte-level master on an in-memory
 * link, so tests step time explicitly and assert on bytes and on what the drives do.
 */
import { resolve } from 'node:path';
import { dynamixel, modbus, profiles } from '../../firmware-protocol/src/index.ts';
import { ManualClock } from '../src/clock.ts';
import type { Link } from '../src/links/link.ts';
import { type SimLinkSpec, Simulator } from '../src/simulator.ts';

export const PROFILES = profiles.loadProfileDir(
  resolve(import.meta.dirname, '../../config/profiles'),
);

export function demoLinks(opts: { paced?: boolean } = {}): SimLinkSpec[] {
  const paced = opts.paced ?? true;
  return [
    {
      id: 'bus-a',
      protocol: 'modbus-rtu',
      baud: 115200,
      listen: 'memory://bus-a',
      turnaroundMs: 1,
      paced,
      drives: [1, 2, 3, 4].map((u) => ({
        id: `axis-${u}`,
        unit: u,
        profile: PROFILES.get('sf-servo')!,
      })),
    },
    {
      id: 'bus-b',
      protocol: 'dynamixel2',
      baud: 1_000_000,
      listen: 'memory://bus-b',
      paced,
      drives: [1, 2].map((u) => ({ id: `dxl-${u}`, unit: u, profile: PROFILES.get('xm430')! })),
    },
  ];
}

export function manualSim(opts: { paced?: boolean; seed?: number; lenientFraming?: boolean } = {}) {
  const clock = new ManualClock(0);
  const links = demoLinks(opts).map((l) =>
    opts.lenientFraming ? { ...l, lenientFraming: true } : l,
  );
  const sim = new Simulator({ clock, seed: opts.seed ?? 7, links });
  return { clock, sim };
}

/** Collects what the master receives, with the simulator time it arrived at. */
export class Capture {
  chunks: { at: number; bytes: Uint8Array }[] = [];
  constructor(link: Link, clock: ManualClock) {
    link.onData((b) => this.chunks.push({ at: clock.now(), bytes: b }));
  }
  take(): Uint8Array {
    const n = this.chunks.reduce((s, c) => s + c.bytes.length, 0);
    const out = new Uint8Array(n);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c.bytes, o);
      o += c.bytes.length;
    }
    this.chunks = [];
    return out;
  }
}

/** Let microtasks (memory-link delivery) run, then step the clock; repeat. */
export async function run(sim: Simulator, ms: number, stepMs = 0.5): Promise<void> {
  for (let t = 0; t < ms; t += stepMs) {
    await Promise.resolve();
    await Promise.resolve();
    sim.advance(stepMs);
  }
  await Promise.resolve();
}

/** A Modbus master over a memory link, stepping the manual clock until the answer comes. */
export class ModbusMaster {
  readonly framer = new modbus.RtuMasterFramer({ baud: 115200 });
  #pending: modbus.RtuFrame<modbus.ModbusResponse>[] = [];
  #lastRxAt = Number.NEGATIVE_INFINITY;
  constructor(
    readonly link: Link,
    readonly sim: Simulator,
  ) {
    link.onData((b) => {
      this.#lastRxAt = sim.clock.now();
      this.#pending.push(...this.framer.feed(b, sim.clock.now()));
    });
  }

  /**
   * Send and wait up to `timeoutMs` of simulated time; undefined on timeout. Like a
   * master that follows the spec, it first leaves 3.5 characters of silence after the
   * last reply (or other units would hear the request as that reply's tail).
   */
  async request(
    unit: number,
    req: modbus.ModbusRequest,
    timeoutMs = 50,
    o: { skipSilence?: boolean } = {},
  ) {
    const quiet = this.#lastRxAt + modbus.silenceMs(115200) - this.sim.clock.now();
    if (quiet > 0 && !o.skipSilence) this.sim.advance(quiet);
    this.framer.expect(unit, req);
    this.link.write(modbus.encodeRequest(unit, req));
    for (let t = 0; t < timeoutMs; t += 0.25) {
      await Promise.resolve();
      await Promise.resolve();
      const got = this.#pending.shift();
      if (got) return got.pdu;
      this.sim.advance(0.25);
    }
    this.framer.cancel();
    return undefined;
  }

  async read(unit: number, address: number, quantity: number) {
    const r = await this.request(unit, { fc: 0x03, address, quantity });
    if (!r || 'exception' in r || !('values' in r))
      throw new Error(`read failed: ${JSON.stringify(r)}`);
    return r.values;
  }

  async write(unit: number, address: number, values: number[]) {
    return this.request(unit, { fc: 0x10, address, values });
  }

  /** Read one named object through the profile. */
  async get(unit: number, name: string): Promise<number> {
    const p = PROFILES.get('sf-servo')!;
    const info = profiles.objectInfo(p, name);
    const regs = await this.read(unit, info.address, profiles.sizeInRegisters(info));
    return profiles.decodeRegisters(p, name, regs, info.address);
  }

  async set(unit: number, name: string, value: number) {
    const { address, registers } = profiles.encodeRegisters(PROFILES.get('sf-servo')!, name, value);
    const r = await this.write(unit, address, registers);
    if (!r || 'exception' in r) throw new Error(`write ${name} failed: ${JSON.stringify(r)}`);
  }
}

/** A Dynamixel master over a memory link. */
export class DxlMaster {
  readonly framer = new dynamixel.DynamixelFramer();
  #pending: dynamixel.Packet[] = [];
  constructor(
    readonly link: Link,
    readonly sim: Simulator,
  ) {
    link.onData((b) => this.#pending.push(...this.framer.feed(b)));
  }

  /** Send and collect `expect` status packets (or what came within `timeoutMs`). */
  async request(
    bytes: Uint8Array,
    expect: number,
    timeoutMs = 20,
  ): Promise<dynamixel.StatusPacket[]> {
    this.#pending = [];
    this.link.write(bytes);
    for (let t = 0; t < timeoutMs && this.#pending.length < expect; t += 0.05) {
      await Promise.resolve();
      await Promise.resolve();
      if (this.#pending.length < expect) this.sim.advance(0.05);
    }
    return this.#pending.filter(
      (p): p is dynamixel.Packet & { kind: 'status' } => p.kind === 'status',
    );
  }
}
