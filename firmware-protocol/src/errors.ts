/**
 * Errors of `firmware-protocol`. Every error carries a stable `code` (listed in
 * `ERROR_CODES` and documented in `firmware-protocol/ERRORS.md`; a test fails when
 * one is missing), the wire code where the protocol has one (a Modbus exception code,
 * a Dynamixel status error number, a CiA 402 0x603F code) and an optional `cause`.
 *
 * Decoders throw `ProtocolError`; incremental framers never throw on bytes from the
 * wire: they drop what they cannot use and count it under one of these codes.
 */

export const ERROR_CODES = {
  MODBUS_CRC: 'A Modbus RTU frame whose CRC-16/MODBUS does not check.',
  MODBUS_EXCEPTION:
    'The slave answered with an exception response (function code | 0x80); wireCode holds the exception code.',
  MODBUS_BAD_FRAME: 'A Modbus frame whose length or byte count does not match its function code.',
  MODBUS_BAD_REQUEST:
    'A Modbus request outside the protocol limits (address, quantity 1–125 read / 1–123 write, value range).',
  MODBUS_ILLEGAL_FUNCTION: 'A function code this library does not implement.',
  MODBUS_UNEXPECTED_RESPONSE:
    'A response from another unit or for another function than the request that is outstanding.',
  MODBUS_GARBAGE: 'Bytes that do not start a frame the framer expects (noise, a stray byte).',
  MODBUS_TRUNCATED: 'A frame cut short by the 3.5-character silence before it was complete.',
  MBAP_BAD_HEADER:
    'A Modbus TCP MBAP header with a protocol id other than 0 or a length out of range.',
  FRAME_TOO_LONG: 'A frame longer than the protocol (or the configured maximum) allows.',
  DXL_CRC: 'A Dynamixel 2.0 packet whose CRC-16 (poly 0x8005) does not check.',
  DXL_BAD_PACKET:
    'A Dynamixel 2.0 packet that is malformed: bad reserved byte, length too short, bad stuffing or parameters.',
  DXL_STATUS_ERROR:
    'A Dynamixel status packet whose error byte reports an error; wireCode holds the error number (1–7).',
  DXL_HARDWARE_ALERT:
    'A Dynamixel status packet with the alert bit (0x80) set: see Hardware Error Status.',
  DXL_GARBAGE: 'Bytes before a Dynamixel header FF FF FD 00 (noise, a stray byte).',
  CIA402_INVALID_TRANSITION: 'A CiA 402 state transition the state machine does not allow.',
  PROFILE_INVALID: 'A drive profile file that does not match the profile schema.',
  PROFILE_UNKNOWN_OBJECT: 'A named object that the drive profile does not map.',
  PROFILE_READ_ONLY: 'A write to an object the drive profile marks read-only.',
  VALUE_OUT_OF_RANGE: 'A value that does not fit the type of the object or field it is written to.',
} as const;

export type ProtocolErrorCode = keyof typeof ERROR_CODES;

export interface ProtocolErrorOptions {
  /** The protocol's own number for the error, when it has one. */
  wireCode?: number;
  cause?: unknown;
}

export class ProtocolError extends Error {
  readonly code: ProtocolErrorCode;
  readonly wireCode: number | undefined;

  constructor(code: ProtocolErrorCode, message: string, options: ProtocolErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ProtocolError';
    this.code = code;
    this.wireCode = options.wireCode;
  }
}

export function isProtocolError(err: unknown): err is ProtocolError {
  return err instanceof ProtocolError;
}
