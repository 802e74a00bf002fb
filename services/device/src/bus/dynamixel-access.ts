/**
 * Drive access over Dynamixel Protocol 2.0: reads are Read (0x02) of the planned
 * blocks, writes are Write (0x03) of adjacent control-table bytes merged; the poll of
 * several servos is one Sync Read (0x82) or Fast Sync Read (0x8A) per block (ROBOTIS
 * e-manual §Instruction Details). Addresses and sizes come from the drive profile.
 */
import { dynamixel, profiles } from '../../../../firmware-protocol/src/index.ts';
import {
  type DriveAccess,
  type DriveRef,
  decodeFor,
  encodeFor,
  mergeWrites,
  type Values,
} from './drive-access.ts';
import { DynamixelMaster, statusError } from './dynamixel-master.ts';
import { BusError, rejected } from './errors.ts';
import type { MasterOptions } from './transaction.ts';

/** What a group read got from each drive: its values, or its status error. Absent: no answer. */
export type GroupResult = Map<string, Values | BusError>;

export class DynamixelAccess implements DriveAccess {
  readonly #master: DynamixelMaster;

  constructor(opts: MasterOptions) {
    this.#master = new DynamixelMaster(opts);
  }

  feed(chunk: Uint8Array): void {
    this.#master.feed(chunk);
  }

  abort(err: BusError): void {
    this.#master.abort(err);
  }

  async readBlocks(d: DriveRef, blocks: readonly profiles.ReadBlock[]): Promise<Values> {
    const out: Values = {};
    for (const block of blocks) {
      const bytes = dynamixel.read(d.unit, block.address, block.quantity);
      const status = await this.#master.transact(
        d.id,
        d.unit,
        bytes,
        block.quantity,
        d.profile.turnaroundMs,
      );
      Object.assign(
        out,
        decodeFor(d, block, () => profiles.decodeBlock(d.profile, block, status.params)),
      );
    }
    return out;
  }

  prepareRead(d: DriveRef, names: readonly string[]): () => Promise<Values> {
    const blocks = encodeFor(d, () => profiles.planReads(d.profile, names));
    return () => this.readBlocks(d, blocks);
  }

  prepareWrite(d: DriveRef, values: readonly (readonly [string, number])[]): () => Promise<void> {
    const encoded = encodeFor(d, () =>
      values.map(([name, value]) => {
        const e = profiles.encodeBytes(d.profile, name, value);
        return { name, address: e.address, data: [...e.bytes] };
      }),
    );
    const packets = mergeWrites(encoded, profiles.DYNAMIXEL_MAX_READ_BYTES).map((c) =>
      dynamixel.write(d.unit, c.address, Uint8Array.from(c.data)),
    );
    return async () => {
      for (const bytes of packets) {
        await this.#master.transact(d.id, d.unit, bytes, 0, d.profile.turnaroundMs);
      }
    };
  }

  /** Ping (0x01): the servo's Model Number (e-manual §Ping). */
  async modelNumber(d: DriveRef): Promise<number> {
    const status = await this.#master.transact(
      d.id,
      d.unit,
      dynamixel.ping(d.unit),
      3,
      d.profile.turnaroundMs,
    );
    return dynamixel.parsePingStatus(status).modelNumber;
  }

  /** Writes an Indirect Address plan's entries (one Write; DRIVE_REJECTED when refused). */
  async mapIndirect(d: DriveRef, plan: profiles.IndirectPlan): Promise<void> {
    const bytes = dynamixel.write(d.unit, plan.address, plan.entries);
    await this.#master.transact(d.id, d.unit, bytes, 0, d.profile.turnaroundMs);
  }

  /** Reboot (0x08): the servo answers, then restarts, clearing a hardware error (e-manual §Reboot). */
  prepareReboot(d: DriveRef): () => Promise<void> {
    const bytes = dynamixel.reboot(d.unit);
    return async () => {
      await this.#master.transact(d.id, d.unit, bytes, 0, d.profile.turnaroundMs);
    };
  }

  /**
   * Reads `blocks` from every drive of `drives` (same profile) with one Sync Read per
   * block, or Fast Sync Read when `fast` (one combined status packet: a device that
   * does not answer breaks the chain, so nobody's data arrives). Never fails for a
   * missing answer: a drive without one is absent from the result, for the caller to
   * read on its own.
   */
  async groupRead(
    drives: readonly DriveRef[],
    blocks: readonly profiles.ReadBlock[],
    fast: boolean,
  ): Promise<GroupResult> {
    const result: GroupResult = new Map();
    const values = new Map<string, Values>(drives.map((d) => [d.id, {}]));
    const turnaround = drives.reduce((s, d) => s + d.profile.turnaroundMs, 0);
    const ids = drives.map((d) => d.unit);
    for (const block of blocks) {
      const got = fast
        ? await this.#fastSyncRead(block, ids, turnaround)
        : await this.#syncRead(block, ids, turnaround);
      for (const d of drives) {
        const v = values.get(d.id);
        const item = got.get(d.unit);
        if (v === undefined) continue; // already failed or rejected in an earlier block
        if (item === undefined) {
          values.delete(d.id);
        } else if (item instanceof BusError) {
          values.delete(d.id);
          result.set(d.id, item);
        } else {
          try {
            Object.assign(v, profiles.decodeBlock(d.profile, block, item));
          } catch {
            values.delete(d.id); // does not fit: let the drive's own read decide
          }
        }
      }
    }
    for (const [id, v] of values) result.set(id, v);
    return result;
  }

  /** e-manual §Sync Read: one status packet per device, in the order of the IDs. */
  async #syncRead(
    block: profiles.ReadBlock,
    ids: number[],
    turnaround: number,
  ): Promise<Map<number, Uint8Array | BusError>> {
    const bytes = dynamixel.syncRead(block.address, block.quantity, ids);
    const expected = ids.map((id) => ({ id, params: block.quantity }));
    const ex = await this.#master.exchange(bytes, expected, turnaround, undefined);
    const out = new Map<number, Uint8Array | BusError>();
    for (const [id, status] of ex.replies) {
      const err = statusError(status);
      out.set(id, err ? rejected(`device ${id}`, err) : status.params);
    }
    return out;
  }

  /**
   * e-manual §Fast Sync Read: one status packet with ID 0xFE holding every device's
   * error, ID and data (`parseFastSyncReadStatus`); Σ(4 + L) - 3 parameter bytes.
   */
  async #fastSyncRead(
    block: profiles.ReadBlock,
    ids: number[],
    turnaround: number,
  ): Promise<Map<number, Uint8Array | BusError>> {
    const bytes = dynamixel.fastSyncRead(block.address, block.quantity, ids);
    const params = ids.length * (4 + block.quantity) - 3;
    const expected = [{ id: dynamixel.BROADCAST_ID, params }];
    const ex = await this.#master.exchange(bytes, expected, turnaround, undefined);
    const out = new Map<number, Uint8Array | BusError>();
    const status = ex.replies.get(dynamixel.BROADCAST_ID);
    if (status === undefined) return out;
    let items: dynamixel.FastReadItem[];
    try {
      items = dynamixel.parseFastSyncReadStatus(status, block.quantity);
    } catch {
      return out; // a broken chain or a bad block CRC: read each device on its own
    }
    for (const it of items) {
      if (!ids.includes(it.id)) continue;
      const err = statusError({ id: it.id, error: it.error, params: it.data });
      out.set(it.id, err ? rejected(`device ${it.id}`, err) : it.data);
    }
    return out;
  }
}
