/**
 * The reply to Fast Sync Read (0x8A) and Fast Bulk Read (0x9A): the addressed
 * devices, in the order of the instruction, build ONE status packet together
 * (ROBOTIS Protocol 2.0 e-manual §Fast Sync Read; DynamixelSDK
 * `GroupFastSyncRead::rxPacket`, `Protocol2PacketHandler.fastBulkReadRx`):
 *
 * ```
 * FF FF FD 00 | FE | LEN_L LEN_H | 55 |  ERR1 ID1 DATA1 CRC1  |  ERR2 ID2 DATA2 CRC2  | …
 * ```
 *
 * - the packet ID is the broadcast ID 0xFE;
 * - every device adds a block ERR, ID, DATA, CRC_L, CRC_H; the first device's ERR
 *   sits where a status packet has its error byte, so as a `StatusPacket` the reply
 *   has `error` = ERR1 and `params` = ID1 DATA1 CRC1 ERR2 ID2 DATA2 … DATAn — the last
 *   block's CRC is the packet CRC (the SDK steps through blocks of `length + 4`
 *   bytes from the error byte on);
 * - LEN = 1 + Σ (4 + data length);
 * - a block's CRC is the CRC-16 of the packet from its first header byte to the end
 *   of that block's data: each device continues the running CRC of what is already
 *   on the bus, which makes the last block's CRC the packet CRC;
 * - nothing is byte-stuffed (the SDK reads it with `fast_option`, skipping
 *   `removeStuffing`).
 */
import { crc16Dynamixel } from '../crc/crc16-dynamixel.ts';
import { ProtocolError } from '../errors.ts';
import {
  BROADCAST_ID,
  HEADER_0,
  HEADER_1,
  HEADER_2,
  Instruction,
  MAX_LENGTH_FIELD,
  RESERVED,
} from './instructions.ts';
import type { StatusPacket } from './packet.ts';
import { assertByte, assertInteger, assertUniqueDeviceIds } from './validate.ts';

export interface FastReadItem {
  id: number;
  /** The device's raw status error byte. */
  error: number;
  data: Uint8Array;
}

export interface FastReadParseOptions {
  /**
   * Check the CRC that ends each block but the last (whose CRC is the packet's, already
   * checked by `decodePacket` or the framer). Default true; turn it off for devices that
   * fill those bytes differently (DynamixelSDK does not read them).
   */
  checkBlockCrc?: boolean;
}

/** Bytes before the first block: header, reserved, ID, LEN, INST 0x55. */
const PREFIX = 8;

function encodeFastReadStatus(items: readonly FastReadItem[]): Uint8Array {
  assertUniqueDeviceIds(
    items.map((it) => it.id),
    'fast read status',
  );
  let len = 1; // INST
  for (const it of items) {
    assertByte(it.error, 'status error byte');
    len += 4 + it.data.length; // ERR ID DATA CRC_L CRC_H
  }
  if (len > MAX_LENGTH_FIELD) {
    throw new ProtocolError(
      'FRAME_TOO_LONG',
      `fast read status LEN ${len} exceeds ${MAX_LENGTH_FIELD}`,
    );
  }
  const out = new Uint8Array(7 + len);
  out[0] = HEADER_0;
  out[1] = HEADER_1;
  out[2] = HEADER_2;
  out[3] = RESERVED;
  out[4] = BROADCAST_ID;
  out[5] = len & 0xff;
  out[6] = len >>> 8;
  out[7] = Instruction.Status;
  let o = PREFIX;
  for (const it of items) {
    out[o] = it.error;
    out[o + 1] = it.id;
    out.set(it.data, o + 2);
    o += 2 + it.data.length;
    const crc = crc16Dynamixel(out, 0, o); // running CRC from the first header byte
    out[o] = crc & 0xff;
    out[o + 1] = crc >>> 8;
    o += 2;
  }
  return out;
}

/**
 * The combined status packet devices send to Fast Sync Read, every `data` of the same
 * length (what a slave group sends; the simulator uses it). Returns a new array.
 */
export function encodeFastSyncReadStatus(
  items: { id: number; error: number; data: Uint8Array }[],
): Uint8Array {
  const length = items[0]?.data.length ?? 0;
  for (const it of items) {
    if (it.data.length !== length) {
      throw new ProtocolError(
        'VALUE_OUT_OF_RANGE',
        `fast sync read status: device ${it.id} has ${it.data.length} bytes, not ${length}`,
      );
    }
  }
  return encodeFastReadStatus(items);
}

/** The combined status packet devices send to Fast Bulk Read (data lengths may differ). */
export function encodeFastBulkReadStatus(items: FastReadItem[]): Uint8Array {
  return encodeFastReadStatus(items);
}

/**
 * Splits a decoded Fast Sync Read reply into one item per device, `length` data bytes
 * each. Throws `DXL_BAD_PACKET` when the packet is not a fast read reply of that
 * length, `DXL_CRC` when a block CRC does not check. Data arrays are copies.
 */
export function parseFastSyncReadStatus(
  p: StatusPacket,
  length: number,
  options: FastReadParseOptions = {},
): FastReadItem[] {
  assertInteger(length, 1, 0xffff, 'fast sync read data length');
  const blocks = (p.params.length + 3) / (length + 4);
  if (!Number.isInteger(blocks) || blocks < 1) {
    throw new ProtocolError(
      'DXL_BAD_PACKET',
      `fast sync read status: ${p.params.length} parameter bytes do not split into blocks of ${length} data bytes`,
    );
  }
  return parseBlocks(p, new Array<number>(blocks).fill(length), undefined, options);
}

/**
 * Splits a decoded Fast Bulk Read reply by the `requested` devices (in the order of
 * the instruction). Throws `DXL_BAD_PACKET` when the sizes or IDs do not match the
 * request, `DXL_CRC` when a block CRC does not check. Data arrays are copies.
 */
export function parseFastBulkReadStatus(
  p: StatusPacket,
  requested: { id: number; length: number }[],
  options: FastReadParseOptions = {},
): FastReadItem[] {
  return parseBlocks(
    p,
    requested.map((r) => r.length),
    requested.map((r) => r.id),
    options,
  );
}

function parseBlocks(
  p: StatusPacket,
  lengths: readonly number[],
  ids: readonly number[] | undefined,
  options: FastReadParseOptions,
): FastReadItem[] {
  // e-manual §Fast Sync Read: the combined status packet carries the broadcast ID
  if (p.id !== BROADCAST_ID) {
    throw new ProtocolError('DXL_BAD_PACKET', `fast read status with ID ${p.id}, not 0xFE`);
  }
  let expected = -3; // params hold no final CRC: Σ (4 + L) - 3 (ERR1 is p.error, CRCn the packet's)
  for (const l of lengths) expected += 4 + l;
  if (lengths.length === 0 || p.params.length !== expected) {
    throw new ProtocolError(
      'DXL_BAD_PACKET',
      `fast read status: ${p.params.length} parameter bytes, ${Math.max(expected, 0)} expected for ${lengths.length} device(s)`,
    );
  }
  // Rebuild the packet as it was on the wire so that block CRCs can be checked.
  const len = p.params.length + 4;
  const wire = new Uint8Array(PREFIX + 1 + p.params.length);
  wire.set([
    HEADER_0,
    HEADER_1,
    HEADER_2,
    RESERVED,
    BROADCAST_ID,
    len & 0xff,
    len >>> 8,
    Instruction.Status,
    p.error,
  ]);
  wire.set(p.params, PREFIX + 1);
  const check = options.checkBlockCrc ?? true;
  const items: FastReadItem[] = [];
  let o = PREFIX;
  for (let k = 0; k < lengths.length; k++) {
    const error = wire[o]!;
    const id = wire[o + 1]!;
    if (ids !== undefined && id !== ids[k]) {
      throw new ProtocolError(
        'DXL_BAD_PACKET',
        `fast read status: block ${k} is from device ${id}, not ${ids[k]}`,
      );
    }
    const dataEnd = o + 2 + lengths[k]!;
    const data = wire.slice(o + 2, dataEnd);
    if (k < lengths.length - 1 && check) {
      const crc = crc16Dynamixel(wire, 0, dataEnd);
      const onWire = wire[dataEnd]! | (wire[dataEnd + 1]! << 8);
      if (crc !== onWire) {
        throw new ProtocolError(
          'DXL_CRC',
          `fast read status: CRC of block ${k} (device ${id}) does not check`,
        );
      }
    }
    items.push({ id, error, data });
    o = dataEnd + 2;
  }
  return items;
}
