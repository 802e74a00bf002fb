/**
 * The Dynamixel Protocol 2.0 side of a simulated bus: every servo on it answers its
 * own id (ping, read, write, reboot), and the group instructions (sync read/write,
 * bulk read/write, fast sync read) the way X-series servos do: in the order of the
 * instruction, each after its return delay; broadcast pings answered by all; status
 * return level honoured (0: ping only, 1: ping and reads, 2: all).
 * ROBOTIS Protocol 2.0 e-manual, "Instruction Details".
 */
import { dynamixel as dxl } from '../../../firmware-protocol/src/index.ts';
import type { DriveFaultState } from '../faults/drive-faults.ts';
import type { Reply, Slave } from '../sim-bus.ts';
import type { ControlTable } from './control-table.ts';

const I = dxl.Instruction;

export interface DynamixelUnit {
  table: ControlTable;
  faults: DriveFaultState;
}

export class DynamixelSlave implements Slave {
  readonly #framer = new dxl.DynamixelFramer();
  readonly #units: DynamixelUnit[];
  readonly #reply: Reply;
  #atMs: number | undefined;
  /** Requests framed (for counters). */
  requests = 0;

  constructor(units: DynamixelUnit[], reply: Reply) {
    this.#units = units;
    this.#reply = reply;
  }

  get framerStats() {
    return this.#framer.stats;
  }

  /** `atMs`: when the bytes crossed the wire (status packets are timed from it). */
  receive(bytes: Uint8Array, atMs?: number): void {
    this.#atMs = atMs;
    for (const p of this.#framer.feed(bytes)) {
      if (p.kind !== 'instruction') continue; // another device's status packet on the bus
      this.requests++;
      this.#handle(p);
    }
  }

  #unit(id: number): DynamixelUnit | undefined {
    return this.#units.find((u) => u.table.id === id);
  }

  /** Send `u`'s status packet `order` places into a group reply. */
  #status(u: DynamixelUnit, error: number, params: Uint8Array, order = 0): void {
    if (u.faults.noResponse) return;
    const err = error | (u.table.alert ? dxl.ALERT_BIT : 0);
    const bytes = dxl.encodeStatus({ id: u.table.id, error: err, params });
    this.#reply(bytes, u.table.returnDelayMs * (order + 1) + u.faults.delayMs, this.#atMs);
  }

  #handle(p: dxl.InstructionPacket): void {
    try {
      switch (p.instruction) {
        case I.Ping:
          this.#ping(p.id);
          return;
        case I.Read:
          this.#read(p.id, p.params);
          return;
        case I.Write:
          this.#write(p.id, p.params);
          return;
        case I.Reboot:
          this.#reboot(p.id);
          return;
        case I.SyncRead:
          this.#syncRead(p.params, false);
          return;
        case I.FastSyncRead:
          this.#syncRead(p.params, true);
          return;
        case I.SyncWrite:
          this.#syncWrite(p.params);
          return;
        case I.BulkRead:
          this.#bulkRead(p.params);
          return;
        case I.BulkWrite:
          this.#bulkWrite(p.params);
          return;
        default: {
          const u = this.#unit(p.id);
          if (u && u.table.statusReturnLevel === 2)
            this.#status(u, dxl.StatusErrorNumber.INSTRUCTION_ERROR, new Uint8Array(0));
        }
      }
    } catch {
      // Parameters that do not decode: an instruction error from the addressed unit.
      const u = this.#unit(p.id);
      if (u && u.table.statusReturnLevel === 2)
        this.#status(u, dxl.StatusErrorNumber.INSTRUCTION_ERROR, new Uint8Array(0));
    }
  }

  #pingParams(u: DynamixelUnit): Uint8Array {
    const model = u.table.profile.modelNumber ?? 0;
    return Uint8Array.of(model & 0xff, model >> 8, u.table.firmwareVersion);
  }

  #ping(id: number): void {
    if (id === dxl.BROADCAST_ID) {
      // Every servo answers a broadcast ping, in id order.
      const sorted = [...this.#units].sort((a, b) => a.table.id - b.table.id);
      sorted.forEach((u, i) => {
        this.#status(u, 0, this.#pingParams(u), i);
      });
      return;
    }
    const u = this.#unit(id);
    if (u) this.#status(u, 0, this.#pingParams(u));
  }

  #read(id: number, params: Uint8Array): void {
    const u = this.#unit(id);
    if (!u || u.table.statusReturnLevel < 1) return;
    const { address, length } = dxl.decodeReadParams(params);
    const data = u.table.read(address, length);
    if (typeof data === 'number') this.#status(u, data, new Uint8Array(0));
    else this.#status(u, 0, data);
  }

  #write(id: number, params: Uint8Array): void {
    const { address, data } = dxl.decodeWriteParams(params);
    const targets =
      id === dxl.BROADCAST_ID ? this.#units : [this.#unit(id)].filter((u) => u !== undefined);
    for (const u of targets) {
      if (u.faults.noResponse) continue; // a dead unit does not execute either
      const err = u.table.write(address, data);
      if (id !== dxl.BROADCAST_ID && u.table.statusReturnLevel === 2)
        this.#status(u, err, new Uint8Array(0));
    }
  }

  #reboot(id: number): void {
    const u = this.#unit(id);
    if (!u || u.faults.noResponse) return;
    if (u.table.statusReturnLevel === 2) this.#status(u, 0, new Uint8Array(0));
    u.table.reboot();
  }

  #syncRead(params: Uint8Array, fast: boolean): void {
    const { address, length, ids } = dxl.decodeSyncReadParams(params);
    if (!fast) {
      ids.forEach((id, i) => {
        const u = this.#unit(id);
        if (!u || u.table.statusReturnLevel < 1) return;
        const data = u.table.read(address, length);
        if (typeof data === 'number') this.#status(u, data, new Uint8Array(0), i);
        else this.#status(u, 0, data, i);
      });
      return;
    }
    // Fast Sync Read: one packet built by all devices in turn. A device that does not
    // answer breaks the chain: what came before it is sent, without the closing CRC.
    const items: { id: number; error: number; data: Uint8Array }[] = [];
    let broken = false;
    let delay = 0;
    for (const id of ids) {
      const u = this.#unit(id);
      if (!u || u.faults.noResponse) {
        broken = true;
        break;
      }
      delay = Math.max(delay, u.faults.delayMs);
      const data = u.table.read(address, length);
      const ok = typeof data !== 'number';
      items.push({
        id,
        error: (ok ? 0 : data) | (u.table.alert ? dxl.ALERT_BIT : 0),
        data: ok ? data : new Uint8Array(length),
      });
    }
    if (items.length === 0) return;
    const first = this.#unit(items[0]!.id)!;
    const packet = dxl.encodeFastSyncReadStatus(items);
    const bytes = broken ? packet.subarray(0, packet.length - 2) : packet;
    this.#reply(bytes, first.table.returnDelayMs + delay, this.#atMs);
  }

  #syncWrite(params: Uint8Array): void {
    const { address, items } = dxl.decodeSyncWriteParams(params);
    for (const it of items) {
      const u = this.#unit(it.id);
      if (u && !u.faults.noResponse) u.table.write(address, it.data);
    }
  }

  #bulkRead(params: Uint8Array): void {
    dxl.decodeBulkReadParams(params).forEach((it, i) => {
      const u = this.#unit(it.id);
      if (!u || u.table.statusReturnLevel < 1) return;
      const data = u.table.read(it.address, it.length);
      if (typeof data === 'number') this.#status(u, data, new Uint8Array(0), i);
      else this.#status(u, 0, data, i);
    });
  }

  #bulkWrite(params: Uint8Array): void {
    for (const it of dxl.decodeBulkWriteParams(params)) {
      const u = this.#unit(it.id);
      if (u && !u.faults.noResponse) u.table.write(it.address, it.data);
    }
  }
}
