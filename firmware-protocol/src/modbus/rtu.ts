/**
 * Modbus RTU ADUs: `[unit][PDU][CRC lo][CRC hi]` (Modbus over serial line V1.02 §2.5.1),
 * at most 256 bytes, CRC-16/MODBUS low byte first (§2.5.1.2, §6.2.2).
 */
import { crc16Modbus } from '../crc/crc16-modbus.ts';
import { ProtocolError } from '../errors.ts';
import { MAX_RTU_ADU_LENGTH, MAX_UNIT } from './function-codes.ts';
import { checkUnit } from './limits.ts';
import type { ModbusRequest, ModbusResponse, RtuFrame } from './messages.ts';
import { decodeRequestAt, validateRequest, writeRequestPdu } from './request-pdu.ts';
import { decodeResponseAt, validateResponse, writeResponsePdu } from './response-pdu.ts';

/** Smallest ADU: unit, function code, two CRC bytes. */
const MIN_ADU = 4;

/**
 * The RTU ADU of a request: unit 0..247 (0 = broadcast, §2.2) + PDU + CRC. Throws
 * `MODBUS_BAD_REQUEST` / `VALUE_OUT_OF_RANGE` for anything outside the protocol limits.
 * A new array.
 */
export function encodeRequest(unit: number, req: ModbusRequest): Uint8Array {
  checkUnit(unit, 0, 'MODBUS_BAD_REQUEST');
  const pduLength = validateRequest(req);
  const out = new Uint8Array(pduLength + 3);
  out[0] = unit;
  writeRequestPdu(req, out, 1);
  writeCrc(out, pduLength + 1);
  return out;
}

/** The RTU ADU of a response: unit 1..247 (a broadcast is never answered, §2.1). A new array. */
export function encodeResponse(unit: number, res: ModbusResponse): Uint8Array {
  checkUnit(unit, 1, 'VALUE_OUT_OF_RANGE');
  const pduLength = validateResponse(res);
  const out = new Uint8Array(pduLength + 3);
  out[0] = unit;
  writeResponsePdu(res, out, 1);
  writeCrc(out, pduLength + 1);
  return out;
}

/**
 * Decodes one whole request ADU: `FRAME_TOO_LONG` past 256 bytes, `MODBUS_BAD_FRAME` when
 * shorter than 4 bytes or addressed to a reserved unit (248–255), `MODBUS_CRC`, then the
 * errors of `decodeRequestPdu`. The frame shares no memory with `adu`.
 */
export function decodeRequest(adu: Uint8Array): RtuFrame<ModbusRequest> {
  checkAdu(adu, 'request');
  const unit = adu[0]!;
  // Modbus over serial line V1.02 §2.2: 248–255 are reserved
  if (unit > MAX_UNIT)
    throw new ProtocolError('MODBUS_BAD_FRAME', `request to reserved unit ${unit}`);
  return { unit, pdu: decodeRequestAt(adu, 1, adu.length - 2) };
}

/** Decodes one whole response ADU; like `decodeRequest`, and the unit must be 1..247. */
export function decodeResponse(adu: Uint8Array): RtuFrame<ModbusResponse> {
  checkAdu(adu, 'response');
  const unit = adu[0]!;
  // §2.2: only slaves 1..247 answer
  if (unit === 0 || unit > MAX_UNIT) {
    throw new ProtocolError('MODBUS_BAD_FRAME', `response from unit ${unit}`);
  }
  return { unit, pdu: decodeResponseAt(adu, 1, adu.length - 2) };
}

/** Bytes of the normal RTU response ADU to `req`; an exception response is always 5. */
export function expectedResponseLength(req: ModbusRequest): number {
  switch (req.fc) {
    case 0x03:
    case 0x04:
      return 5 + 2 * req.quantity; // unit, fc, byte count, N words, CRC
    case 0x17:
      return 5 + 2 * req.readQuantity;
    default:
      return 8; // 0x06, 0x10: unit, fc, address, value or quantity, CRC
  }
}

/**
 * The length of the RTU request ADU starting with `firstBytes`, when its function code
 * determines it: 03/04/06 → 8, 0x10 → 9 + byte count (known from 7 bytes), 0x17 →
 * 13 + byte count (known from 11 bytes). `undefined` when not yet known or the function
 * code is not one of these.
 */
export function requestLength(firstBytes: Uint8Array): number | undefined {
  const n = requestLengthAt(firstBytes, 0, firstBytes.length);
  return n > 0 ? n : undefined;
}

/**
 * `requestLength` for `b[h, h + avail)`: the length, 0 when more bytes are needed, -1 for a
 * function code without a known request layout.
 */
export function requestLengthAt(b: Uint8Array, h: number, avail: number): number {
  if (avail < 2) return 0;
  switch (b[h + 1]) {
    case 0x03:
    case 0x04:
    case 0x06:
      return 8;
    case 0x10:
      return avail < 7 ? 0 : 9 + b[h + 6]!; // §6.12: byte count at PDU offset 5
    case 0x17:
      return avail < 11 ? 0 : 13 + b[h + 10]!; // §6.17: byte count at PDU offset 9
    default:
      return -1;
  }
}

/**
 * The length of a plausible response ADU at `b[h]` whatever request it answers: 5 for an
 * exception, 5 + byte count for 03/04/0x17, 8 for 06/0x10. 0 when more bytes are needed,
 * -1 when no response starts like this (unit 0 or reserved, unknown function, odd count).
 */
export function responseLengthAt(b: Uint8Array, h: number, avail: number): number {
  const unit = b[h]!;
  if (unit === 0 || unit > MAX_UNIT) return -1;
  if (avail < 2) return 0;
  const fc = b[h + 1]!;
  if (fc & 0x80) return 5;
  switch (fc) {
    case 0x03:
    case 0x04:
    case 0x17: {
      if (avail < 3) return 0;
      const byteCount = b[h + 2]!;
      return byteCount === 0 || byteCount & 1 || byteCount > 250 ? -1 : 5 + byteCount;
    }
    case 0x06:
    case 0x10:
      return 8;
    default:
      return -1;
  }
}

/** Modbus over serial line V1.02 §2.5.1.2: the last two bytes of `b[h, h + len)` are its CRC. */
export function crcOkAt(b: Uint8Array, h: number, len: number): boolean {
  const end = h + len - 2;
  return crc16Modbus(b, h, end) === (b[end]! | (b[end + 1]! << 8));
}

function writeCrc(out: Uint8Array, end: number): void {
  const crc = crc16Modbus(out, 0, end);
  out[end] = crc & 0xff; // §6.2.2: low byte first
  out[end + 1] = crc >>> 8;
}

function checkAdu(adu: Uint8Array, what: string): void {
  // Modbus over serial line V1.02 §2.5.1: at most 256 bytes
  if (adu.length > MAX_RTU_ADU_LENGTH) {
    throw new ProtocolError('FRAME_TOO_LONG', `a ${adu.length}-byte RTU ${what} (max 256)`);
  }
  if (adu.length < MIN_ADU) {
    throw new ProtocolError('MODBUS_BAD_FRAME', `a ${adu.length}-byte RTU ${what} (min 4)`);
  }
  if (!crcOkAt(adu, 0, adu.length)) {
    throw new ProtocolError('MODBUS_CRC', `RTU ${what} CRC does not check`);
  }
}
