/**
 * Read planning: the objects to poll, merged into as few contiguous reads as the
 * limits allow (EdgeX device-modbus reads every register on its own; DESIGN.md
 * "What the anchors get wrong").
 *
 * Gaps. Reading a hole between two objects costs 2 bytes a register (Modbus) or 1
 * byte (Dynamixel); a separate transaction costs a request, a response header and
 * CRC, the silences and the slave's turnaround: about 13 bytes + 7 character times
 * + 2 ms for Modbus RTU, i.e. a gap of ~10 registers at 115200 baud is still
 * cheaper than a second read. But vendor maps are sparse (Kinco: "discontinuous
 * 16-bit data registers") and reading an unmapped register answers exception 02,
 * so for Modbus the default `maxGap` is 0: merge only adjacent objects; raise it for
 * a drive known to read holes as zero (the simulator does not: it answers 02).
 * A Dynamixel control table is one contiguous memory that reads anywhere, and a
 * second instruction costs ≥ 25 bytes plus the return delay, so its default gap is
 * 16 bytes.
 */
import { ProtocolError } from '../errors.ts';
import { bytesDecoder, decodeRegisters, objectInfo } from './codec.ts';
import type { DriveProfile } from './schema.ts';
import { sizeInBytes, sizeInRegisters } from './types.ts';

export interface ReadBlock {
  /** First register (Modbus) or control-table byte (Dynamixel) to read. */
  address: number;
  /** Registers (Modbus) or bytes (Dynamixel) to read. */
  quantity: number;
  /** The objects the block holds, by address. */
  objects: string[];
  /**
   * Read through Indirect Data (`planIndirect`): the byte offset of each of `objects`
   * in the block, in the same order. Absent: at their own addresses.
   */
  offsets?: number[];
}

/** A poll read through an Indirect Address bank: the entries to write first, then the read. */
export interface IndirectPlan {
  /** First Indirect Address entry: write `entries` there (2 bytes an entry, little-endian). */
  address: number;
  entries: Uint8Array;
  /** Reads the bank's Indirect Data: the check object first, then `names` one after another. */
  block: ReadBlock;
  /** The bank's check object: 0 in a poll means the servo has forgotten the entries. */
  check: string;
}

/**
 * `names` read as one block through the profile's first Indirect Address bank with a
 * `check` object (Dynamixel X series, e-manual "Indirect Address, Indirect Data"), or
 * undefined when there is none or they do not fit in its entries. The check object
 * comes first, then the others in address order, each object's bytes in order.
 */
export function planIndirect(
  profile: DriveProfile,
  names: readonly string[],
): IndirectPlan | undefined {
  const bank = profile.indirect?.find((b) => b.check !== undefined);
  if (profile.protocol !== 'dynamixel2' || bank?.check === undefined) return undefined;
  const check = bank.check;
  const rest = [...new Set(names)]
    .filter((n) => n !== check)
    .map((n) => objectInfo(profile, n))
    .sort((a, b) => a.address - b.address);
  const infos = [objectInfo(profile, check), ...rest];
  const quantity = infos.reduce((s, o) => s + sizeInBytes(o), 0);
  if (quantity > bank.count) return undefined;
  const entries = new Uint8Array(2 * quantity);
  const offsets: number[] = [];
  let at = 0;
  for (const o of infos) {
    offsets.push(at);
    for (let i = 0; i < sizeInBytes(o); i++, at++) {
      entries[2 * at] = (o.address + i) & 0xff;
      entries[2 * at + 1] = (o.address + i) >> 8;
    }
  }
  return {
    address: bank.address,
    entries,
    block: { address: bank.data, quantity, objects: infos.map((o) => o.name), offsets },
    check,
  };
}

export interface PlanOptions {
  /** Largest hole (registers or bytes) read to merge two objects. Default 0 Modbus, 16 Dynamixel. */
  maxGap?: number;
  /**
   * Largest read. Default 125 registers for Modbus (FC 0x03 limit, Modbus Application
   * Protocol V1.1b3 §6.3); 512 bytes for Dynamixel (the SDK's 1024-byte packet
   * buffer, with room for the header and byte stuffing).
   */
  maxQuantity?: number;
}

export const MODBUS_MAX_READ_REGISTERS = 125;
export const DYNAMIXEL_MAX_READ_BYTES = 512;

/**
 * The reads that cover `names`, fewest first-fit: objects sorted by address, each
 * appended to the current block when the hole before it is ≤ maxGap and the block
 * stays ≤ maxQuantity. Duplicate names are read once. Unknown names throw
 * PROFILE_UNKNOWN_OBJECT; an object larger than maxQuantity, VALUE_OUT_OF_RANGE.
 */
export function planReads(
  profile: DriveProfile,
  names: readonly string[],
  opts: PlanOptions = {},
): ReadBlock[] {
  const modbus = profile.protocol === 'modbus-rtu';
  const maxGap = opts.maxGap ?? (modbus ? 0 : 16);
  const maxQuantity =
    opts.maxQuantity ?? (modbus ? MODBUS_MAX_READ_REGISTERS : DYNAMIXEL_MAX_READ_BYTES);
  if (!Number.isInteger(maxGap) || maxGap < 0) {
    throw new ProtocolError('VALUE_OUT_OF_RANGE', `maxGap ${maxGap} must be an integer ≥ 0`);
  }
  if (!Number.isInteger(maxQuantity) || maxQuantity < 1) {
    throw new ProtocolError(
      'VALUE_OUT_OF_RANGE',
      `maxQuantity ${maxQuantity} must be an integer ≥ 1`,
    );
  }
  const size = modbus ? sizeInRegisters : sizeInBytes;
  const infos = [...new Set(names)].map((n) => objectInfo(profile, n));
  infos.sort((a, b) => a.address - b.address);

  const blocks: ReadBlock[] = [];
  let current: ReadBlock | undefined;
  for (const info of infos) {
    const n = size(info);
    if (n > maxQuantity) {
      throw new ProtocolError(
        'VALUE_OUT_OF_RANGE',
        `'${info.name}' (${n}) does not fit a read of maxQuantity ${maxQuantity}`,
      );
    }
    const end = info.address + n;
    if (current !== undefined) {
      const currentEnd = current.address + current.quantity;
      const gap = info.address - currentEnd;
      if (gap <= maxGap && end - current.address <= maxQuantity) {
        current.quantity = Math.max(currentEnd, end) - current.address;
        current.objects.push(info.name);
        continue;
      }
    }
    current = { address: info.address, quantity: n, objects: [info.name] };
    blocks.push(current);
  }
  return blocks;
}

/**
 * Decodes every object of a planned block from what the read returned: registers
 * (Modbus) or bytes (Dynamixel). VALUE_OUT_OF_RANGE when `data` is shorter than the
 * block.
 */
export function decodeBlock(
  profile: DriveProfile,
  block: ReadBlock,
  data: ArrayLike<number> | Uint8Array,
): Record<string, number> {
  if (data.length < block.quantity) {
    throw new ProtocolError(
      'VALUE_OUT_OF_RANGE',
      `block at ${block.address} needs ${block.quantity}, got ${data.length}`,
    );
  }
  const out: Record<string, number> = {};
  if (profile.protocol === 'modbus-rtu') {
    for (const name of block.objects)
      out[name] = decodeRegisters(profile, name, data, block.address);
  } else {
    return byteDecoderOf(profile, block)(data instanceof Uint8Array ? data : toBytes(data));
  }
  return out;
}

/** Each Dynamixel block's decoder, made at its first decode (a poll plan's blocks live as long as the drive). */
const byteDecoders = new WeakMap<
  ReadBlock,
  { profile: DriveProfile; decode: (bytes: Uint8Array) => Record<string, number> }
>();

function byteDecoderOf(profile: DriveProfile, block: ReadBlock) {
  const got = byteDecoders.get(block);
  if (got?.profile === profile) return got.decode;
  const decode = bytesDecoder(profile, block.objects, block.address, block.quantity, block.offsets);
  byteDecoders.set(block, { profile, decode });
  return decode;
}

function toBytes(data: ArrayLike<number>): Uint8Array {
  const bytes = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const b = data[i]!;
    if (!Number.isInteger(b) || b < 0 || b > 0xff) {
      throw new ProtocolError('VALUE_OUT_OF_RANGE', `byte value ${b} is not 0–0xFF`);
    }
    bytes[i] = b;
  }
  return bytes;
}
