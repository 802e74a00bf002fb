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
  expectedResponseLength,
  requestLength,
} from './index.ts';
import { bytesOf, REQUEST_OF_RESPONSE, REQUESTS, RESPONSES, withCrc } from './test-vectors.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** The ProtocolError `fn` throws (fails the test when it does not throw one). */
function thrown(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError);
    return err as ProtocolError;
  }
  throw new Error('expected a ProtocolError');
}

describe('RTU request vectors', () => {
  it.each(REQUESTS)('$name: decode(bytes) = frame', (v) => {
    expect(decodeRequest(bytesOf(v))).toEqual(v.frame);
    expect(decodeRequestPdu(bytesOf(v).subarray(1, -2))).toEqual(v.frame.pdu);
  });
  it.each(REQUESTS)('$name: encode(frame) = bytes', (v) => {
    expect(hex(encodeRequest(v.frame.unit, v.frame.pdu))).toBe(hex(bytesOf(v)));
    expect(hex(encodeRequestPdu(v.frame.pdu))).toBe(hex(bytesOf(v).subarray(1, -2)));
  });
  it.each(REQUESTS)('$name: requestLength from the first bytes', (v) => {
    const bytes = bytesOf(v);
    const known = bytes[1] === 0x10 ? 7 : bytes[1] === 0x17 ? 11 : 2;
    for (let n = 0; n <= bytes.length; n++) {
      expect(requestLength(bytes.subarray(0, n))).toBe(n < known ? undefined : bytes.length);
    }
  });
});

describe('RTU response vectors', () => {
  it.each(RESPONSES)('$name: decode(bytes) = frame', (v) => {
    expect(decodeResponse(bytesOf(v))).toEqual(v.frame);
    expect(decodeResponsePdu(bytesOf(v).subarray(1, -2))).toEqual(v.frame.pdu);
  });
  it.each(RESPONSES)('$name: encode(frame) = bytes', (v) => {
    expect(hex(encodeResponse(v.frame.unit, v.frame.pdu))).toBe(hex(bytesOf(v)));
    expect(hex(encodeResponsePdu(v.frame.pdu))).toBe(hex(bytesOf(v).subarray(1, -2)));
  });
  it.each(RESPONSES.map((v, i) => ({ ...v, req: REQUEST_OF_RESPONSE[i]! })))(
    '$name: expectedResponseLength of its request',
    (v) => {
      const exception = 'exception' in v.frame.pdu;
      expect(exception ? 5 : expectedResponseLength(v.req.pdu)).toBe(v.bytes.length);
    },
  );
});

describe('RTU ADU checks', () => {
  const design = bytesOf(REQUESTS[0]!);

  it('rejects a CRC that does not check (MODBUS_CRC)', () => {
    for (let i = 0; i < design.length; i++) {
      const bad = design.slice();
      bad[i]! ^= 0x01;
      expect(thrown(() => decodeRequest(bad)).code).toBe('MODBUS_CRC');
    }
    const res = bytesOf(RESPONSES[0]!);
    res[res.length - 1]! ^= 0x80;
    expect(thrown(() => decodeResponse(res)).code).toBe('MODBUS_CRC');
  });

  it('rejects frames over 256 bytes (FRAME_TOO_LONG) and under 4 (MODBUS_BAD_FRAME)', () => {
    expect(thrown(() => decodeRequest(new Uint8Array(257))).code).toBe('FRAME_TOO_LONG');
    expect(thrown(() => decodeResponse(new Uint8Array(300))).code).toBe('FRAME_TOO_LONG');
    expect(thrown(() => decodeRequest(Uint8Array.of(1, 3, 0))).code).toBe('MODBUS_BAD_FRAME');
    expect(thrown(() => decodeResponse(new Uint8Array(0))).code).toBe('MODBUS_BAD_FRAME');
  });

  it('rejects reserved units and responses from unit 0 (serial line §2.2)', () => {
    expect(thrown(() => decodeRequest(withCrc([248, 3, 0, 0, 0, 1]))).code).toBe(
      'MODBUS_BAD_FRAME',
    );
    expect(thrown(() => decodeResponse(withCrc([0, 3, 2, 0, 1]))).code).toBe('MODBUS_BAD_FRAME');
    expect(thrown(() => decodeResponse(withCrc([250, 3, 2, 0, 1]))).code).toBe('MODBUS_BAD_FRAME');
  });

  it('checks the unit on encode', () => {
    const req = { fc: 0x03, address: 0, quantity: 1 } as const;
    expect(thrown(() => encodeRequest(248, req)).code).toBe('MODBUS_BAD_REQUEST');
    expect(thrown(() => encodeRequest(-1, req)).code).toBe('MODBUS_BAD_REQUEST');
    expect(thrown(() => encodeRequest(1.5, req)).code).toBe('MODBUS_BAD_REQUEST');
    expect(encodeRequest(0, req)[0]).toBe(0);
    expect(encodeRequest(247, req)[0]).toBe(247);
    const res = { fc: 0x06, address: 0, value: 0 } as const;
    expect(thrown(() => encodeResponse(0, res)).code).toBe('VALUE_OUT_OF_RANGE');
    expect(thrown(() => encodeResponse(248, res)).code).toBe('VALUE_OUT_OF_RANGE');
  });

  it('requestLength is undefined for unknown function codes', () => {
    expect(requestLength(Uint8Array.of(1, 0x2b, 0x0e))).toBeUndefined();
    expect(requestLength(Uint8Array.of(1, 0x83))).toBeUndefined();
    expect(requestLength(Uint8Array.of(1, 0x10, 0, 0, 0, 1, 2))).toBe(11);
    expect(requestLength(Uint8Array.of(1, 0x17, 0, 0, 0, 1, 0, 0, 0, 1, 2))).toBe(15);
  });

  it('encodes the largest frames within 256 bytes', () => {
    const read = encodeResponse(1, { fc: 3, values: new Array(125).fill(0xffff) });
    expect(read.length).toBe(255);
    const write = encodeRequest(1, { fc: 0x10, address: 0, values: new Array(123).fill(1) });
    expect(write.length).toBe(255);
    const rw = encodeRequest(1, {
      fc: 0x17,
      readAddress: 0,
      readQuantity: 125,
      writeAddress: 0,
      values: new Array(121).fill(1),
    });
    expect(rw.length).toBe(255);
    expect(decodeRequest(rw).pdu).toMatchObject({ readQuantity: 125 });
  });
});
