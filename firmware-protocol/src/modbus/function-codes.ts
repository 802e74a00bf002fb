/**
 * Function and exception codes this library speaks, and the protocol's limits.
 * Modbus Application Protocol V1.1b3 §5 (function codes), §7 (exception codes).
 */

/** The function codes servofleet implements (Modbus Application Protocol V1.1b3 §6). */
export const FunctionCode = {
  /** §6.3 */
  ReadHoldingRegisters: 0x03,
  /** §6.4 */
  ReadInputRegisters: 0x04,
  /** §6.6 */
  WriteSingleRegister: 0x06,
  /** §6.12 */
  WriteMultipleRegisters: 0x10,
  /** §6.17 */
  ReadWriteMultipleRegisters: 0x17,
} as const;

/** Exception codes a slave answers with (Modbus Application Protocol V1.1b3 §7). */
export const ExceptionCode = {
  IllegalFunction: 0x01,
  IllegalDataAddress: 0x02,
  IllegalDataValue: 0x03,
  ServerDeviceFailure: 0x04,
  GatewayPathUnavailable: 0x0a,
  GatewayTargetFailedToRespond: 0x0b,
} as const;

/** Modbus Application Protocol V1.1b3 §7: every exception code the spec defines. */
const EXCEPTION_NAMES: Readonly<Record<number, string>> = {
  1: 'IllegalFunction',
  2: 'IllegalDataAddress',
  3: 'IllegalDataValue',
  4: 'ServerDeviceFailure',
  5: 'Acknowledge',
  6: 'ServerDeviceBusy',
  8: 'MemoryParityError',
  10: 'GatewayPathUnavailable',
  11: 'GatewayTargetFailedToRespond',
};

/**
 * The name of an exception code as the spec defines it (§7), e.g. `IllegalDataAddress`;
 * codes the spec does not define give `Exception 0xNN`.
 */
export function exceptionName(code: number): string {
  return EXCEPTION_NAMES[code] ?? `Exception 0x${hex(code)}`;
}

/** Modbus Application Protocol V1.1b3 §6.3, §6.4: read 1 to 125 (0x7D) registers. */
export const MAX_READ_QUANTITY = 125;
/** Modbus Application Protocol V1.1b3 §6.12: write 1 to 123 (0x7B) registers. */
export const MAX_WRITE_QUANTITY = 123;
/** Modbus Application Protocol V1.1b3 §6.17: 0x17 writes 1 to 121 (0x79) registers. */
export const MAX_READ_WRITE_QUANTITY = 121;
/** Modbus over serial line V1.02 §2.5.1: an RTU ADU is at most 256 bytes. */
export const MAX_RTU_ADU_LENGTH = 256;
/** Modbus over serial line V1.02 §2.2: 0 is broadcast, 1–247 slaves, 248–255 reserved. */
export const MAX_UNIT = 247;

/** Two upper-case hex digits (or more for larger numbers). */
export function hex(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}
