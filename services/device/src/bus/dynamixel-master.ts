/**
 * The Dynamixel Protocol 2.0 master of one line: sends an instruction packet and
 * collects the status packets it expects, by device ID and parameter length, until all
 * have come or the timeout the line's timing allows has passed. A status packet nobody
 * waits for (a late reply, another master's traffic, an echo of our own instruction)
 * is dropped. One exchange at a time: the bus scheduler guarantees it.
 */
import { dynamixel } from '../../../../firmware-protocol/src/index.ts';
import { BusError, rejected } from './errors.ts';
import { dynamixelStatusBytes, dynamixelTimeoutMs, quietAfterTimeoutMs } from './timing.ts';
import { type MasterOptions, Outstanding } from './transaction.ts';

export interface ExpectedReply {
  /** Device ID of the status packet (0xFE for a fast sync read's combined reply). */
  id: number;
  /** Parameter bytes of a successful status (an error status may carry none). */
  params: number;
}

export interface Exchange {
  /** The status packets that came, by ID. */
  replies: Map<number, dynamixel.StatusPacket>;
  /** Every expected reply came. */
  complete: boolean;
}

interface Pending {
  out: Outstanding<Exchange>;
  expected: ExpectedReply[];
  replies: Map<number, dynamixel.StatusPacket>;
  unit: number | undefined;
  crcBefore: number;
}

export class DynamixelMaster {
  readonly #o: MasterOptions;
  readonly #framer = new dynamixel.DynamixelFramer();
  #pending: Pending | undefined;

  constructor(opts: MasterOptions) {
    this.#o = opts;
  }

  /** Bytes from the link. */
  feed(chunk: Uint8Array): void {
    this.#o.guard.noteData();
    for (const packet of this.#framer.feed(chunk)) {
      const p = this.#pending;
      if (p === undefined || packet.kind !== 'status') continue;
      const want = p.expected.find((e) => e.id === packet.id);
      if (want === undefined || p.replies.has(packet.id)) continue;
      // e-manual §Status Packet: an error status may come without the data
      if (packet.params.length !== want.params && (packet.error & 0x7f) === 0) continue;
      p.replies.set(packet.id, packet);
      if (p.replies.size === p.expected.length) this.#settle(p, true);
    }
  }

  /**
   * Sends `bytes` and collects the `expected` status packets. Resolves when all came,
   * or at the timeout with what came (`complete: false`); rejects only LINK_DOWN.
   * `turnaroundMs`: the devices' return delays, summed over the replies; `unit`: the
   * device, for stats (undefined for a group read).
   */
  exchange(
    bytes: Uint8Array,
    expected: ExpectedReply[],
    turnaroundMs: number,
    unit: number | undefined,
  ): Promise<Exchange> {
    if (this.#pending) throw new Error('DynamixelMaster: an exchange is already outstanding');
    const timeoutMs = dynamixelTimeoutMs(
      this.#o.line,
      bytes.length,
      expected.map((e) => dynamixelStatusBytes(e.params)),
      turnaroundMs,
    );
    return new Promise<Exchange>((resolve, reject) => {
      const out = new Outstanding<Exchange>(this.#o.clock, resolve, reject);
      const p: Pending = { out, expected, replies: new Map(), unit, crcBefore: this.#crcCount() };
      this.#pending = p;
      if (expected.length === 0) {
        this.#settle(p, true);
      } else {
        out.arm(timeoutMs, () => {
          if (this.#pending !== p) return;
          this.#o.guard.requireQuiet(quietAfterTimeoutMs(this.#o.line), timeoutMs);
          this.#settle(p, false);
        });
      }
      try {
        this.#o.send(bytes);
      } catch (err) {
        if (this.#pending === p) this.#pending = undefined;
        out.reject(err instanceof BusError ? err : new BusError('LINK_DOWN', String(err)));
      }
    });
  }

  /**
   * One instruction to one device that answers with one status packet of `params`
   * bytes. Resolves with it; rejects TIMEOUT, DRIVE_REJECTED (a status error, e-manual
   * §Status Packet §Error; the alert bit alone is not an error of the instruction) or
   * LINK_DOWN.
   */
  async transact(
    label: string,
    id: number,
    bytes: Uint8Array,
    params: number,
    turnaroundMs: number,
  ): Promise<dynamixel.StatusPacket> {
    const ex = await this.exchange(bytes, [{ id, params }], turnaroundMs, id);
    const status = ex.replies.get(id);
    if (status === undefined) {
      throw new BusError('TIMEOUT', `${label}: no valid status packet from device ${id}`);
    }
    const err = statusError(status);
    if (err) throw rejected(label, err);
    return status;
  }

  /** The link went down: the exchange in flight ends with `err`. */
  abort(err: BusError): void {
    const p = this.#pending;
    if (!p) return;
    this.#pending = undefined;
    this.#record(p, 'link-down');
    p.out.reject(err);
  }

  #settle(p: Pending, complete: boolean): void {
    if (this.#pending === p) this.#pending = undefined;
    const rejectedAny = [...p.replies.values()].some((s) => statusError(s) !== undefined);
    this.#record(p, !complete ? 'timeout' : rejectedAny ? 'rejected' : 'ok');
    p.out.resolve({ replies: p.replies, complete });
  }

  #crcCount(): number {
    return this.#framer.stats.discarded.DXL_CRC ?? 0;
  }

  #record(p: Pending, outcome: 'ok' | 'timeout' | 'rejected' | 'link-down'): void {
    this.#o.observe({
      unit: p.unit,
      outcome,
      ms: this.#o.clock.now() - p.out.startedAt,
      crcErrors: this.#crcCount() - p.crcBefore,
    });
  }
}

/** The instruction's error (DXL_STATUS_ERROR), ignoring a lone alert bit (hardware error status). */
export function statusError(s: dynamixel.StatusPacket) {
  if ((s.error & 0x7f) === 0) return undefined;
  return dynamixel.statusToError(s);
}
