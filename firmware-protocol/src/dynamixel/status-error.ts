/**
 * The error byte of a status packet (ROBOTIS Protocol 2.0 e-manual §Status Packet
 * §Error): bit 7 is the alert flag (the device has a hardware problem: read its
 * Hardware Error Status, address 70 on the XM430), bits 0–6 the error number of
 * the instruction that was processed.
 */
import { ProtocolError } from '../errors.ts';
import type { StatusPacket } from './packet.ts';

/** Error numbers, bits 0–6 of the status error byte (e-manual §Error). */
export const StatusErrorNumber = {
  RESULT_FAIL: 1,
  INSTRUCTION_ERROR: 2,
  CRC_ERROR: 3,
  DATA_RANGE_ERROR: 4,
  DATA_LENGTH_ERROR: 5,
  DATA_LIMIT_ERROR: 6,
  ACCESS_ERROR: 7,
} as const;

export type StatusErrorName = keyof typeof StatusErrorNumber;

/** Bit 7 of the status error byte (e-manual §Error: "Alert"). */
export const ALERT_BIT = 0x80;

export interface StatusError {
  /** Bit 7: the device reports a hardware error (see Hardware Error Status). */
  alert: boolean;
  /** Bits 0–6: the error number, 0 when the instruction succeeded. */
  code: number;
  /** The error number's name, `null` for 0 and for numbers the e-manual does not define. */
  name: StatusErrorName | null;
  message: string;
}

// e-manual §Error, table of error numbers
const NAMES: readonly (StatusErrorName | null)[] = [
  null,
  'RESULT_FAIL',
  'INSTRUCTION_ERROR',
  'CRC_ERROR',
  'DATA_RANGE_ERROR',
  'DATA_LENGTH_ERROR',
  'DATA_LIMIT_ERROR',
  'ACCESS_ERROR',
];

const MESSAGES: readonly string[] = [
  'no error',
  'result fail: the device failed to process the instruction packet',
  'instruction error: undefined instruction, or Action without Reg Write',
  'CRC error: the CRC of the instruction packet does not match',
  'data range error: the value is outside the minimum/maximum of the address',
  'data length error: the data is shorter than the data length of the address',
  'data limit error: the value is outside the limit value',
  'access error: the address is read-only, write-only or undefined, or the ROM area is locked while torque is enabled',
];

const ALERT_MESSAGE =
  'hardware alert: the device reports a hardware error (read Hardware Error Status)';

/** Splits a status error byte into its alert bit and error number. */
export function decodeStatusError(errorByte: number): StatusError {
  const alert = (errorByte & ALERT_BIT) !== 0;
  const code = errorByte & 0x7f;
  const name = NAMES[code] ?? null;
  const base = code < MESSAGES.length ? MESSAGES[code]! : `unknown error number ${code}`;
  let message = base;
  if (alert) message = code === 0 ? ALERT_MESSAGE : `${base}; ${ALERT_MESSAGE}`;
  return { alert, code, name, message };
}

/**
 * The error a status packet reports, or `undefined` when its error byte is 0.
 * An error number (bits 0–6) gives `DXL_STATUS_ERROR` with `wireCode` = the number
 * (the instruction failed; the message also mentions a set alert bit); the alert
 * bit alone gives `DXL_HARDWARE_ALERT` with `wireCode` = the raw error byte.
 */
export function statusToError(p: StatusPacket): ProtocolError | undefined {
  if (p.error === 0) return undefined;
  const e = decodeStatusError(p.error);
  if (e.code !== 0) {
    return new ProtocolError('DXL_STATUS_ERROR', `device ${p.id}: ${e.message}`, {
      wireCode: e.code,
    });
  }
  return new ProtocolError('DXL_HARDWARE_ALERT', `device ${p.id}: ${e.message}`, {
    wireCode: p.error,
  });
}
