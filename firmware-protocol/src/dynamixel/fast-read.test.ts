import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc16Dynamixel } from '../crc/crc16-dynamixel.ts';
import { ProtocolError } from '../errors.ts';
import {
  encodeFastBulkReadStatus,
  encodeFastSyncReadStatus,
  parseFastBulkReadStatus,
  parseFastSyncReadStatus,
} from './fast-read.ts';
import { decodePacket, type StatusPacket } from './packet.ts';
import { headerishBytes } from './test-arbitraries.ts';
import { bytesOf, STATUS_VECTORS } from './test-vectors.ts';

const u8 = (...b: number[]) => Uint8Array.from(b);

function vector(prefix: string): Uint8Array {
  return bytesOf(STATUS_VECTORS.find((v) => v.name.startsWith(prefix))!.wire);
}

function decodeStatus(bytes: Uint8Array): StatusPacket {
  const p = decodePacket(bytes);
  if (p.kind !== 'status') throw new Error('not a status packet');
  return p;
}

function expectCode(fn: () => unknown, code: string): void {
  expect(fn).toThrow(ProtocolError);
  try {
    fn();
  } catch (err) {
    expect((err as ProtocolError).code).toBe(code);
  }
}

const SYNC_ITEMS = [
  { id: 3, error: 0, data: u8(0xa6, 0, 0, 0) },
  { id: 7, error: 0, data: u8(0x1f, 0x08, 0, 0) },
];
const BULK_ITEMS = [
  { id: 1, error: 0, data: u8(0x77, 0x00) },
  { id: 2, error: 0x80, data: u8(0x24) },
];

describe('Fast Sync Read reply (one status packet, ID 0xFE, one block per device)', () => {
  it('encodes the annotated vector', () => {
    expect(encodeFastSyncReadStatus(SYNC_ITEMS)).toEqual(vector('Fast Sync Read reply'));
  });

  it('parses it back', () => {
    const p = decodeStatus(vector('Fast Sync Read reply'));
    expect(parseFastSyncReadStatus(p, 4)).toEqual(SYNC_ITEMS);
  });

  it('lays out blocks as the SDK reads them: ERR at 8 + k(L+4), ID after it, data after that', () => {
    const L = 4;
    const b = encodeFastSyncReadStatus(SYNC_ITEMS);
    SYNC_ITEMS.forEach((it, k) => {
      const at = 8 + k * (L + 4); // DynamixelSDK GroupFastSyncRead::rxPacket: index += data_length + 4
      expect(b[at]).toBe(it.error);
      expect(b[at + 1]).toBe(it.id);
      expect(b.subarray(at + 2, at + 2 + L)).toEqual(it.data);
      // each block ends with the CRC of the packet up to its data
      const crc = crc16Dynamixel(b, 0, at + 2 + L);
      expect([b[at + 2 + L], b[at + 3 + L]]).toEqual([crc & 0xff, crc >>> 8]);
    });
    expect(b[5]! | (b[6]! << 8)).toBe(1 + SYNC_ITEMS.length * (L + 4));
  });

  it('a single device', () => {
    const items = [{ id: 1, error: 0x84, data: u8(0xff, 0xff, 0xfd, 0x00) }];
    const p = decodeStatus(encodeFastSyncReadStatus(items));
    expect(p.error).toBe(0x84);
    expect(parseFastSyncReadStatus(p, 4)).toEqual(items);
  });

  it('rejects a block CRC that does not check, unless told not to look', () => {
    const p = decodeStatus(vector('Fast Sync Read reply'));
    const params = p.params.slice();
    params[5] ^= 0xff; // first block's CRC_L
    const bad = { ...p, params };
    expectCode(() => parseFastSyncReadStatus(bad, 4), 'DXL_CRC');
    expect(parseFastSyncReadStatus(bad, 4, { checkBlockCrc: false })).toEqual(SYNC_ITEMS);
  });

  it('rejects sizes that do not split into blocks, and replies with another ID', () => {
    const p = decodeStatus(vector('Fast Sync Read reply'));
    expectCode(() => parseFastSyncReadStatus(p, 3), 'DXL_BAD_PACKET');
    expectCode(
      () => parseFastSyncReadStatus({ ...p, params: new Uint8Array(0) }, 4),
      'DXL_BAD_PACKET',
    );
    expectCode(() => parseFastSyncReadStatus({ ...p, id: 3 }, 4), 'DXL_BAD_PACKET');
    expectCode(() => parseFastSyncReadStatus(p, 0), 'VALUE_OUT_OF_RANGE');
  });

  it('encoder checks its arguments', () => {
    expectCode(() => encodeFastSyncReadStatus([]), 'VALUE_OUT_OF_RANGE');
    expectCode(
      () => encodeFastSyncReadStatus([SYNC_ITEMS[0]!, { id: 9, error: 0, data: u8(1) }]),
      'VALUE_OUT_OF_RANGE',
    );
    expectCode(
      () => encodeFastSyncReadStatus([SYNC_ITEMS[0]!, SYNC_ITEMS[0]!]),
      'VALUE_OUT_OF_RANGE',
    );
    expectCode(
      () => encodeFastSyncReadStatus([{ id: 1, error: 256, data: u8(1) }]),
      'VALUE_OUT_OF_RANGE',
    );
    expectCode(
      () => encodeFastSyncReadStatus([{ id: 1, error: 0, data: new Uint8Array(65531) }]),
      'FRAME_TOO_LONG',
    );
  });

  it('parse(decode(encode(items))) = items', () => {
    const items = fc
      .tuple(
        fc.integer({ min: 1, max: 12 }),
        fc.uniqueArray(fc.integer({ min: 0, max: 252 }), { minLength: 1, maxLength: 8 }),
      )
      .chain(([length, ids]) =>
        fc.tuple(
          fc.constant(length),
          fc.tuple(
            ...ids.map((id) =>
              fc.record({
                id: fc.constant(id),
                error: fc.integer({ min: 0, max: 255 }),
                data: headerishBytes(length, length),
              }),
            ),
          ),
        ),
      );
    fc.assert(
      fc.property(items, ([length, list]) => {
        const p = decodeStatus(encodeFastSyncReadStatus(list));
        expect(parseFastSyncReadStatus(p, length)).toEqual(list);
      }),
      { numRuns: 200 },
    );
  });
});

describe('Fast Bulk Read reply', () => {
  const requested = [
    { id: 1, length: 2 },
    { id: 2, length: 1 },
  ];

  it('encodes the annotated vector and parses it back', () => {
    expect(encodeFastBulkReadStatus(BULK_ITEMS)).toEqual(vector('Fast Bulk Read reply'));
    expect(
      parseFastBulkReadStatus(decodeStatus(vector('Fast Bulk Read reply')), requested),
    ).toEqual(BULK_ITEMS);
  });

  it('rejects a reply that does not match the request', () => {
    const p = decodeStatus(vector('Fast Bulk Read reply'));
    expectCode(() => parseFastBulkReadStatus(p, [{ id: 1, length: 2 }]), 'DXL_BAD_PACKET');
    expectCode(() => parseFastBulkReadStatus(p, []), 'DXL_BAD_PACKET');
    expectCode(
      () =>
        parseFastBulkReadStatus(p, [
          { id: 1, length: 2 },
          { id: 5, length: 1 },
        ]),
      'DXL_BAD_PACKET',
    );
  });
});
