/**
 * Response PDUs (Modbus Application Protocol V1.1b3 §6, §7). The encoder checks every
 * limit; the decoder checks the structure (length, byte count) and throws `ProtocolError`.
 */
import { ProtocolError } from '../errors.ts';
import { hex, MAX_READ_QUANTITY, MAX_WRITE_QUANTITY } from './function-codes.ts';
import { checkAddress, checkQuantity, checkValue, checkValues } from './limits.ts';
import type { ModbusResponse } from './messages.ts';
import { illegalFunction, readU16, readWords, writeU16, writeWords } from './request-pdu.ts';

/** Checks `res` against the protocol limits; returns the length of its PDU. */
export function validateResponse(res: ModbusResponse): number {
  if ('exception' in res) {
    // §7: exception function code = fc | 0x80, so fc is 1..0x7F; the code is one byte
    if (!Number.isInteger(res.fc) || res.fc < 1 || res.fc > 0x7f) {
      throw new ProtocolError('VALUE_OUT_OF_RANGE', `exception for function ${res.fc} (1..0x7F)`);
    }
    if (!Number.isInteger(res.exception) || res.exception < 1 || res.exception > 0xff) {
      throw new ProtocolError('VALUE_OUT_OF_RANGE', `exception code ${res.exception} (1..0xFF)`);
    }
    return 2;
  }
  switch (res.fc) {
    case 0x03:
    case 0x04:
    case 0x17:
      // §6.3 / §6.4 / §6.17: byte count = 2 × N, N ≤ 0x7D
      checkValues(res.values, MAX_READ_QUANTITY, 'values', 'MODBUS_BAD_FRAME');
      return 2 + 2 * res.values.length;
    case 0x06:
      // §6.6: the response echoes the request
      checkAddress(res.address, 'address', 'VALUE_OUT_OF_RANGE');
      checkValue(res.value, 'value');
      return 5;
    case 0x10:
      // §6.12: starting address and quantity of registers written (1..0x7B)
      checkAddress(res.address, 'address', 'VALUE_OUT_OF_RANGE');
      checkQuantity(res.quantity, MAX_WRITE_QUANTITY, 'quantity', 'MODBUS_BAD_FRAME');
      return 5;
    default:
      throw illegalFunction((res as { fc: unknown }).fc);
  }
}

/** Writes the PDU of an already validated response at `out[off]`. */
export function writeResponsePdu(res: ModbusResponse, out: Uint8Array, off: number): void {
  if ('exception' in res) {
    out[off] = res.fc | 0x80;
    out[off + 1] = res.exception;
    return;
  }
  out[off] = res.fc;
  switch (res.fc) {
    case 0x03:
    case 0x04:
    case 0x17:
      out[off + 1] = 2 * res.values.length;
      writeWords(out, off + 2, res.values);
      return;
    case 0x06:
      writeU16(out, off + 1, res.address);
      writeU16(out, off + 3, res.value);
      return;
    default:
      writeU16(out, off + 1, res.address);
      writeU16(out, off + 3, res.quantity);
  }
}

/** The response PDU, after checking every limit. A new array. */
export function encodeResponsePdu(res: ModbusResponse): Uint8Array {
  const out = new Uint8Array(validateResponse(res));
  writeResponsePdu(res, out, 0);
  return out;
}

/**
 * Decodes a response PDU; an exception response (fc | 0x80) gives `{ fc, exception }`
 * with the original function code. Throws `MODBUS_BAD_FRAME` when the length or byte
 * count does not match the function code, `MODBUS_ILLEGAL_FUNCTION` for other codes.
 * The result is a new object sharing no memory with `pdu`.
 */
export function decodeResponsePdu(pdu: Uint8Array): ModbusResponse {
  return decodeResponseAt(pdu, 0, pdu.length);
}

/** Decodes the response PDU in `b[start, end)`; the result shares no memory with `b`. */
export function decodeResponseAt(b: Uint8Array, start: number, end: number): ModbusResponse {
  const len = end - start;
  if (len < 2) throw badFrame(`a ${len}-byte response PDU`);
  const fc = b[start]!;
  if (fc & 0x80) {
    // §7: exception response = fc | 0x80, exception code
    if (len !== 2) throw badLength(len, fc);
    return { fc: fc & 0x7f, exception: b[start + 1]! };
  }
  switch (fc) {
    case 0x03:
    case 0x04:
    case 0x17: {
      // §6.3 / §6.4 / §6.17: fc, byte count (2 × N, N 1..0x7D), N words
      const byteCount = b[start + 1]!;
      if (byteCount === 0 || byteCount & 1 || byteCount > 2 * MAX_READ_QUANTITY) {
        throw badFrame(`byte count ${byteCount} for function 0x${hex(fc)}`);
      }
      if (len !== 2 + byteCount) throw badLength(len, fc);
      return { fc, values: readWords(b, start + 2, byteCount >> 1) };
    }
    case 0x06:
      // §6.6: fc, register address, register value
      if (len !== 5) throw badLength(len, fc);
      return { fc, address: readU16(b, start + 1), value: readU16(b, start + 3) };
    case 0x10:
      // §6.12: fc, starting address, quantity of registers
      if (len !== 5) throw badLength(len, fc);
      return { fc, address: readU16(b, start + 1), quantity: readU16(b, start + 3) };
    default:
      throw illegalFunction(fc);
  }
}

function badLength(len: number, fc: number): ProtocolError {
  return badFrame(`a ${len}-byte PDU for function 0x${hex(fc)}`);
}

function badFrame(what: string): ProtocolError {
  return new ProtocolError('MODBUS_BAD_FRAME', `Malformed response: ${what}`);
}
