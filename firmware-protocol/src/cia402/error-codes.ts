/**
 * CiA 402 error codes (object 0x603F, the same numbers as the EMCY error code):
 * CiA 402-2 §6.1.3 / Annex (drive-specific codes) on top of the CiA 301 §7.2.7.1
 * generic classes by the first hex digit(s).
 */
import { ProtocolError } from '../errors.ts';

export const ErrorCode = {
  NO_ERROR: 0x0000,
  /** Continuous over-current (device output side). */
  OVERCURRENT: 0x2310,
  /** Short circuit / earth leakage (device output side). */
  SHORT_CIRCUIT: 0x2320,
  /** DC link over-voltage. */
  OVERVOLTAGE: 0x3210,
  /** DC link under-voltage. */
  UNDERVOLTAGE: 0x3220,
  /** Excess temperature of the drive. */
  OVERTEMPERATURE: 0x4310,
  /** Incremental sensor (encoder) 1 fault. */
  ENCODER: 0x7305,
  /** Following error (position control). */
  FOLLOWING_ERROR: 0x8611,
} as const;

export type ErrorCodeName = keyof typeof ErrorCode;

export interface ErrorDescription {
  code: number;
  /** `0x4310`: four upper-case hex digits. */
  hex: string;
  /** `OVERTEMPERATURE` for a listed code, the class (`TEMPERATURE`) otherwise. */
  name: string;
  text: string;
}

const TEXT: Readonly<Record<ErrorCodeName, string>> = {
  NO_ERROR: 'No error',
  OVERCURRENT: 'Continuous over-current',
  SHORT_CIRCUIT: 'Short circuit or earth leakage',
  OVERVOLTAGE: 'DC link over-voltage',
  UNDERVOLTAGE: 'DC link under-voltage',
  OVERTEMPERATURE: 'Excess drive temperature',
  ENCODER: 'Encoder (incremental sensor 1) fault',
  FOLLOWING_ERROR: 'Following error',
};

const NAME_BY_CODE = new Map<number, ErrorCodeName>(
  (Object.entries(ErrorCode) as [ErrorCodeName, number][]).map(([name, code]) => [code, name]),
);

/** CiA 301 §7.2.7.1 Table 21: error classes by the upper hex digit(s). */
function errorClass(code: number): { name: string; text: string } {
  if (code >= 0xff00) return { name: 'DEVICE_SPECIFIC', text: 'Device specific error' };
  switch (code >> 12) {
    case 0x1:
      return { name: 'GENERIC', text: 'Generic error' };
    case 0x2:
      return { name: 'CURRENT', text: 'Current error' };
    case 0x3:
      return { name: 'VOLTAGE', text: 'Voltage error' };
    case 0x4:
      return { name: 'TEMPERATURE', text: 'Temperature error' };
    case 0x5:
      return { name: 'DEVICE_HARDWARE', text: 'Device hardware error' };
    case 0x6:
      return { name: 'DEVICE_SOFTWARE', text: 'Device software error' };
    case 0x7:
      return { name: 'ADDITIONAL_MODULES', text: 'Additional modules error' };
    case 0x8:
      return { name: 'MONITORING', text: 'Monitoring error' };
    case 0x9:
      return { name: 'EXTERNAL', text: 'External error' };
    case 0xf:
      return { name: 'ADDITIONAL_FUNCTIONS', text: 'Additional functions error' };
    default:
      return { name: 'RESERVED', text: 'Reserved error code' };
  }
}

export function formatErrorCode(code: number): string {
  return `0x${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Name and text of a 0x603F error code; unlisted codes are described by their class. */
export function describeErrorCode(code: number): ErrorDescription {
  checkCode(code);
  const hex = formatErrorCode(code);
  const name = NAME_BY_CODE.get(code);
  if (name !== undefined) return { code, hex, name, text: TEXT[name] };
  const cls = errorClass(code);
  return { code, hex, name: cls.name, text: `${cls.text} (code ${hex})` };
}

/**
 * Parses an error code written as `0x4310`, `4310h` (CiA documents' style), a
 * decimal string `17168` or a number. Throws VALUE_OUT_OF_RANGE for anything else
 * or a value outside 0x0000–0xFFFF.
 */
export function parseErrorCode(input: string | number): number {
  let code: number;
  if (typeof input === 'number') {
    code = input;
  } else {
    const s = input.trim();
    if (/^0x[0-9a-f]{1,4}$/i.test(s)) code = Number.parseInt(s.slice(2), 16);
    else if (/^[0-9a-f]{1,4}h$/i.test(s)) code = Number.parseInt(s.slice(0, -1), 16);
    else if (/^[0-9]{1,5}$/.test(s)) code = Number.parseInt(s, 10);
    else throw new ProtocolError('VALUE_OUT_OF_RANGE', `not an error code: '${input}'`);
  }
  checkCode(code);
  return code;
}

function checkCode(code: number): void {
  if (!Number.isInteger(code) || code < 0 || code > 0xffff) {
    throw new ProtocolError('VALUE_OUT_OF_RANGE', `error code ${code} is not in 0x0000–0xFFFF`);
  }
}
