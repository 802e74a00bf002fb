/**
 * Request PDUs: `[function code][data]`, big-endian words (Modbus Application Protocol
 * V1.1b3 §4.2). The encoder checks every limit before writing a byte; the decoder throws
 * `ProtocolError` whose `wireCode` is the exception a slave answers with.
 */
import { ProtocolError } from '../errors.ts';
import {
  hex,
  MAX_READ_QUANTITY,
  MAX_READ_WRITE_QUANTITY,
  MAX_WRITE_QUANTITY,
} from './function-codes.ts';
import { checkAddress, checkQuantity, checkSpan, checkValue, checkValues } from './limits.ts';
import type { ModbusRequest } from './messages.ts';

/** Checks `req` against the protocol limits; returns the length of its PDU. */
export function validateRequest(req: ModbusRequest): number {
  switch (req.fc) {
    case 0x03:
    case 0x04:
      // §6.3 / §6.4: quantity 1..0x7D, address + quantity within the 64 Ki address space
      checkAddress(req.address, 'address');
      checkQuantity(req.quantity, MAX_READ_QUANTITY, 'quantity');
      checkSpan(req.address, req.quantity, 'address');
      return 5;
    case 0x06:
      // §6.6: register address and a 16-bit value
      checkAddress(req.address, 'address');
      checkValue(req.value, 'value');
      return 5;
    case 0x10:
      // §6.12: quantity 1..0x7B, byte count 2 × quantity
      checkAddress(req.address, 'address');
      checkValues(req.values, MAX_WRITE_QUANTITY, 'values');
      checkSpan(req.address, req.values.length, 'address');
      return 6 + 2 * req.values.length;
    case 0x17:
      // §6.17: read quantity 1..0x7D, write quantity 1..0x79
      checkAddress(req.readAddress, 'readAddress');
      checkQuantity(req.readQuantity, MAX_READ_QUANTITY, 'readQuantity');
      checkSpan(req.readAddress, req.readQuantity, 'readAddress');
      checkAddress(req.writeAddress, 'writeAddress');
      checkValues(req.values, MAX_READ_WRITE_QUANTITY, 'values');
      checkSpan(req.writeAddress, req.values.length, 'writeAddress');
      return 10 + 2 * req.values.length;
    default:
      throw illegalFunction((req as { fc: unknown }).fc);
  }
}

/** Writes the PDU of an already validated request at `out[off]`. */
export function writeRequestPdu(req: ModbusRequest, out: Uint8Array, off: number): void {
  out[off] = req.fc;
  switch (req.fc) {
    case 0x03:
    case 0x04:
      writeU16(out, off + 1, req.address);
      writeU16(out, off + 3, req.quantity);
      return;
    case 0x06:
      writeU16(out, off + 1, req.address);
      writeU16(out, off + 3, req.value);
      return;
    case 0x10:
      writeU16(out, off + 1, req.address);
      writeU16(out, off + 3, req.values.length);
      out[off + 5] = 2 * req.values.length;
      writeWords(out, off + 6, req.values);
      return;
    default:
      writeU16(out, off + 1, req.readAddress);
      writeU16(out, off + 3, req.readQuantity);
      writeU16(out, off + 5, req.writeAddress);
      writeU16(out, off + 7, req.values.length);
      out[off + 9] = 2 * req.values.length;
      writeWords(out, off + 10, req.values);
  }
}

/** The request PDU (function code + data), after checking every limit. A new array. */
export function encodeRequestPdu(req: ModbusRequest): Uint8Array {
  const out = new Uint8Array(validateRequest(req));
  writeRequestPdu(req, out, 0);
  return out;
}

/**
 * Decodes a request PDU. Throws `MODBUS_BAD_FRAME` (length does not match the function
 * code), `MODBUS_ILLEGAL_FUNCTION` (wireCode 1) or `MODBUS_BAD_REQUEST` (wireCode 3 for a
 * quantity or byte count out of range, 2 for an address range past 0xFFFF). The result
 * is a new object sharing no memory with `pdu`.
 */
export function decodeRequestPdu(pdu: Uint8Array): ModbusRequest {
  return decodeRequestAt(pdu, 0, pdu.length);
}

/** Decodes the request PDU in `b[start, end)`; the result shares no memory with `b`. */
export function decodeRequestAt(b: Uint8Array, start: number, end: number): ModbusRequest {
  const len = end - start;
  if (len < 1) throw badFrame('an empty PDU');
  const fc = b[start]!;
  switch (fc) {
    case 0x03:
    case 0x04: {
      // §6.3 / §6.4: fc, starting address (2), quantity (2)
      expectLength(len, 5, fc);
      const address = readU16(b, start + 1);
      const quantity = readU16(b, start + 3);
      checkQuantity(quantity, MAX_READ_QUANTITY, 'quantity');
      checkSpan(address, quantity, 'address');
      return { fc, address, quantity };
    }
    case 0x06:
      // §6.6: fc, register address (2), register value (2)
      expectLength(len, 5, fc);
      return { fc, address: readU16(b, start + 1), value: readU16(b, start + 3) };
    case 0x10: {
      // §6.12: fc, starting address (2), quantity (2), byte count, values
      if (len < 6 || len !== 6 + b[start + 5]!) throw badLength(len, fc);
      const address = readU16(b, start + 1);
      const quantity = readU16(b, start + 3);
      checkQuantity(quantity, MAX_WRITE_QUANTITY, 'quantity');
      checkByteCount(b[start + 5]!, quantity);
      checkSpan(address, quantity, 'address');
      return { fc, address, values: readWords(b, start + 6, quantity) };
    }
    case 0x17: {
      // §6.17: fc, read address, read quantity, write address, write quantity, byte count, values
      if (len < 10 || len !== 10 + b[start + 9]!) throw badLength(len, fc);
      const readAddress = readU16(b, start + 1);
      const readQuantity = readU16(b, start + 3);
      const writeAddress = readU16(b, start + 5);
      const writeQuantity = readU16(b, start + 7);
      checkQuantity(readQuantity, MAX_READ_QUANTITY, 'readQuantity');
      checkQuantity(writeQuantity, MAX_READ_WRITE_QUANTITY, 'writeQuantity');
      checkByteCount(b[start + 9]!, writeQuantity);
      checkSpan(readAddress, readQuantity, 'readAddress');
      checkSpan(writeAddress, writeQuantity, 'writeAddress');
      const values = readWords(b, start + 10, writeQuantity);
      return { fc, readAddress, readQuantity, writeAddress, values };
    }
    default:
      throw illegalFunction(fc);
  }
}

export function readU16(b: Uint8Array, i: number): number {
  return (b[i]! << 8) | b[i + 1]!;
}

export function writeU16(b: Uint8Array, i: number, v: number): void {
  b[i] = v >>> 8;
  b[i + 1] = v & 0xff;
}

/** `n` big-endian words from `b[i]` into a new array. */
export function readWords(b: Uint8Array, i: number, n: number): number[] {
  const values = new Array<number>(n);
  for (let k = 0; k < n; k++, i += 2) values[k] = (b[i]! << 8) | b[i + 1]!;
  return values;
}

export function writeWords(b: Uint8Array, i: number, values: number[]): void {
  for (let k = 0; k < values.length; k++, i += 2) {
    const v = values[k]!;
    b[i] = v >>> 8;
    b[i + 1] = v & 0xff;
  }
}

export function illegalFunction(fc: unknown): ProtocolError {
  const name = typeof fc === 'number' ? `0x${hex(fc)}` : String(fc);
  return new ProtocolError('MODBUS_ILLEGAL_FUNCTION', `function code ${name} is not implemented`, {
    wireCode: 1,
  });
}

/** §6.12 / §6.17 state diagrams: "Byte Count == Quantity × 2", else exception 03. */
function checkByteCount(byteCount: number, quantity: number): void {
  if (byteCount !== 2 * quantity) {
    throw new ProtocolError(
      'MODBUS_BAD_REQUEST',
      `byte count ${byteCount} does not match ${quantity} registers`,
      { wireCode: 3 },
    );
  }
}

function expectLength(len: number, want: number, fc: number): void {
  if (len !== want) throw badLength(len, fc);
}

function badLength(len: number, fc: number): ProtocolError {
  return badFrame(`a ${len}-byte PDU for function 0x${hex(fc)}`);
}

function badFrame(what: string): ProtocolError {
  // wireCode 3: a slave that delimited this frame answers "illegal data value"
  return new ProtocolError('MODBUS_BAD_FRAME', `Malformed request: ${what}`, { wireCode: 3 });
}
