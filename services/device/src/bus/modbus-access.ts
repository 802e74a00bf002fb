/**
 * Drive access over Modbus RTU: reads are FC 0x03 (read holding registers) of the
 * planned blocks; writes are FC 0x06 for one register and FC 0x10 for adjacent
 * registers merged (Modbus Application Protocol V1.1b3 §6.3, §6.6, §6.12). Every
 * address and word order comes from the drive profile.
 */
import { modbus, profiles } from '../../../../firmware-protocol/src/index.ts';
import {
  type DriveAccess,
  type DriveRef,
  decodeFor,
  encodeFor,
  mergeWrites,
  type Values,
} from './drive-access.ts';
import { BusError } from './errors.ts';
import { ModbusMaster } from './modbus-master.ts';
import type { MasterOptions } from './transaction.ts';

export class ModbusAccess implements DriveAccess {
  readonly #master: ModbusMaster;

  constructor(opts: MasterOptions & { wireTimestamps: boolean }) {
    this.#master = new ModbusMaster(opts);
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
      const req = { fc: 0x03, address: block.address, quantity: block.quantity } as const;
      const res = await this.#master.request(d.id, d.unit, req, d.profile.turnaroundMs);
      if (!('values' in res)) {
        throw new BusError('BAD_RESPONSE', `${d.id}: FC 0x03 answered without registers`);
      }
      Object.assign(
        out,
        decodeFor(d, block, () => profiles.decodeBlock(d.profile, block, res.values)),
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
        const e = profiles.encodeRegisters(d.profile, name, value);
        return { name, address: e.address, data: e.registers };
      }),
    );
    const requests: modbus.ModbusRequest[] = mergeWrites(encoded, modbus.MAX_WRITE_QUANTITY).map(
      (c) =>
        c.data.length === 1
          ? { fc: 0x06, address: c.address, value: c.data[0]! }
          : { fc: 0x10, address: c.address, values: c.data },
    );
    return async () => {
      for (const req of requests) {
        await this.#master.request(d.id, d.unit, req, d.profile.turnaroundMs);
      }
    };
  }
}
