/**
 * The error codes of the fleet's public contract: carried by command replies
 * (`error.code`), HTTP error bodies and events. Stable within v1; documented in
 * services/contract/ERRORS.md (a test checks every code is there).
 */
export const ERROR_CODES = {
  BAD_REQUEST:
    'The payload is not JSON, has wrong types, unknown fields, or is too large; `path` names the bad field.',
  UNKNOWN_DRIVE: 'No drive with that id in the fleet.',
  INVALID_STATE:
    'The command is not allowed in the drive’s current state (e.g. moveTo while not enabled, or while faulted).',
  LIMIT_EXCEEDED:
    'A position, velocity or acceleration outside the drive’s soft limits from the fleet file.',
  DRIVE_UNREACHABLE:
    'The drive does not answer (breaker open, link down, or the device service is offline): nothing was sent.',
  DRIVE_FAULT:
    'The drive is in FAULT (or went there while executing); `fault` says which 0x603F code.',
  DRIVE_REJECTED:
    'The drive refused a write (Modbus exception, Dynamixel status error); the wire code is in the message.',
  TIMEOUT:
    'No answer in time: the outcome is unknown (the command may or may not have taken effect).',
  ABORTED:
    'The command was interrupted before it completed: a stop, a quick stop or a newer motion command took over.',
  COMMAND_EXPIRED:
    'The command arrived or would have run after its deadline: it was never executed.',
  BREAKER_OPEN:
    'The gateway’s breaker for this drive is open after repeated failures: retry after `Retry-After`.',
  OVERLOADED: 'Too many commands in flight for this drive or this process: retry later.',
  SERVICE_UNAVAILABLE:
    'A service the request needs is not running or not reachable (the line controller, the journal, or the MQTT broker behind the gateway): nothing was done; retry after `Retry-After`.',
  UNAUTHORIZED: 'No valid API key.',
  FORBIDDEN: 'The API key’s role may not do this.',
  RATE_LIMITED: 'Too many requests for this API key.',
  PAYLOAD_TOO_LARGE: 'The body is larger than allowed.',
  NOT_FOUND: 'No such resource (command id, line, route).',
  INTERNAL: 'An unexpected error inside servofleet; the logs have the details.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ContractError {
  code: ErrorCode;
  message: string;
  /** JSON pointer of the bad field, for BAD_REQUEST. */
  path?: string;
}
