/**
 * Range checks shared by the encoders and decoders. Each throws `ProtocolError` with the
 * exception code a slave answers with as `wireCode` (Modbus Application Protocol V1.1b3
 * §6.3, §6.12, §6.17 state diagrams: quantity or byte count → 03, address range → 02).
 */
import { ProtocolError, type ProtocolErrorCode } from '../errors.ts';
import { hex } from './function-codes.ts';

export function isU16(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0xffff;
}

/** §4.3: a data address is 0..0xFFFF. */
export function checkAddress(
  address: number,
  field: string,
  code: ProtocolErrorCode = 'MODBUS_BAD_REQUEST',
): void {
  if (!isU16(address)) {
    throw new ProtocolError(code, `${field} ${String(address)} is not an address 0..0xFFFF`, {
      wireCode: 2,
    });
  }
}

/** A quantity of registers 1..max (§6.3 0x7D, §6.12 0x7B, §6.17 0x79). */
export function checkQuantity(
  quantity: number,
  max: number,
  field: string,
  code: ProtocolErrorCode = 'MODBUS_BAD_REQUEST',
): void {
  if (!Number.isInteger(quantity) || quantity < 1 || quantity > max) {
    throw new ProtocolError(code, `${field} ${String(quantity)} is outside 1..${max}`, {
      wireCode: 3,
    });
  }
}

/** §6.3 state diagram: "Starting Address + Quantity of Registers" must stay in 0..0xFFFF. */
export function checkSpan(address: number, quantity: number, field: string): void {
  if (address + quantity > 0x10000) {
    throw new ProtocolError(
      'MODBUS_BAD_REQUEST',
      `${field} 0x${hex(address)} + ${quantity} registers runs past 0xFFFF`,
      { wireCode: 2 },
    );
  }
}

/** A register value is an unsigned 16-bit word (§4.2, §4.3). */
export function checkValue(value: number, field: string): void {
  if (!isU16(value)) {
    throw new ProtocolError('VALUE_OUT_OF_RANGE', `${field} ${String(value)} is not 0..0xFFFF`, {
      wireCode: 3,
    });
  }
}

/** A register array of 1..max words (§6.12 0x7B, §6.17 0x79, §6.3 0x7D for responses). */
export function checkValues(
  values: number[],
  max: number,
  field: string,
  code: ProtocolErrorCode = 'MODBUS_BAD_REQUEST',
): void {
  if (!Array.isArray(values)) {
    throw new ProtocolError(code, `${field} is not an array of registers`, { wireCode: 3 });
  }
  checkQuantity(values.length, max, `${field}.length`, code);
  for (let i = 0; i < values.length; i++) checkValue(values[i]!, `${field}[${i}]`);
}

/** Modbus over serial line V1.02 §2.2: unit `min`..247 (0 = broadcast, 248–255 reserved). */
export function checkUnit(unit: number, min: number, code: ProtocolErrorCode): void {
  if (!Number.isInteger(unit) || unit < min || unit > 247) {
    throw new ProtocolError(code, `unit ${String(unit)} is outside ${min}..247`);
  }
}
