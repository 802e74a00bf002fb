// biome-ignore-all format: annotated byte tables keep one wire field per line
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../errors.ts';
import { decodeRequestPdu, decodeResponsePdu, encodeTcp, TcpFramer } from './index.ts';

/** Modbus Messaging on TCP/IP Implementation Guide V1.0b §3.1.3, with the §6.3 PDU. */
const REQUEST = [
  0x00, 0x01, // transaction id 1
  0x00, 0x00, // protocol id 0 = Modbus
  0x00, 0x06, // length: unit + 5 PDU bytes
  0x11, // unit id
  0x03, // fc: read holding registers
  0x00, 0x6b, // starting address
  0x00, 0x03, // quantity 3
];
const RESPONSE = [
  0xbe, 0xef, // transaction id 0xBEEF
  0x00, 0x00, // protocol id
  0x00, 0x09, // length: unit + 8 PDU bytes
  0xff, // unit id 0xFF: the server itself
  0x03, // fc
  0x06, // byte count
  0x02, 0x2b, 0x00, 0x00, 0x00, 0x64, // registers
];

describe('Modbus TCP (MBAP)', () => {
  it('decodes and encodes the request vector', () => {
    const framer = new TcpFramer();
    const [frame, ...more] = framer.feed(Uint8Array.from(REQUEST));
    expect(more).toEqual([]);
    expect(frame?.transactionId).toBe(1);
    expect(frame?.unit).toBe(0x11);
    expect(decodeRequestPdu(frame!.pdu)).toEqual({ fc: 3, address: 0x6b, quantity: 3 });
    expect(Array.from(encodeTcp(1, 0x11, frame!.pdu))).toEqual(REQUEST);
  });

  it('frames the response vector split at every byte and byte by byte', () => {
    const bytes = Uint8Array.from(RESPONSE);
    const framer = new TcpFramer();
    const splits = [[bytes]];
    for (let i = 1; i < bytes.length; i++) splits.push([bytes.subarray(0, i), bytes.subarray(i)]);
    splits.push(Array.from(bytes, (b) => Uint8Array.of(b)));
    for (const chunks of splits) {
      const frames = chunks.flatMap((c) => framer.feed(c));
      expect(frames.map((f) => [f.transactionId, f.unit, decodeResponsePdu(f.pdu)])).toEqual([
        [0xbeef, 0xff, { fc: 3, values: [0x022b, 0, 0x64] }],
      ]);
    }
    expect(framer.stats).toEqual({ frames: splits.length, discardedBytes: 0, discarded: {} });
  });

  it('returns every frame of a long stream, each pdu a copy', () => {
    const framer = new TcpFramer();
    const one = Uint8Array.from(REQUEST);
    const stream = new Uint8Array(one.length * 500);
    for (let i = 0; i < 500; i++) stream.set(one, i * one.length);
    const frames = framer.feed(stream);
    expect(frames).toHaveLength(500);
    frames[0]!.pdu[0] = 0x99;
    expect(frames[1]!.pdu[0]).toBe(0x03);
  });

  it('resynchronises after a bad protocol id or length (MBAP_BAD_HEADER)', () => {
    const framer = new TcpFramer();
    const badProtocol = [0, 2, 0, 1, 0, 6, 1, 3, 0, 0, 0, 1];
    const badLength = [0, 3, 0, 0, 0, 1, 1];
    const tooLong = [0, 4, 0, 0, 0, 255, 1];
    const garbage = Uint8Array.from([...badProtocol, ...badLength, ...tooLong, ...REQUEST]);
    const frames = framer.feed(garbage);
    expect(frames.map((f) => f.transactionId)).toEqual([1]);
    expect(framer.stats.discarded).toEqual({ MBAP_BAD_HEADER: 1 });
    expect(framer.stats.discardedBytes).toBe(garbage.length - REQUEST.length);
  });

  it('bounds what encodeTcp accepts', () => {
    const pdu = Uint8Array.of(3, 0, 0, 0, 1);
    expect(() => encodeTcp(0x10000, 1, pdu)).toThrow(ProtocolError);
    expect(() => encodeTcp(1, 256, pdu)).toThrow(ProtocolError);
    expect(() => encodeTcp(1, 1, new Uint8Array(0))).toThrow(ProtocolError);
    expect(() => encodeTcp(1, 1, new Uint8Array(254))).toThrow(/253/);
    expect(encodeTcp(1, 1, new Uint8Array(253))).toHaveLength(260);
  });
});
