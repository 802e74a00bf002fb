import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../errors.ts';
import {
  decodeRequestPdu,
  decodeResponsePdu,
  ExceptionCode,
  encodeRequestPdu,
  encodeResponsePdu,
  exceptionName,
  isExceptionResponse,
  type ModbusRequest,
  type ModbusResponse,
  responseToError,
} from './index.ts';

function thrown(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError);
    return err as ProtocolError;
  }
  throw new Error('expected a ProtocolError');
}

const words = (n: number) => Array.from({ length: n }, (_, i) => i);
const pdu = (...bytes: number[]) => Uint8Array.from(bytes);

describe('request limits (Modbus Application Protocol V1.1b3 §6)', () => {
  const ok: ModbusRequest[] = [
    { fc: 0x03, address: 0, quantity: 125 },
    { fc: 0x04, address: 0xffff, quantity: 1 },
    { fc: 0x03, address: 0xff83, quantity: 125 },
    { fc: 0x06, address: 0xffff, value: 0xffff },
    { fc: 0x10, address: 0, values: words(123) },
    { fc: 0x17, readAddress: 0, readQuantity: 125, writeAddress: 0xff87, values: words(121) },
  ];
  it.each(ok)('accepts the edge %j', (req) => {
    expect(decodeRequestPdu(encodeRequestPdu(req))).toEqual(req);
  });

  const bad: [string, ModbusRequest, string, number | undefined][] = [
    ['126-register read', { fc: 0x03, address: 0, quantity: 126 }, 'MODBUS_BAD_REQUEST', 3],
    ['0-register read', { fc: 0x04, address: 0, quantity: 0 }, 'MODBUS_BAD_REQUEST', 3],
    ['read past 0xFFFF', { fc: 0x03, address: 0xffff, quantity: 2 }, 'MODBUS_BAD_REQUEST', 2],
    ['negative address', { fc: 0x03, address: -1, quantity: 1 }, 'MODBUS_BAD_REQUEST', 2],
    ['address 0x10000', { fc: 0x06, address: 0x10000, value: 1 }, 'MODBUS_BAD_REQUEST', 2],
    ['fractional quantity', { fc: 0x03, address: 0, quantity: 1.5 }, 'MODBUS_BAD_REQUEST', 3],
    ['value 0x10000', { fc: 0x06, address: 0, value: 0x10000 }, 'VALUE_OUT_OF_RANGE', 3],
    ['negative value', { fc: 0x10, address: 0, values: [1, -1] }, 'VALUE_OUT_OF_RANGE', 3],
    ['124-register write', { fc: 0x10, address: 0, values: words(124) }, 'MODBUS_BAD_REQUEST', 3],
    ['empty write', { fc: 0x10, address: 0, values: [] }, 'MODBUS_BAD_REQUEST', 3],
    ['write past 0xFFFF', { fc: 0x10, address: 0xffff, values: [1, 2] }, 'MODBUS_BAD_REQUEST', 2],
    [
      '0x17 writing 122 registers',
      { fc: 0x17, readAddress: 0, readQuantity: 1, writeAddress: 0, values: words(122) },
      'MODBUS_BAD_REQUEST',
      3,
    ],
    [
      '0x17 reading 126 registers',
      { fc: 0x17, readAddress: 0, readQuantity: 126, writeAddress: 0, values: [1] },
      'MODBUS_BAD_REQUEST',
      3,
    ],
    [
      '0x17 read past 0xFFFF',
      { fc: 0x17, readAddress: 0xfff0, readQuantity: 17, writeAddress: 0, values: [1] },
      'MODBUS_BAD_REQUEST',
      2,
    ],
    [
      '0x17 write address too big',
      { fc: 0x17, readAddress: 0, readQuantity: 1, writeAddress: 0x10000, values: [1] },
      'MODBUS_BAD_REQUEST',
      2,
    ],
    [
      'values that are not an array',
      { fc: 0x10, address: 0, values: 'ab' as unknown as number[] },
      'MODBUS_BAD_REQUEST',
      3,
    ],
    [
      'function 0x05',
      { fc: 0x05, address: 0 } as unknown as ModbusRequest,
      'MODBUS_ILLEGAL_FUNCTION',
      1,
    ],
  ];
  it.each(bad)('rejects a %s', (_name, req, code, wireCode) => {
    const err = thrown(() => encodeRequestPdu(req));
    expect([err.code, err.wireCode]).toEqual([code, wireCode]);
  });
});

describe('decodeRequestPdu errors carry the exception a slave answers', () => {
  const cases: [string, Uint8Array, string, number][] = [
    ['an empty PDU', pdu(), 'MODBUS_BAD_FRAME', 3],
    ['function 0x01', pdu(0x01, 0, 0, 0, 1), 'MODBUS_ILLEGAL_FUNCTION', 1],
    ['function 0x83', pdu(0x83, 0x02), 'MODBUS_ILLEGAL_FUNCTION', 1],
    ['a short 0x03', pdu(0x03, 0, 0, 0), 'MODBUS_BAD_FRAME', 3],
    ['a long 0x06', pdu(0x06, 0, 0, 0, 1, 0), 'MODBUS_BAD_FRAME', 3],
    ['a 0x03 for 0 registers', pdu(0x03, 0, 0, 0, 0), 'MODBUS_BAD_REQUEST', 3],
    ['a 0x04 for 126 registers', pdu(0x04, 0, 0, 0, 126), 'MODBUS_BAD_REQUEST', 3],
    ['a 0x03 past 0xFFFF', pdu(0x03, 0xff, 0xff, 0, 2), 'MODBUS_BAD_REQUEST', 2],
    ['a 0x10 shorter than its byte count', pdu(0x10, 0, 0, 0, 1, 2, 0), 'MODBUS_BAD_FRAME', 3],
    ['a 0x10 without byte count', pdu(0x10, 0, 0, 0, 1), 'MODBUS_BAD_FRAME', 3],
    [
      'a 0x10 with byte count ≠ 2 × quantity',
      pdu(0x10, 0, 0, 0, 2, 2, 0, 1),
      'MODBUS_BAD_REQUEST',
      3,
    ],
    ['a 0x10 for 124 registers', pdu(0x10, 0, 0, 0, 124, 0), 'MODBUS_BAD_REQUEST', 3],
    ['a 0x10 past 0xFFFF', pdu(0x10, 0xff, 0xff, 0, 2, 4, 0, 1, 0, 2), 'MODBUS_BAD_REQUEST', 2],
    ['a short 0x17', pdu(0x17, 0, 0, 0, 1, 0, 0, 0, 1), 'MODBUS_BAD_FRAME', 3],
    ['a 0x17 writing 122', pdu(0x17, 0, 0, 0, 1, 0, 0, 0, 122, 0), 'MODBUS_BAD_REQUEST', 3],
    [
      'a 0x17 with byte count ≠ 2 × N',
      pdu(0x17, 0, 0, 0, 1, 0, 0, 0, 1, 0),
      'MODBUS_BAD_REQUEST',
      3,
    ],
    [
      'a 0x17 write past 0xFFFF',
      pdu(0x17, 0, 0, 0, 1, 0xff, 0xff, 0, 2, 4, 0, 0, 0, 0),
      'MODBUS_BAD_REQUEST',
      2,
    ],
  ];
  it.each(cases)('%s', (_name, bytes, code, wireCode) => {
    const err = thrown(() => decodeRequestPdu(bytes));
    expect([err.code, err.wireCode]).toEqual([code, wireCode]);
  });
});

describe('response limits', () => {
  const bad: [string, ModbusResponse, string][] = [
    ['126 registers', { fc: 0x03, values: words(126) }, 'MODBUS_BAD_FRAME'],
    ['no registers', { fc: 0x17, values: [] }, 'MODBUS_BAD_FRAME'],
    ['register 0x10000', { fc: 0x04, values: [0x10000] }, 'VALUE_OUT_OF_RANGE'],
    ['0x06 address -1', { fc: 0x06, address: -1, value: 0 }, 'VALUE_OUT_OF_RANGE'],
    ['0x06 value 1.5', { fc: 0x06, address: 0, value: 1.5 }, 'VALUE_OUT_OF_RANGE'],
    ['0x10 quantity 124', { fc: 0x10, address: 0, quantity: 124 }, 'MODBUS_BAD_FRAME'],
    ['0x10 address 0x10000', { fc: 0x10, address: 0x10000, quantity: 1 }, 'VALUE_OUT_OF_RANGE'],
    ['exception for function 0', { fc: 0, exception: 1 }, 'VALUE_OUT_OF_RANGE'],
    ['exception for function 0x80', { fc: 0x80, exception: 1 }, 'VALUE_OUT_OF_RANGE'],
    ['exception code 0', { fc: 3, exception: 0 }, 'VALUE_OUT_OF_RANGE'],
    ['exception code 0x100', { fc: 3, exception: 0x100 }, 'VALUE_OUT_OF_RANGE'],
    [
      'function 0x05',
      { fc: 0x05, values: [1] } as unknown as ModbusResponse,
      'MODBUS_ILLEGAL_FUNCTION',
    ],
  ];
  it.each(bad)('rejects %s', (_name, res, code) => {
    expect(thrown(() => encodeResponsePdu(res)).code).toBe(code);
  });

  const malformed: [string, Uint8Array, string][] = [
    ['one byte', pdu(0x03), 'MODBUS_BAD_FRAME'],
    ['a long exception', pdu(0x83, 2, 0), 'MODBUS_BAD_FRAME'],
    ['byte count 0', pdu(0x03, 0), 'MODBUS_BAD_FRAME'],
    ['an odd byte count', pdu(0x04, 1, 0), 'MODBUS_BAD_FRAME'],
    ['byte count 252', pdu(0x17, 252, ...words(252)), 'MODBUS_BAD_FRAME'],
    ['fewer bytes than counted', pdu(0x03, 4, 0, 1, 0), 'MODBUS_BAD_FRAME'],
    ['a short 0x06', pdu(0x06, 0, 1, 0), 'MODBUS_BAD_FRAME'],
    ['a long 0x10', pdu(0x10, 0, 1, 0, 2, 0), 'MODBUS_BAD_FRAME'],
    ['function 0x01', pdu(0x01, 1, 1), 'MODBUS_ILLEGAL_FUNCTION'],
  ];
  it.each(malformed)('decodeResponsePdu rejects %s', (_name, bytes, code) => {
    expect(thrown(() => decodeResponsePdu(bytes)).code).toBe(code);
  });
});

describe('exceptions (Modbus Application Protocol V1.1b3 §7)', () => {
  it('names every exception code the spec defines', () => {
    expect(exceptionName(ExceptionCode.IllegalFunction)).toBe('IllegalFunction');
    expect(exceptionName(ExceptionCode.IllegalDataAddress)).toBe('IllegalDataAddress');
    expect(exceptionName(ExceptionCode.IllegalDataValue)).toBe('IllegalDataValue');
    expect(exceptionName(ExceptionCode.ServerDeviceFailure)).toBe('ServerDeviceFailure');
    expect(exceptionName(ExceptionCode.GatewayPathUnavailable)).toBe('GatewayPathUnavailable');
    expect(exceptionName(ExceptionCode.GatewayTargetFailedToRespond)).toBe(
      'GatewayTargetFailedToRespond',
    );
    expect(exceptionName(5)).toBe('Acknowledge');
    expect(exceptionName(0x42)).toBe('Exception 0x42');
  });

  it('responseToError gives MODBUS_EXCEPTION with the wire code', () => {
    const err = responseToError({ fc: 3, exception: 0x0b });
    expect(err).toBeInstanceOf(ProtocolError);
    expect([err?.code, err?.wireCode]).toEqual(['MODBUS_EXCEPTION', 0x0b]);
    expect(err?.message).toMatch(/GatewayTargetFailedToRespond.*0x03/);
    expect(responseToError({ fc: 3, values: [1] })).toBeUndefined();
  });

  it('isExceptionResponse tells exceptions from normal responses', () => {
    expect(isExceptionResponse({ fc: 0x10, exception: 2 })).toBe(true);
    expect(isExceptionResponse({ fc: 0x10, address: 0, quantity: 2 })).toBe(false);
  });

  it('decodes any exception code byte, keeping the original function code', () => {
    expect(decodeResponsePdu(pdu(0xab, 0x42))).toEqual({ fc: 0x2b, exception: 0x42 });
  });
});
