import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../errors.ts';
import {
  encodeRequest,
  encodeResponse,
  type ModbusRequest,
  type ModbusResponse,
  type RtuFrame,
  RtuMasterFramer,
} from './index.ts';
import { bytesOf, REQUEST_OF_RESPONSE, RESPONSES } from './test-vectors.ts';

const BAUD = 115200;
const CHAR_MS = 10_000 / BAUD;
const READ10: ModbusRequest = { fc: 0x03, address: 0, quantity: 10 };
const RESPONSE10 = bytesOf(RESPONSES[0]!);

/** Feeds `chunks` back to back as a UART would deliver them (no silence between). */
function feedAll(framer: RtuMasterFramer, chunks: Uint8Array[], t0 = 1000) {
  const frames: RtuFrame<ModbusResponse>[] = [];
  let t = t0;
  for (const c of chunks) {
    t += c.length * CHAR_MS;
    frames.push(...framer.feed(c, t));
  }
  return frames;
}

const cat = (...parts: ArrayLike<number>[]) => Uint8Array.from(parts.flatMap((p) => Array.from(p)));

describe('RtuMasterFramer: every response vector', () => {
  const cases = RESPONSES.map((v, i) => ({ ...v, req: REQUEST_OF_RESPONSE[i]! }));

  it.each(cases)('$name: whole, split at every byte, byte by byte', (v) => {
    const bytes = bytesOf(v);
    const framer = new RtuMasterFramer({ baud: BAUD });
    const splits = [[bytes]];
    for (let i = 1; i < bytes.length; i++) splits.push([bytes.subarray(0, i), bytes.subarray(i)]);
    splits.push(Array.from(bytes, (b) => Uint8Array.of(b)));
    splits.forEach((chunks, i) => {
      framer.expect(v.req.unit, v.req.pdu);
      expect(feedAll(framer, chunks, 1000 + 100 * i)).toEqual([v.frame]);
    });
    expect(framer.stats).toEqual({ frames: splits.length, discardedBytes: 0, discarded: {} });
  });
});

describe('RtuMasterFramer: resynchronisation', () => {
  it('drops garbage before the response (MODBUS_GARBAGE, one event per run)', () => {
    const framer = new RtuMasterFramer({ baud: BAUD });
    framer.expect(1, READ10);
    const garbage = [0xff, 0x00, 0x01, 0x03, 0x15, 0x01];
    expect(feedAll(framer, [cat(garbage, RESPONSE10)])).toEqual([RESPONSES[0]!.frame]);
    expect(framer.stats).toEqual({
      frames: 1,
      discardedBytes: garbage.length,
      discarded: { MODBUS_GARBAGE: 1 },
    });
  });

  it('skips the echo of its own request', () => {
    const framer = new RtuMasterFramer({ baud: BAUD });
    framer.expect(1, READ10);
    const echo = encodeRequest(1, READ10);
    expect(feedAll(framer, [echo, RESPONSE10])).toEqual([RESPONSES[0]!.frame]);
    expect(framer.stats.discardedBytes).toBe(8);
  });

  it('drops a whole response of another unit (MODBUS_UNEXPECTED_RESPONSE)', () => {
    const framer = new RtuMasterFramer({ baud: BAUD });
    framer.expect(1, READ10);
    const other = encodeResponse(2, { fc: 3, values: [7, 7, 7, 7, 7, 7, 7, 7, 7, 7] });
    const exception = encodeResponse(1, { fc: 4, exception: 2 });
    expect(feedAll(framer, [cat(other, exception, RESPONSE10)])).toEqual([RESPONSES[0]!.frame]);
    expect(framer.stats.discarded).toEqual({ MODBUS_UNEXPECTED_RESPONSE: 2 });
    expect(framer.stats.discardedBytes).toBe(other.length + exception.length);
  });

  it('counts a CRC failure, slides one byte and finds the next valid response', () => {
    const framer = new RtuMasterFramer({ baud: BAUD, gapMs: null });
    framer.expect(1, READ10);
    const corrupted = RESPONSE10.slice();
    corrupted[10]! ^= 0x04;
    expect(framer.feed(corrupted, 1)).toEqual([]);
    expect(framer.feed(RESPONSE10, 2)).toEqual([RESPONSES[0]!.frame]);
    expect(framer.stats.discarded).toEqual({ MODBUS_CRC: 1 });
    expect(framer.stats.discardedBytes).toBe(corrupted.length);
  });

  it('rejects a 0x06 / 0x10 response whose echo does not match the request', () => {
    const framer = new RtuMasterFramer({ baud: BAUD });
    framer.expect(0x11, { fc: 0x06, address: 1, value: 3 });
    const wrongValue = encodeResponse(0x11, { fc: 0x06, address: 1, value: 4 });
    expect(feedAll(framer, [wrongValue])).toEqual([]);
    framer.expect(0x11, { fc: 0x10, address: 1, values: [1, 2] });
    const wrongQuantity = encodeResponse(0x11, { fc: 0x10, address: 1, quantity: 3 });
    const right = encodeResponse(0x11, { fc: 0x10, address: 1, quantity: 2 });
    expect(feedAll(framer, [wrongQuantity, right])).toEqual([
      { unit: 0x11, pdu: { fc: 0x10, address: 1, quantity: 2 } },
    ]);
    expect(framer.stats.discarded).toEqual({ MODBUS_UNEXPECTED_RESPONSE: 2 });
  });

  it('returns one frame and drops what follows it', () => {
    const framer = new RtuMasterFramer({ baud: BAUD });
    framer.expect(1, READ10);
    expect(feedAll(framer, [cat(RESPONSE10, RESPONSE10, [1, 2])])).toEqual([RESPONSES[0]!.frame]);
    expect(framer.stats.discarded).toEqual({ MODBUS_UNEXPECTED_RESPONSE: 1 });
    expect(framer.stats.discardedBytes).toBe(RESPONSE10.length + 2);
  });

  it('drops bytes that arrive with nothing outstanding', () => {
    const framer = new RtuMasterFramer({ baud: BAUD });
    expect(framer.feed(RESPONSE10, 1)).toEqual([]);
    expect(framer.feed(RESPONSE10, 100)).toEqual([]);
    expect(framer.feed(new Uint8Array(0), 200)).toEqual([]);
    expect(framer.stats.discarded).toEqual({ MODBUS_UNEXPECTED_RESPONSE: 2 });
  });
});

describe('RtuMasterFramer: silence (Modbus over serial line V1.02 §2.5.1.1)', () => {
  const first = RESPONSE10.subarray(0, 10);
  const rest = RESPONSE10.subarray(10);

  it('a gap longer than 3.5 characters ends the partial frame', () => {
    const framer = new RtuMasterFramer({ baud: 9600 }); // t3.5 = 3.65 ms, 1 char = 1.04 ms
    framer.expect(1, READ10);
    expect(framer.feed(first, 100)).toEqual([]);
    // rest (15 chars = 15.6 ms) ends at 100 + 15.6 + 3.7 ms of silence before it
    expect(framer.feed(rest, 100 + 15.625 + 3.7)).toEqual([]);
    expect(framer.stats.discarded).toEqual({ MODBUS_TRUNCATED: 1, MODBUS_GARBAGE: 1 });
    expect(framer.feed(RESPONSE10, 200)).toEqual([RESPONSES[0]!.frame]);
  });

  it('counts the chunk’s own transmission time, not a gap', () => {
    const framer = new RtuMasterFramer({ baud: 9600 });
    framer.expect(1, READ10);
    expect(framer.feed(first, 100)).toEqual([]);
    expect(framer.feed(rest, 100 + 15.625 + 3.5)).toEqual([RESPONSES[0]!.frame]);
  });

  it('honours a gapMs override, and null disables the rule', () => {
    const slow = new RtuMasterFramer({ baud: BAUD, gapMs: 20 });
    slow.expect(1, READ10);
    slow.feed(first, 0);
    expect(slow.feed(rest, 19)).toEqual([RESPONSES[0]!.frame]);
    const never = new RtuMasterFramer({ baud: BAUD, gapMs: null });
    never.expect(1, READ10);
    never.feed(first, 0);
    expect(never.feed(rest, 60_000)).toEqual([RESPONSES[0]!.frame]);
  });
});

describe('RtuMasterFramer: arming', () => {
  it('expect() replaces the expectation and drops leftovers (MODBUS_TRUNCATED)', () => {
    const framer = new RtuMasterFramer({ baud: BAUD });
    framer.expect(2, READ10);
    framer.feed(RESPONSE10.subarray(0, 5), 1);
    framer.expect(1, READ10);
    expect(framer.stats).toEqual({
      frames: 0,
      discardedBytes: 5,
      discarded: { MODBUS_GARBAGE: 1 },
    });
    expect(framer.feed(RESPONSE10, 2)).toEqual([RESPONSES[0]!.frame]);
    framer.expect(1, READ10);
    framer.feed(RESPONSE10.subarray(0, 5), 3);
    framer.expect(1, READ10);
    expect(framer.stats.discarded.MODBUS_TRUNCATED).toBe(1);
  });

  it('cancel() forgets the request and leftovers', () => {
    const framer = new RtuMasterFramer({ baud: BAUD });
    framer.expect(1, READ10);
    framer.feed(RESPONSE10.subarray(0, 5), 1);
    framer.cancel();
    expect(framer.feed(RESPONSE10.subarray(5), 1.1)).toEqual([]);
    expect(framer.stats.discarded).toEqual({ MODBUS_TRUNCATED: 1, MODBUS_UNEXPECTED_RESPONSE: 1 });
    expect(framer.stats.discardedBytes).toBe(RESPONSE10.length);
  });

  it('refuses broadcasts, invalid requests and responses longer than maxFrameLength', () => {
    const framer = new RtuMasterFramer({ baud: BAUD, maxFrameLength: 64 });
    expect(() => framer.expect(0, READ10)).toThrow(ProtocolError);
    expect(() => framer.expect(248, READ10)).toThrow(ProtocolError);
    expect(() => framer.expect(1, { fc: 3, address: 0, quantity: 126 })).toThrow(ProtocolError);
    expect(() => framer.expect(1, { fc: 3, address: 0, quantity: 30 })).toThrow(/maxFrameLength/);
    framer.expect(1, { fc: 3, address: 0, quantity: 29 });
  });

  it('checks its options', () => {
    expect(() => new RtuMasterFramer({ baud: 0 })).toThrow(ProtocolError);
    expect(() => new RtuMasterFramer({ baud: BAUD, gapMs: -1 })).toThrow(ProtocolError);
    expect(() => new RtuMasterFramer({ baud: BAUD, gapMs: Number.NaN })).toThrow(ProtocolError);
    expect(() => new RtuMasterFramer({ baud: BAUD, maxFrameLength: 257 })).toThrow(ProtocolError);
    expect(() => new RtuMasterFramer({ baud: BAUD, maxFrameLength: 7 })).toThrow(ProtocolError);
  });

  it('returns frames that share nothing with the chunk', () => {
    const framer = new RtuMasterFramer({ baud: BAUD });
    framer.expect(1, READ10);
    const chunk = RESPONSE10.slice();
    const [frame] = framer.feed(chunk, 1);
    chunk.fill(0);
    expect(frame).toEqual(RESPONSES[0]!.frame);
  });
});
