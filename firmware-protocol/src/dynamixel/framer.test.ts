import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc16Dynamixel } from '../crc/crc16-dynamixel.ts';
import { ProtocolError } from '../errors.ts';
import { DynamixelFramer, type FramerStats } from './framer.ts';
import { encodeInstruction, encodeStatus, type Packet } from './packet.ts';
import { anyPacket, concat, headerishBytes, indexOfBytes } from './test-arbitraries.ts';
import { ALL_VECTORS, bytesOf, fromHex } from './test-vectors.ts';

function encode(p: Packet): Uint8Array {
  return p.kind === 'instruction' ? encodeInstruction(p) : encodeStatus(p);
}

/** Feeds `bytes` cut at `cuts` (sorted offsets); returns all packets. */
function feedSplit(framer: DynamixelFramer, bytes: Uint8Array, cuts: number[]): Packet[] {
  const out: Packet[] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    out.push(...framer.feed(bytes.subarray(from, cut)));
    from = cut;
  }
  return out;
}

const PING = fromHex('FF FF FD 00 01 03 00 01 19 4E');
const PING_PACKET: Packet = {
  kind: 'instruction',
  id: 1,
  instruction: 1,
  params: new Uint8Array(0),
};
const NO_DISCARDS: FramerStats['discarded'] = {};

describe('DynamixelFramer on the annotated vectors', () => {
  for (const v of ALL_VECTORS) {
    const bytes = bytesOf(v.wire);
    it(`split at every byte position: ${v.name}`, () => {
      for (let cut = 0; cut <= bytes.length; cut++) {
        const f = new DynamixelFramer();
        const first = f.feed(bytes.subarray(0, cut));
        expect(first).toEqual(cut === bytes.length ? [v.packet] : []);
        const second = f.feed(bytes.subarray(cut));
        expect([...first, ...second]).toEqual([v.packet]);
        expect(f.stats).toEqual({ packets: 1, discardedBytes: 0, discarded: NO_DISCARDS });
      }
    });
    it(`byte by byte: ${v.name}`, () => {
      const f = new DynamixelFramer();
      const out: Packet[] = [];
      for (let i = 0; i < bytes.length; i++) {
        const got = f.feed(bytes.subarray(i, i + 1));
        if (i < bytes.length - 1) expect(got).toEqual([]);
        out.push(...got);
      }
      expect(out).toEqual([v.packet]);
    });
  }

  it('all vectors back to back, split at every byte position', () => {
    const stream = concat(...ALL_VECTORS.map((v) => bytesOf(v.wire)));
    const expected = ALL_VECTORS.map((v) => v.packet);
    for (let cut = 0; cut <= stream.length; cut++) {
      const f = new DynamixelFramer();
      expect(feedSplit(f, stream, [cut])).toEqual(expected);
      expect(f.stats.packets).toBe(expected.length);
      expect(f.stats.discardedBytes).toBe(0);
    }
    const f = new DynamixelFramer();
    const out: Packet[] = [];
    for (let i = 0; i < stream.length; i++) out.push(...f.feed(stream.subarray(i, i + 1)));
    expect(out).toEqual(expected);
  });
});

describe('DynamixelFramer resynchronisation', () => {
  it('counts garbage before a header as one DXL_GARBAGE run', () => {
    const f = new DynamixelFramer();
    expect(f.feed(concat(fromHex('00 11 FF 22 FF FF 33 FF FF FD 44'), PING))).toEqual([
      PING_PACKET,
    ]);
    expect(f.stats).toEqual({ packets: 1, discardedBytes: 11, discarded: { DXL_GARBAGE: 1 } });
  });

  it('does not take a stuffed FF FF FD FD for a header', () => {
    const f = new DynamixelFramer();
    expect(f.feed(concat(fromHex('FF FF FD FD 01 03 00 01 00 00'), PING))).toEqual([PING_PACKET]);
    expect(f.stats.discarded).toEqual({ DXL_GARBAGE: 1 });
  });

  it('keeps a possible header at the end of a chunk', () => {
    const f = new DynamixelFramer();
    expect(f.feed(fromHex('AA FF FF FD'))).toEqual([]);
    expect(f.stats.discardedBytes).toBe(1);
    expect(f.feed(PING.subarray(3))).toEqual([PING_PACKET]);
  });

  it('drops a packet whose CRC does not check (DXL_CRC) and finds the next one', () => {
    const bad = PING.slice();
    bad[8] ^= 0x10;
    const f = new DynamixelFramer();
    expect(f.feed(concat(bad, PING))).toEqual([PING_PACKET]);
    // the bad packet: one rejected header, its 10 bytes dropped while resynchronising
    expect(f.stats).toEqual({ packets: 1, discardedBytes: 10, discarded: { DXL_CRC: 1 } });
  });

  it('finds a packet that arrived while a false header waited for its bytes', () => {
    // A false header announcing LEN 40 swallows the ping that follows; when its CRC
    // fails the framer slides one byte and finds the ping inside what it buffered.
    const falseHeader = fromHex('FF FF FD 00 01 28 00');
    const f = new DynamixelFramer();
    expect(f.feed(concat(falseHeader, PING))).toEqual([]);
    expect(f.feed(new Uint8Array(40 + 7 - falseHeader.length - PING.length))).toEqual([
      PING_PACKET,
    ]);
    expect(f.stats.discarded).toEqual({ DXL_CRC: 1, DXL_GARBAGE: 1 });
  });

  it('bounds LEN: FRAME_TOO_LONG', () => {
    const f = new DynamixelFramer({ maxPacketLength: 16 });
    expect(f.feed(concat(fromHex('FF FF FD 00 01 11 00'), PING))).toEqual([PING_PACKET]);
    expect(f.stats.discarded).toEqual({ FRAME_TOO_LONG: 1 });
    expect(f.stats.discardedBytes).toBe(7);
    // LEN 16 is allowed
    const ok = encodeInstruction({ id: 1, instruction: 3, params: new Uint8Array(13) });
    expect(f.feed(ok)).toHaveLength(1);
  });

  it('drops LEN < 3 and the unused IDs 0xFD, 0xFF as DXL_BAD_PACKET', () => {
    const f = new DynamixelFramer();
    const junk = concat(
      fromHex('FF FF FD 00 01 02 00'),
      fromHex('FF FF FD 00 FD 03 00 01 00 00'),
      fromHex('FF FF FD 00 FF 03 00 01 00 00'),
    );
    expect(f.feed(concat(junk, PING))).toEqual([PING_PACKET]);
    expect(f.stats.discarded).toEqual({ DXL_BAD_PACKET: 3 });
    expect(f.stats.discardedBytes).toBe(junk.length);
  });

  it('drops a packet whose CRC checks but whose body does not decode (DXL_BAD_PACKET)', () => {
    const f = new DynamixelFramer();
    expect(f.feed(concat(statusWithoutErrorByte(), PING))).toEqual([PING_PACKET]);
    expect(f.stats.discarded).toEqual({ DXL_BAD_PACKET: 1 });
  });

  it('never returns arrays that alias its buffer or the chunk', () => {
    const f = new DynamixelFramer();
    const status = fromHex('FF FF FD 00 01 08 00 55 00 A6 00 00 00 8C C0');
    const [p] = f.feed(status);
    status.fill(0);
    f.feed(concat(PING, PING, PING)); // reuses the internal buffer
    expect(p!.params).toEqual(Uint8Array.of(0xa6, 0, 0, 0));
  });

  it('handles chunks larger than its buffer', () => {
    const f = new DynamixelFramer({ maxPacketLength: 32 });
    const many = concat(...Array.from({ length: 2000 }, () => PING));
    const out = f.feed(many);
    expect(out).toHaveLength(2000);
    expect(f.stats).toEqual({ packets: 2000, discardedBytes: 0, discarded: NO_DISCARDS });
  });

  it('reset drops leftover bytes and zeroes the stats', () => {
    const f = new DynamixelFramer();
    f.feed(fromHex('00 FF FF FD 00 01'));
    f.reset();
    expect(f.stats).toEqual({ packets: 0, discardedBytes: 0, discarded: NO_DISCARDS });
    expect(f.feed(PING.subarray(6))).toEqual([]);
    expect(f.feed(PING)).toEqual([PING_PACKET]);
  });

  it('stats is a snapshot', () => {
    const f = new DynamixelFramer();
    const s = f.stats;
    s.packets = 99;
    (s.discarded as Record<string, number>).DXL_CRC = 1;
    expect(f.stats).toEqual({ packets: 0, discardedBytes: 0, discarded: NO_DISCARDS });
  });

  it('rejects a maxPacketLength outside 3–65535', () => {
    for (const maxPacketLength of [2, 65536, 10.5]) {
      expect(() => new DynamixelFramer({ maxPacketLength })).toThrow(ProtocolError);
    }
  });
});

function statusWithoutErrorByte(): Uint8Array {
  // FF FF FD 00 | 01 | 03 00 | 55 | CRC: a status packet whose LEN leaves no room for the error byte
  const b = fromHex('FF FF FD 00 01 03 00 55 00 00');
  const crc = crc16Dynamixel(b, 0, 8);
  b[8] = crc & 0xff;
  b[9] = crc >>> 8;
  return b;
}

/** Cut points: sorted offsets inside [0, length]. */
function cutsOf(length: number): fc.Arbitrary<number[]> {
  return fc
    .uniqueArray(fc.integer({ min: 0, max: length }), { maxLength: 8 })
    .map((a) => a.sort((x, y) => x - y));
}

/** Every packet the framer returned appears, encoded, in the input: so its CRC checked. */
function expectAllFromInput(out: Packet[], input: Uint8Array): void {
  for (const p of out) expect(indexOfBytes(input, encode(p))).toBeGreaterThanOrEqual(0);
}

describe('DynamixelFramer properties', () => {
  it('a stream of packets comes out whole, however it is chunked', () => {
    const arb = fc.array(anyPacket(40), { minLength: 1, maxLength: 6 }).chain((ps) => {
      const stream = concat(...ps.map(encode));
      return fc.tuple(fc.constant(ps), fc.constant(stream), cutsOf(stream.length));
    });
    fc.assert(
      fc.property(arb, ([ps, stream, cuts]) => {
        const f = new DynamixelFramer();
        expect(feedSplit(f, stream, cuts)).toEqual(ps);
        expect(f.stats).toEqual({ packets: ps.length, discardedBytes: 0, discarded: NO_DISCARDS });
      }),
      { numRuns: 300 },
    );
  });

  it('random bytes never throw and never yield a packet whose CRC did not check', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), headerishBytes(300)), (bytes) => {
        const f = new DynamixelFramer({ maxPacketLength: 64 });
        const out = f.feed(bytes);
        expectAllFromInput(out, bytes);
        const s = f.stats;
        expect(s.packets).toBe(out.length);
      }),
      { numRuns: 500 },
    );
  });

  it('mutated streams (bit flips, truncation, insertion) never throw nor yield unchecked packets; chunking does not matter', () => {
    const mutation = fc.oneof(
      fc.record({
        kind: fc.constant('flip' as const),
        at: fc.nat(),
        bit: fc.integer({ min: 0, max: 7 }),
      }),
      fc.record({
        kind: fc.constant('cut' as const),
        at: fc.nat(),
        n: fc.integer({ min: 1, max: 6 }),
      }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: headerishBytes(6) }),
    );
    const arb = fc
      .tuple(
        fc.array(anyPacket(24), { minLength: 1, maxLength: 5 }),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
      )
      .map(([ps, ms]) => {
        let b = concat(...ps.map(encode));
        for (const m of ms) {
          const at = b.length === 0 ? 0 : m.at % b.length;
          if (m.kind === 'flip' && b.length > 0) {
            b = b.slice();
            b[at] ^= 1 << m.bit;
          } else if (m.kind === 'cut') {
            b = concat(b.subarray(0, at), b.subarray(at + m.n));
          } else if (m.kind === 'insert') {
            b = concat(b.subarray(0, at), m.bytes, b.subarray(at));
          }
        }
        return b;
      })
      .chain((b) => fc.tuple(fc.constant(b), cutsOf(b.length)));
    fc.assert(
      fc.property(arb, ([bytes, cuts]) => {
        const whole = new DynamixelFramer();
        const a = whole.feed(bytes);
        expectAllFromInput(a, bytes);
        const chunked = new DynamixelFramer();
        expect(feedSplit(chunked, bytes, cuts)).toEqual(a);
        expect(chunked.stats).toEqual(whole.stats);
      }),
      { numRuns: 500 },
    );
  });

  it('after garbage, the next valid packet is found', () => {
    const noHeader = (b: Uint8Array) => indexOfBytes(b, fromHex('FF FF FD 00')) < 0;
    const arb = fc
      .tuple(headerishBytes(80).filter(noHeader), anyPacket(20))
      .chain(([garbage, p]) => {
        const stream = concat(garbage, encode(p));
        return fc.tuple(
          fc.constant(garbage),
          fc.constant(p),
          fc.constant(stream),
          cutsOf(stream.length),
        );
      });
    fc.assert(
      fc.property(arb, ([garbage, p, stream, cuts]) => {
        const f = new DynamixelFramer();
        expect(feedSplit(f, stream, cuts)).toEqual([p]);
        expect(f.stats.discardedBytes).toBe(garbage.length);
      }),
      { numRuns: 500 },
    );
  });
});
