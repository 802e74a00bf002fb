import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../errors.ts';
import { decodePacket, type StatusPacket } from './packet.ts';
import { encodePingStatus, parsePingStatus, parseReadStatus } from './replies.ts';
import { decodeStatusError, StatusErrorNumber, statusToError } from './status-error.ts';
import { bytesOf, STATUS_VECTORS } from './test-vectors.ts';

const status = (error: number, params: number[] = [], id = 1): StatusPacket => ({
  id,
  error,
  params: Uint8Array.from(params),
});

describe('decodeStatusError (e-manual §Status Packet §Error)', () => {
  it.each([
    [0x00, false, 0, null],
    [0x01, false, 1, 'RESULT_FAIL'],
    [0x02, false, 2, 'INSTRUCTION_ERROR'],
    [0x03, false, 3, 'CRC_ERROR'],
    [0x04, false, 4, 'DATA_RANGE_ERROR'],
    [0x05, false, 5, 'DATA_LENGTH_ERROR'],
    [0x06, false, 6, 'DATA_LIMIT_ERROR'],
    [0x07, false, 7, 'ACCESS_ERROR'],
    [0x80, true, 0, null],
    [0x84, true, 4, 'DATA_RANGE_ERROR'],
    [0x08, false, 8, null],
    [0xff, true, 0x7f, null],
  ] as const)('0x%s', (byte, alert, code, name) => {
    const e = decodeStatusError(byte);
    expect(e).toMatchObject({ alert, code, name });
    expect(e.message.length).toBeGreaterThan(0);
    if (name !== null) expect(StatusErrorNumber[name]).toBe(code);
  });

  it('messages say what happened', () => {
    expect(decodeStatusError(0).message).toBe('no error');
    expect(decodeStatusError(0x80).message).toMatch(/Hardware Error Status/);
    expect(decodeStatusError(0x87).message).toMatch(/access error.*hardware alert/);
    expect(decodeStatusError(0x09).message).toBe('unknown error number 9');
  });
});

describe('statusToError', () => {
  it('is undefined for error byte 0', () => {
    expect(statusToError(status(0))).toBeUndefined();
  });

  it('gives DXL_STATUS_ERROR with the error number as wireCode', () => {
    const err = statusToError(status(0x07, [], 3))!;
    expect(err).toBeInstanceOf(ProtocolError);
    expect(err.code).toBe('DXL_STATUS_ERROR');
    expect(err.wireCode).toBe(7);
    expect(err.message).toMatch(/device 3: access error/);
  });

  it('prefers the error number when the alert bit is set too', () => {
    const err = statusToError(status(0x84))!;
    expect(err.code).toBe('DXL_STATUS_ERROR');
    expect(err.wireCode).toBe(4);
    expect(err.message).toMatch(/hardware alert/);
  });

  it('gives DXL_HARDWARE_ALERT for the alert bit alone', () => {
    const v = STATUS_VECTORS.find((x) => x.name.includes('alert bit only'))!;
    const p = decodePacket(bytesOf(v.wire));
    if (p.kind !== 'status') throw new Error('not a status');
    const err = statusToError(p)!;
    expect(err.code).toBe('DXL_HARDWARE_ALERT');
    expect(err.wireCode).toBe(0x80);
  });
});

describe('ping and read status', () => {
  it('parsePingStatus reads the e-manual ping status (XM430-W210: 1030, firmware 38)', () => {
    const v = STATUS_VECTORS.find((x) => x.name.startsWith('e-manual §Ping: status of ID 1'))!;
    const p = decodePacket(bytesOf(v.wire));
    if (p.kind !== 'status') throw new Error('not a status');
    expect(parsePingStatus(p)).toEqual({ modelNumber: 1030, firmwareVersion: 38 });
    expect(encodePingStatus(1, 1030, 38)).toEqual(bytesOf(v.wire));
  });

  it('parsePingStatus rejects other lengths', () => {
    expect(() => parsePingStatus(status(0, [6, 4]))).toThrow(/3/);
  });

  it('encodePingStatus checks its arguments', () => {
    expect(() => encodePingStatus(0xfe, 1030, 38)).toThrow(ProtocolError);
    expect(() => encodePingStatus(1, 0x10000, 38)).toThrow(ProtocolError);
    expect(() => encodePingStatus(1, 1030, 256)).toThrow(ProtocolError);
  });

  it('parseReadStatus returns the data, or the status error', () => {
    expect(parseReadStatus(status(0, [0xa6, 0, 0, 0]), 4)).toEqual(Uint8Array.of(0xa6, 0, 0, 0));
    expect(parseReadStatus(status(0x80, [0x24]), 1)).toEqual(Uint8Array.of(0x24));
    try {
      parseReadStatus(status(0x07), 4);
      expect.fail('no throw');
    } catch (err) {
      expect((err as ProtocolError).code).toBe('DXL_STATUS_ERROR');
    }
    try {
      parseReadStatus(status(0, [1, 2]), 4);
      expect.fail('no throw');
    } catch (err) {
      expect((err as ProtocolError).code).toBe('DXL_BAD_PACKET');
    }
  });
});
