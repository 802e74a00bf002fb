import { describe, expect, it } from 'vitest';
import type { ProtocolError } from '../errors.ts';
import {
  encodeRequest,
  encodeResponse,
  isRejectedRequest,
  type RtuFrame,
  RtuSlaveFramer,
  type SlaveRequest,
} from './index.ts';
import { bytesOf, REQUESTS, withCrc } from './test-vectors.ts';

const BAUD = 19200;
const CHAR_MS = 10_000 / BAUD; // 0.52 ms; t3.5 = 1.82 ms

/** Feeds `chunks` back to back (no silence between), then polls after a silence. */
function feedAll(framer: RtuSlaveFramer, chunks: Uint8Array[], t0 = 1000) {
  const frames: RtuFrame<SlaveRequest>[] = [];
  let t = t0;
  for (const c of chunks) {
    t += c.length * CHAR_MS;
    frames.push(...framer.feed(c, t));
  }
  frames.push(...framer.poll(t + 10));
  return frames;
}

const cat = (...parts: ArrayLike<number>[]) => Uint8Array.from(parts.flatMap((p) => Array.from(p)));
const READ = encodeRequest(1, { fc: 3, address: 0, quantity: 2 });
const READ_FRAME = { unit: 1, pdu: { fc: 3, address: 0, quantity: 2 } };

describe('RtuSlaveFramer: every request vector', () => {
  it.each(REQUESTS)('$name: whole, split at every byte, byte by byte', (v) => {
    const bytes = bytesOf(v);
    const framer = new RtuSlaveFramer({ baud: BAUD });
    const splits = [[bytes]];
    for (let i = 1; i < bytes.length; i++) splits.push([bytes.subarray(0, i), bytes.subarray(i)]);
    splits.push(Array.from(bytes, (b) => Uint8Array.of(b)));
    splits.forEach((chunks, i) => {
      expect(feedAll(framer, chunks, 1000 + 100 * i)).toEqual([v.frame]);
    });
    // each repeat came after a silence, so the repeats are requests, not responses
    expect(framer.stats).toEqual({
      frames: splits.length,
      discardedBytes: 0,
      discarded: {},
      responses: 0,
    });
  });

  it('returns a request as soon as it is complete, before any silence', () => {
    const framer = new RtuSlaveFramer({ baud: BAUD });
    expect(framer.feed(READ, 1)).toEqual([READ_FRAME]);
  });
});

describe('RtuSlaveFramer: a shared bus', () => {
  it('skips the responses that follow requests; a 0x06 response reads as a repeat', () => {
    const framer = new RtuSlaveFramer({ baud: BAUD });
    const write = encodeRequest(2, { fc: 6, address: 5, value: 9 });
    const conversation = [
      READ,
      encodeResponse(1, { fc: 3, values: [0x0106, 0x0004] }),
      write,
      encodeResponse(2, { fc: 6, address: 5, value: 9 }), // byte-identical to the request
      encodeRequest(3, { fc: 0x10, address: 1, values: [1] }),
      encodeResponse(3, { fc: 0x10, exception: 4 }),
    ];
    expect(feedAll(framer, conversation).map((f) => f.unit)).toEqual([1, 2, 2, 3]);
    expect(framer.stats).toMatchObject({ frames: 4, discardedBytes: 0, responses: 2 });
  });

  it('takes a repeated identical write to the same unit every time', () => {
    const framer = new RtuSlaveFramer({ baud: BAUD });
    const write = encodeRequest(2, { fc: 6, address: 0x6040, value: 0x0f });
    const out = [framer.feed(write, 10), framer.feed(write, 20), framer.feed(write, 30)].flat();
    expect(out).toHaveLength(3);
  });

  it('skips a response whose request it did not see', () => {
    const framer = new RtuSlaveFramer({ baud: BAUD });
    const response = encodeResponse(7, { fc: 4, values: [0x0103, 0x0000, 0x0008] });
    expect(feedAll(framer, [response, READ])).toEqual([READ_FRAME]);
    expect(framer.stats).toMatchObject({ discardedBytes: 0, responses: 1 });
  });

  it('takes two broadcasts in a row as two requests', () => {
    const framer = new RtuSlaveFramer({ baud: BAUD });
    const broadcast = bytesOf(REQUESTS[4]!);
    expect(feedAll(framer, [broadcast, broadcast])).toEqual([
      REQUESTS[4]!.frame,
      REQUESTS[4]!.frame,
    ]);
  });

  it('takes a request even when the awaited response never came', () => {
    const framer = new RtuSlaveFramer({ baud: BAUD });
    const next = encodeRequest(1, { fc: 3, address: 0x0a00, quantity: 5 }); // byte 2 = 0x0A
    const out = feedAll(framer, [encodeRequest(1, { fc: 3, address: 0, quantity: 5 }), next]);
    expect(out.map((f) => f.pdu)).toEqual([
      { fc: 3, address: 0, quantity: 5 },
      { fc: 3, address: 0x0a00, quantity: 5 },
    ]);
  });
});

describe('RtuSlaveFramer: requests it cannot serve', () => {
  const mei = withCrc([0x05, 0x2b, 0x0e, 0x01, 0x00]); // §6.21 read device identification

  it('delimits an unknown function code by silence: exception 01', () => {
    const framer = new RtuSlaveFramer({ baud: BAUD });
    expect(framer.feed(mei, 100)).toEqual([]);
    expect(framer.poll(100 + 1.5)).toEqual([]); // not yet 3.5 characters
    const [frame, ...more] = framer.poll(100 + 2);
    expect(more).toEqual([]);
    expect(frame?.unit).toBe(5);
    const pdu = frame!.pdu;
    expect(isRejectedRequest(pdu)).toBe(true);
    expect(pdu).toMatchObject({ fc: 0x2b, exception: 1 });
    expect((pdu as { error: ProtocolError }).error.code).toBe('MODBUS_ILLEGAL_FUNCTION');
    // the slave's exception answer is skipped, the next request is taken
    const answer = encodeResponse(5, { fc: 0x2b, exception: 1 });
    expect(feedAll(framer, [answer, READ], 200)).toEqual([READ_FRAME]);
    expect(framer.stats.responses).toBe(1);
  });

  it('a chunk after a silence also ends the unknown frame', () => {
    const framer = new RtuSlaveFramer({ baud: BAUD });
    framer.feed(mei, 100);
    const out = framer.feed(READ, 200);
    expect(out.map((f) => f.pdu)).toEqual([
      expect.objectContaining({ exception: 1 }),
      READ_FRAME.pdu,
    ]);
  });

  it('returns a normal answer to an unknown function code as a request of that unit', () => {
    const framer = new RtuSlaveFramer({ baud: BAUD });
    feedAll(framer, [mei]);
    const answer = withCrc([
      0x05, 0x2b, 0x0e, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x03, 65, 66, 67,
    ]);
    const out = feedAll(framer, [answer], 2000);
    expect(out.map((f) => [f.unit, f.pdu])).toEqual([
      [5, expect.objectContaining({ exception: 1 })],
    ]);
    expect(framer.stats).toMatchObject({ frames: 2, responses: 0, discardedBytes: 0 });
  });

  it('answers a known function with bad data with exception 03 or 02 at once', () => {
    const framer = new RtuSlaveFramer({ baud: BAUD });
    const zero = withCrc([1, 3, 0, 0, 0, 0]);
    const past = withCrc([1, 3, 0xff, 0xff, 0, 2]);
    const count = withCrc([1, 0x10, 0, 0, 0, 2, 2, 0, 1]);
    const out = [framer.feed(zero, 1), framer.feed(past, 2), framer.feed(count, 3)].flat();
    expect(out.map((f) => f.pdu)).toEqual([
      expect.objectContaining({ fc: 3, exception: 3 }),
      expect.objectContaining({ fc: 3, exception: 2 }),
      expect.objectContaining({ fc: 0x10, exception: 3 }),
    ]);
    expect(out.every((f) => isRejectedRequest(f.pdu))).toBe(true);
  });
});

describe('RtuSlaveFramer: garbage, CRC errors, silence', () => {
  it('drops reserved units and garbage before a request', () => {
    const framer = new RtuSlaveFramer({ baud: BAUD });
    expect(framer.feed(cat([0xff, 0xf8], READ), 1)).toEqual([READ_FRAME]);
    expect(framer.stats.discarded).toEqual({ MODBUS_GARBAGE: 1 });
  });

  it('finds a request behind garbage at the silence', () => {
    const framer = new RtuSlaveFramer({ baud: BAUD });
    expect(framer.feed(cat([0x00, 0x01], READ), 1)).toEqual([]);
    expect(framer.poll(20)).toEqual([READ_FRAME]);
    expect(framer.stats).toMatchObject({ discardedBytes: 2, discarded: { MODBUS_GARBAGE: 1 } });
  });

  it('counts a CRC error and resynchronises on the next request', () => {
    const framer = new RtuSlaveFramer({ baud: BAUD, gapMs: null });
    const bad = READ.slice();
    bad[4]! ^= 0x10;
    expect(framer.feed(cat(bad, READ), 1)).toEqual([READ_FRAME]);
    expect(framer.stats.discarded).toEqual({ MODBUS_CRC: 1 });
    expect(framer.stats.discardedBytes).toBe(8);
  });

  it('drops a partial request at the silence (MODBUS_TRUNCATED)', () => {
    const framer = new RtuSlaveFramer({ baud: BAUD });
    expect(framer.feed(READ.subarray(0, 5), 1)).toEqual([]);
    expect(framer.feed(READ.subarray(5), 1 + 3 * CHAR_MS + 2)).toEqual([]);
    expect(framer.poll(100)).toEqual([]);
    expect(framer.stats.discarded).toEqual({ MODBUS_TRUNCATED: 2 });
    expect(framer.stats.discardedBytes).toBe(8);
    expect(framer.feed(READ, 200)).toEqual([READ_FRAME]);
  });

  it('drops frames longer than maxFrameLength (FRAME_TOO_LONG)', () => {
    const framer = new RtuSlaveFramer({ baud: BAUD, gapMs: null });
    const huge = [1, 0x10, 0, 0, 0, 125, 250, ...new Array(250).fill(0)];
    expect(framer.feed(cat(huge, READ), 1)).toEqual([READ_FRAME]);
    expect(framer.stats.discarded).toEqual({ FRAME_TOO_LONG: 1 });
    const small = new RtuSlaveFramer({ baud: BAUD, maxFrameLength: 16 });
    const noise = cat(new Array(40).fill(0x2b), READ); // an unknown function waits for silence
    expect(feedAll(small, [noise])).toEqual([READ_FRAME]);
    expect(small.stats.discarded).toEqual({ FRAME_TOO_LONG: 1 });
  });

  it('without the silence rule, unknown function codes are garbage', () => {
    const framer = new RtuSlaveFramer({ baud: BAUD, gapMs: null });
    const mei = withCrc([0x05, 0x2b, 0x0e, 0x01, 0x00]);
    expect(framer.feed(cat(mei, READ), 1)).toEqual([READ_FRAME]);
    expect(framer.poll(1e9)).toEqual([]);
    expect(framer.stats.discarded).toEqual({ MODBUS_GARBAGE: 1 });
  });

  it('returns requests sharing nothing with the chunk', () => {
    const framer = new RtuSlaveFramer({ baud: BAUD });
    const chunk = encodeRequest(1, { fc: 0x10, address: 0, values: [1, 2] });
    const [frame] = framer.feed(chunk, 1);
    chunk.fill(0);
    expect(frame).toEqual({ unit: 1, pdu: { fc: 0x10, address: 0, values: [1, 2] } });
  });
});
