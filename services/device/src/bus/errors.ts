/**
 * Errors of the device service's bus layer (transport, scheduler, masters). Every error
 * carries a stable `code` listed in `ERROR_CODES`, the wire code where the drive sent
 * one (Modbus exception code, Dynamixel status error number) and `cause` (the
 * `ProtocolError` of firmware-protocol, or the transport's error).
 *
 * What each code says about the drive: DRIVE_UNREACHABLE, EXPIRED, WITHDRAWN, BUS_STOPPED,
 * BAD_REQUEST and UNKNOWN_DRIVE mean nothing was sent; DRIVE_REJECTED means the drive
 * answered and refused; TIMEOUT and LINK_DOWN (on a transaction in flight) mean the
 * outcome is unknown: a write may or may not have taken effect.
 */
import type { ProtocolError } from '../../../../firmware-protocol/src/index.ts';

export const ERROR_CODES = {
  DRIVE_UNREACHABLE:
    'The drive is not reachable (its circuit breaker is open, or the link is down): failed fast, nothing was sent.',
  TIMEOUT:
    'No valid answer within the transaction timeout (silence, CRC errors, a truncated reply): the outcome is unknown.',
  DRIVE_REJECTED:
    'The drive answered and refused: a Modbus exception response or a Dynamixel status error; `wireCode` holds the code, `cause` the ProtocolError.',
  EXPIRED:
    'The request reached the head of the queue after its deadline (`deadlineWallMs`): it was never sent.',
  LINK_DOWN:
    'The link is down: a write to a closed link, or the link dropped while a transaction was in flight (outcome unknown).',
  WITHDRAWN:
    'The request was withdrawn by its sender (a stop or quick stop ended the command it belonged to) before it reached the wire: it was never sent.',
  BUS_STOPPED: 'The bus was stopped before the request reached the wire: it was never sent.',
  BAD_REQUEST:
    "A request the drive's profile cannot encode (unknown object, read-only object, value out of range): nothing was sent; `cause` is the ProtocolError.",
  UNKNOWN_DRIVE: 'No drive with this id on this bus.',
  BAD_RESPONSE:
    'A reply that framed correctly but does not fit the request (wrong length or device): counted as a communication failure.',
  LINK_URL_INVALID:
    'A transport URL that is not serial:///dev/…, tcp://host:port or memory://name, or has bad parameters.',
  LINK_OPEN_FAILED: 'The transport could not be opened (no such port, connection refused).',
} as const;

export type BusErrorCode = keyof typeof ERROR_CODES;

export interface BusErrorOptions {
  /** The drive's own code: Modbus exception code (§7), Dynamixel status error number. */
  wireCode?: number;
  cause?: unknown;
}

export class BusError extends Error {
  readonly code: BusErrorCode;
  readonly wireCode: number | undefined;

  constructor(code: BusErrorCode, message: string, options: BusErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BusError';
    this.code = code;
    this.wireCode = options.wireCode;
  }
}

export function isBusError(err: unknown, code?: BusErrorCode): err is BusError {
  return err instanceof BusError && (code === undefined || err.code === code);
}

/** DRIVE_REJECTED from the drive's ProtocolError (MODBUS_EXCEPTION, DXL_STATUS_ERROR). */
export function rejected(driveId: string, err: ProtocolError): BusError {
  return new BusError('DRIVE_REJECTED', `${driveId}: ${err.message}`, {
    ...(err.wireCode === undefined ? {} : { wireCode: err.wireCode }),
    cause: err,
  });
}

/**
 * The failures that count towards a drive's circuit breaker: the drive did not answer
 * usefully. An answer that refuses (DRIVE_REJECTED) is not one: the drive is there.
 * LINK_DOWN is the link's fault, not the drive's.
 */
export function isCommFailure(err: unknown): boolean {
  return isBusError(err) && (err.code === 'TIMEOUT' || err.code === 'BAD_RESPONSE');
}
