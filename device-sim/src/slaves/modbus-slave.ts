/**
 * The Modbus RTU side of a simulated bus: frames every request heard on the wire
 * (with the 3.5-character silence rule on the arrival times the wire gives), and lets
 * the addressed drive answer after its turnaround. Silent on a CRC error, on another
 * unit id, and for a dead unit; broadcasts (unit 0) are executed by all, answered by
 * none. Modbus over serial line V1.02 §2.1, §2.5.1.1.
 *
 * Every unit on a two-wire RS-485 bus hears every frame, the replies of the others
 * included, and frames are delimited only by 3.5 character times of silence (§2.5.1.1:
 * "message frames are separated by a silent interval of at least 3.5 character
 * times"). A request that starts sooner after the end of a reply is, for every unit but
 * the one that sent that reply (its receiver was off while it sent, as FreeModbus
 * does), the tail of that reply: the frame fails its CRC and nobody answers. On a paced
 * wire the simulator does the same (`lateRequests` counts them); `lenientFraming`
 * answers them anyway, as a bus with a single drive would.
 */
import { modbus } from '../../../firmware-protocol/src/index.ts';
import type { Clock } from '../clock.ts';
import type { SimDrive } from '../drive/sim-drive.ts';
import type { DriveFaultState } from '../faults/drive-faults.ts';
import type { Reply, Slave } from '../sim-bus.ts';
import { readRegisters, writeRegisters } from './register-map.ts';

export interface ModbusUnit {
  drive: SimDrive;
  profile: import('../../../firmware-protocol/src/index.ts').profiles.DriveProfile;
  faults: DriveFaultState;
}

export interface ModbusSlaveOptions {
  baud: number;
  bitsPerChar: number;
  /** Slave turnaround before answering, ms. */
  turnaroundMs: number;
  /** Wire times are real (a paced wire): the inter-frame silence after a reply is checked. */
  paced?: boolean;
  /** Answer requests that follow another unit's reply without the silence (see above). */
  lenientFraming?: boolean;
}

export class ModbusSlave implements Slave {
  readonly #framer: modbus.RtuSlaveFramer;
  readonly #units = new Map<number, ModbusUnit>();
  readonly #reply: Reply;
  readonly #clock: Clock;
  readonly #opts: ModbusSlaveOptions;
  readonly #gapMs: number;
  readonly #byteMs: number;
  /** The last reply on the wire: who sent it and when its last byte ended. */
  #lastReply: { unit: number; endMs: number } | undefined;
  requests = 0;
  /** Requests lost because they followed another unit's reply without the silence. */
  lateRequests = 0;

  constructor(units: ModbusUnit[], reply: Reply, clock: Clock, opts: ModbusSlaveOptions) {
    for (const u of units) this.#units.set(u.drive.unit, u);
    this.#reply = reply;
    this.#clock = clock;
    this.#opts = opts;
    this.#framer = new modbus.RtuSlaveFramer({ baud: opts.baud, bitsPerChar: opts.bitsPerChar });
    this.#gapMs = modbus.silenceMs(opts.baud, opts.bitsPerChar);
    this.#byteMs = (opts.bitsPerChar * 1000) / opts.baud;
  }

  get framerStats() {
    return this.#framer.stats;
  }

  receive(bytes: Uint8Array, atMs: number): void {
    const frames = this.#framer.feed(bytes, atMs);
    for (const f of frames) this.#handle(f, atMs);
    if (frames.length === 0) {
      // Something may be waiting for the silence that ends it (an unknown function code).
      this.#clock.setTimer(atMs + this.#gapMs + 0.01 - this.#clock.now(), () => {
        const now = this.#clock.now();
        for (const f of this.#framer.poll(now)) this.#handle(f, now);
      });
    }
  }

  /** `atMs`: when the request's last byte crossed the wire. */
  #handle(frame: modbus.RtuFrame<modbus.SlaveRequest>, atMs: number): void {
    this.requests++;
    // Units other than the last replier heard this request as the tail of that reply.
    const onlyHeardBy = this.#tooSoon(frame, atMs) ? this.#lastReply?.unit : undefined;
    if (onlyHeardBy !== undefined && frame.unit !== onlyHeardBy) this.lateRequests++;
    if (frame.unit === 0) {
      // Broadcast: every unit executes writes; nobody answers (§2.1).
      for (const u of this.#units.values()) {
        if (u.faults.noResponse) continue;
        if (onlyHeardBy === undefined || u.drive.unit === onlyHeardBy) this.#execute(u, frame.pdu);
      }
      return;
    }
    if (onlyHeardBy !== undefined && frame.unit !== onlyHeardBy) return;
    const u = this.#units.get(frame.unit);
    if (!u || u.faults.noResponse) return;
    const res = this.#execute(u, frame.pdu);
    // A slave knows the request has ended only after 3.5 character times of silence
    // (Modbus over serial line V1.02 §2.5.1.1), then takes its turnaround to answer.
    const turnaround = this.#gapMs + this.#opts.turnaroundMs + u.faults.delayMs;
    const unit = frame.unit;
    this.#reply(modbus.encodeResponse(unit, res), turnaround, atMs, (endMs) => {
      this.#lastReply = { unit, endMs };
    });
  }

  /** Did `frame` (its last byte at `atMs`) start within 3.5 characters of the last reply? */
  #tooSoon(frame: modbus.RtuFrame<modbus.SlaveRequest>, atMs: number): boolean {
    const last = this.#lastReply;
    if (!this.#opts.paced || this.#opts.lenientFraming || last === undefined) return false;
    if (modbus.isRejectedRequest(frame.pdu)) return false; // length unknown: let it through
    const startMs = atMs - modbus.encodeRequest(frame.unit, frame.pdu).length * this.#byteMs;
    return startMs < last.endMs + this.#gapMs - 1e-3;
  }

  #execute(u: ModbusUnit, pdu: modbus.SlaveRequest): modbus.ModbusResponse {
    if (modbus.isRejectedRequest(pdu)) return { fc: pdu.fc, exception: pdu.exception };
    switch (pdu.fc) {
      case 0x03:
      case 0x04: {
        const r = readRegisters(u.drive, u.profile, pdu.address, pdu.quantity);
        return Array.isArray(r)
          ? { fc: pdu.fc, values: r }
          : { fc: pdu.fc, exception: r.exception };
      }
      case 0x06: {
        const x = writeRegisters(u.drive, u.profile, pdu.address, [pdu.value]);
        return x === 0
          ? { fc: 0x06, address: pdu.address, value: pdu.value }
          : { fc: 0x06, exception: x };
      }
      case 0x10: {
        const x = writeRegisters(u.drive, u.profile, pdu.address, pdu.values);
        return x === 0
          ? { fc: 0x10, address: pdu.address, quantity: pdu.values.length }
          : { fc: 0x10, exception: x };
      }
      case 0x17: {
        // §6.17: the write is performed before the read.
        const x = writeRegisters(u.drive, u.profile, pdu.writeAddress, pdu.values);
        if (x !== 0) return { fc: 0x17, exception: x };
        const r = readRegisters(u.drive, u.profile, pdu.readAddress, pdu.readQuantity);
        return Array.isArray(r) ? { fc: 0x17, values: r } : { fc: 0x17, exception: r.exception };
      }
    }
  }
}
