import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../errors.ts';
import {
  decodeRequest,
  decodeRequestPdu,
  decodeResponse,
  decodeResponsePdu,
  encodeRequest,
  encodeRequestPdu,
  encodeResponse,
  encodeResponsePdu,
  encodeTcp,
  expectedResponseLength,
  isRejectedRequest,
  type ModbusRequest,
  type ModbusResponse,
  type RtuFrame,
  RtuMasterFramer,
  RtuSlaveFramer,
  requestLength,
  type SlaveRequest,
  silenceMs,
  TcpFramer,
} from './index.ts';
import { withCrc } from './test-vectors.ts';

const RUNS = { numRuns: 300 };
const BAUD = 9600;
const CHAR_MS = 10_000 / BAUD;
const GAP = silenceMs(BAUD);

const u16 = fc.integer({ min: 0, max: 0xffff });
const words = (max: number) => fc.array(u16, { minLength: 1, maxLength: max });

const arbRequest: fc.Arbitrary<ModbusRequest> = fc.oneof(
  fc
    .record({
      f: fc.constantFrom(3 as const, 4 as const),
      a: u16,
      q: fc.integer({ min: 1, max: 125 }),
    })
    .map(({ f, a, q }) => ({ fc: f, address: Math.min(a, 0x10000 - q), quantity: q })),
  fc.record({ fc: fc.constant(6 as const), address: u16, value: u16 }),
  fc.record({ a: u16, values: words(123) }).map(({ a, values }) => ({
    fc: 0x10 as const,
    address: Math.min(a, 0x10000 - values.length),
    values,
  })),
  fc
    .record({ ra: u16, rq: fc.integer({ min: 1, max: 125 }), wa: u16, values: words(121) })
    .map(({ ra, rq, wa, values }) => ({
      fc: 0x17 as const,
      readAddress: Math.min(ra, 0x10000 - rq),
      readQuantity: rq,
      writeAddress: Math.min(wa, 0x10000 - values.length),
      values,
    })),
);

const arbResponse: fc.Arbitrary<ModbusResponse> = fc.oneof(
  fc.record({ fc: fc.constantFrom(3 as const, 4 as const, 0x17 as const), values: words(125) }),
  fc.record({ fc: fc.constant(6 as const), address: u16, value: u16 }),
  fc.record({
    fc: fc.constant(0x10 as const),
    address: u16,
    quantity: fc.integer({ min: 1, max: 123 }),
  }),
  fc.record({
    fc: fc.integer({ min: 1, max: 0x7f }),
    exception: fc.integer({ min: 1, max: 0xff }),
  }),
);

const arbUnit = fc.integer({ min: 1, max: 247 });

/** A response that answers `req`: normal (values drawn from `seed`) or an exception. */
function answer(req: ModbusRequest, seed: number, exception: number): ModbusResponse {
  if (exception > 0) return { fc: req.fc, exception };
  switch (req.fc) {
    case 0x03:
    case 0x04:
      return {
        fc: req.fc,
        values: Array.from({ length: req.quantity }, (_, i) => (seed * (i + 7)) & 0xffff),
      };
    case 0x17:
      return {
        fc: 0x17,
        values: Array.from({ length: req.readQuantity }, (_, i) => (seed + i) & 0xffff),
      };
    case 0x06:
      return { fc: 0x06, address: req.address, value: req.value };
    default:
      return { fc: 0x10, address: req.address, quantity: req.values.length };
  }
}
const arbExchange = fc
  .record({
    unit: arbUnit,
    req: arbRequest,
    seed: u16,
    exception: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 255 })),
  })
  .map(({ unit, req, seed, exception }) => {
    const res = answer(req, seed, exception);
    return { unit, req, res, bytes: encodeResponse(unit, res) };
  });

/** `part` occurs in `whole`: how a returned frame proves its bytes (and CRC) were received. */
function contains(whole: Uint8Array, part: Uint8Array): boolean {
  return Buffer.from(whole.buffer, whole.byteOffset, whole.length).includes(Buffer.from(part));
}
function responseBytes(f: RtuFrame<ModbusResponse>): Uint8Array {
  const p = f.pdu;
  return 'exception' in p ? withCrc([f.unit, p.fc | 0x80, p.exception]) : encodeResponse(f.unit, p);
}
function cut(bytes: Uint8Array, points: number[]): Uint8Array[] {
  const at = [...new Set(points.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const p of [...at, bytes.length]) {
    if (p > from) chunks.push(bytes.subarray(from, p));
    from = Math.max(from, p);
  }
  return chunks;
}
const cat = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => Array.from(p)));

const arbMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant('flip' as const),
    at: fc.nat(),
    bit: fc.integer({ min: 0, max: 7 }),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    byte: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
);
type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; byte: number }
  | { kind: 'delete'; at: number };
function mutate(bytes: Uint8Array, m: Mutation): Uint8Array {
  const b = Array.from(bytes);
  const i = m.at % b.length;
  if (m.kind === 'flip') b[i]! ^= 1 << m.bit;
  else if (m.kind === 'truncate') b.length = i;
  else if (m.kind === 'insert') b.splice(i, 0, m.byte);
  else b.splice(i, 1);
  return Uint8Array.from(b);
}

describe('round trips: decode(encode(x)) = x', () => {
  it('request PDUs and ADUs', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 247 }), arbRequest, (unit, req) => {
        expect(decodeRequestPdu(encodeRequestPdu(req))).toEqual(req);
        const adu = encodeRequest(unit, req);
        expect(decodeRequest(adu)).toEqual({ unit, pdu: req });
        expect(requestLength(adu)).toBe(adu.length);
      }),
      RUNS,
    );
  });

  it('response PDUs and ADUs', () => {
    fc.assert(
      fc.property(arbUnit, arbResponse, (unit, res) => {
        expect(decodeResponsePdu(encodeResponsePdu(res))).toEqual(res);
        expect(decodeResponse(encodeResponse(unit, res))).toEqual({ unit, pdu: res });
      }),
      RUNS,
    );
  });

  it('expectedResponseLength is the length of the encoded answer', () => {
    fc.assert(
      fc.property(arbExchange, ({ req, res, bytes }) => {
        expect(bytes.length).toBe('exception' in res ? 5 : expectedResponseLength(req));
      }),
      RUNS,
    );
  });
});

describe('random bytes', () => {
  it('decoders throw nothing but ProtocolError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        for (const decode of [decodeRequest, decodeResponse, decodeRequestPdu, decodeResponsePdu]) {
          try {
            decode(bytes);
          } catch (err) {
            expect(err).toBeInstanceOf(ProtocolError);
          }
        }
      }),
      RUNS,
    );
  });

  it('framers never throw and return only frames that were received whole', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 600 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        arbUnit,
        arbRequest,
        fc.boolean(),
        (bytes, points, unit, req, silence) => {
          const opts = { baud: BAUD, gapMs: silence ? undefined : null };
          const master = new RtuMasterFramer(opts);
          const slave = new RtuSlaveFramer(opts);
          const tcp = new TcpFramer();
          master.expect(unit, req);
          let t = 0;
          const responses: RtuFrame<ModbusResponse>[] = [];
          const requests: RtuFrame<SlaveRequest>[] = [];
          for (const chunk of cut(bytes, points)) {
            t += chunk.length * CHAR_MS + (chunk[0]! & 1) * 2 * GAP;
            responses.push(...master.feed(chunk, t));
            requests.push(...slave.feed(chunk, t));
            for (const f of tcp.feed(chunk))
              expect(contains(bytes, encodeTcp(f.transactionId, f.unit, f.pdu))).toBe(true);
          }
          requests.push(...slave.poll(t + 100));
          master.cancel(); // drops what is still buffered, so every byte is accounted for
          for (const f of responses) {
            expect(f.unit).toBe(unit);
            expect(contains(bytes, responseBytes(f))).toBe(true);
          }
          for (const f of requests) {
            if (!isRejectedRequest(f.pdu))
              expect(contains(bytes, encodeRequest(f.unit, f.pdu))).toBe(true);
          }
          const s = master.stats;
          expect(
            s.discardedBytes + responses.reduce((n, f) => n + responseBytes(f).length, 0),
          ).toBe(bytes.length);
        },
      ),
      RUNS,
    );
  });
});

describe('master framer: mutated responses and resynchronisation', () => {
  // A mutated frame can start like a longer one (0x84 04 → 0x04 04 reads as "4 bytes
  // follow"): it is settled by the silence, or, without one, by the bytes that follow.
  it('a mutated response yields no wrong frame; the next valid one is found', () => {
    const filler = new Uint8Array(256).fill(0xff); // reserved unit: never starts a response
    fc.assert(
      fc.property(
        arbExchange,
        arbMutation,
        fc.array(fc.nat(), { maxLength: 4 }),
        (ex, m, points) => {
          const bad = mutate(ex.bytes, m);
          const valid = [{ unit: ex.unit, pdu: ex.res }];
          const timed = new RtuMasterFramer({ baud: BAUD });
          timed.expect(ex.unit, ex.req);
          let t = 0;
          const early = cut(bad, points).flatMap((c) => {
            t += c.length * CHAR_MS;
            return timed.feed(c, t);
          });
          // Frames from the mutated bytes only if they were received whole: when they still
          // hold the response (an insertion at 0), or a CRC checks by chance (1 in 65536)
          for (const f of early) expect(contains(bad, responseBytes(f))).toBe(true);
          const late = timed.feed(ex.bytes, t + GAP + 0.1 + ex.bytes.length * CHAR_MS);
          if (early.length === 0) expect(late).toEqual(valid);
          const untimed = new RtuMasterFramer({ baud: BAUD, gapMs: null });
          untimed.expect(ex.unit, ex.req);
          const stream = cat(bad, ex.bytes, filler);
          const frames = cut(stream, points).flatMap((c) => untimed.feed(c, 0));
          expect(frames.length).toBe(1);
          expect(contains(stream, responseBytes(frames[0]!))).toBe(true);
        },
      ),
      RUNS,
    );
  });

  it('after any garbage and a silence, the response is found', () => {
    fc.assert(
      fc.property(arbExchange, fc.uint8Array({ maxLength: 300 }), (ex, garbage) => {
        const framer = new RtuMasterFramer({ baud: BAUD });
        framer.expect(ex.unit, ex.req);
        const early = garbage.length > 0 ? framer.feed(garbage, 1000) : [];
        const t = 1000 + GAP + 0.1 + ex.bytes.length * CHAR_MS;
        expect([...early, ...framer.feed(ex.bytes, t)]).toContainEqual({
          unit: ex.unit,
          pdu: ex.res,
        });
      }),
      RUNS,
    );
  });

  it('after garbage that does not start the response, it is found without a silence', () => {
    fc.assert(
      fc.property(arbExchange, fc.uint8Array({ maxLength: 300 }), (ex, garbage) => {
        const stream = cat(garbage, ex.bytes);
        const starts = (i: number) =>
          stream[i] === ex.unit &&
          (stream[i + 1] === ex.req.fc || stream[i + 1] === (ex.req.fc | 0x80));
        fc.pre(!Array.from(garbage, (_, i) => starts(i)).some(Boolean));
        const framer = new RtuMasterFramer({ baud: BAUD, gapMs: null });
        framer.expect(ex.unit, ex.req);
        expect(framer.feed(stream, 0)).toEqual([{ unit: ex.unit, pdu: ex.res }]);
      }),
      RUNS,
    );
  });

  it('silence: short pauses keep the frame, a pause over 3.5 characters ends it', () => {
    fc.assert(
      fc.property(
        arbExchange,
        fc.array(fc.nat(), { minLength: 1, maxLength: 5 }),
        fc.array(fc.double({ min: 0, max: 0.9, noNaN: true }), { minLength: 6, maxLength: 6 }),
        fc.nat(),
        (ex, points, pauses, which) => {
          const chunks = cut(ex.bytes, points);
          const run = (long: number) => {
            const framer = new RtuMasterFramer({ baud: BAUD });
            framer.expect(ex.unit, ex.req);
            let t = 1000;
            const frames = chunks.flatMap((c, i) => {
              t += c.length * CHAR_MS + (i === long ? 1.2 : pauses[i]!) * GAP;
              return framer.feed(c, t);
            });
            framer.cancel(); // drop what is still buffered: every byte is then accounted for
            return { frames, stats: framer.stats };
          };
          expect(run(-1).frames).toEqual([{ unit: ex.unit, pdu: ex.res }]);
          if (chunks.length > 1) {
            const { frames, stats } = run(1 + (which % (chunks.length - 1)));
            expect(frames).toEqual([]);
            expect(stats.discarded.MODBUS_TRUNCATED).toBeGreaterThanOrEqual(1);
            expect(stats.discardedBytes).toBe(ex.bytes.length);
          }
        },
      ),
      RUNS,
    );
  });
});

describe('slave framer: mutated requests and resynchronisation', () => {
  const arbUnicast = fc.record({ unit: arbUnit, req: arbRequest });
  const decoded = (frames: RtuFrame<SlaveRequest>[]) =>
    frames.filter((f): f is RtuFrame<ModbusRequest> => !isRejectedRequest(f.pdu));

  it('a mutated request is never returned as valid; the next one is found after the silence', () => {
    fc.assert(
      fc.property(
        arbUnicast,
        arbMutation,
        fc.array(fc.nat(), { maxLength: 4 }),
        ({ unit, req }, m, points) => {
          const good = encodeRequest(unit, req);
          const bad = mutate(good, m);
          const framer = new RtuSlaveFramer({ baud: BAUD });
          let t = 0;
          const early = cut(bad, points).flatMap((c) => {
            t += c.length * CHAR_MS;
            return framer.feed(c, t);
          });
          for (const f of decoded(early))
            expect(contains(bad, encodeRequest(f.unit, f.pdu))).toBe(true);
          const late = framer.feed(good, t + GAP + 0.1 + good.length * CHAR_MS);
          expect(late.at(-1)).toEqual({ unit, pdu: req });
        },
      ),
      RUNS,
    );
  });

  it('after any garbage and a silence, a request is found; without one nothing false is', () => {
    fc.assert(
      fc.property(arbUnicast, fc.uint8Array({ maxLength: 300 }), ({ unit, req }, garbage) => {
        const good = encodeRequest(unit, req);
        const timed = new RtuSlaveFramer({ baud: BAUD });
        timed.feed(garbage, 1);
        expect(timed.feed(good, 1000).at(-1)).toEqual({ unit, pdu: req });
        const untimed = new RtuSlaveFramer({ baud: BAUD, gapMs: null });
        const stream = cat(garbage, good);
        for (const f of decoded(untimed.feed(stream, 1))) {
          expect(contains(stream, encodeRequest(f.unit, f.pdu))).toBe(true);
        }
      }),
      RUNS,
    );
  });
});
