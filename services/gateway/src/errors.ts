/**
 * Errors of `services/gateway` itself (start-up and configuration). HTTP answers carry
 * the contract's codes instead (services/contract/ERRORS.md); these are listed in
 * services/gateway/ERRORS.md, and a test checks the two agree (STYLE.md §6).
 */
import type { ErrorCode } from '../../contract/src/index.ts';

export const ERROR_CODES = {
  DEMO_KEYS_NOT_LOOPBACK:
    'The gateway refuses to listen on a non-loopback address while a demo API key (demo-viewer, demo-operator, demo-admin) is configured.',
  GATEWAY_LISTEN_FAILED:
    'The gateway could not listen on its address (port in use, no permission, address not local).',
  GATEWAY_OPTIONS_INVALID:
    'Gateway options do not match their schema; the message names the field.',
} as const;

export type GatewayErrorCode = keyof typeof ERROR_CODES;

export class GatewayError extends Error {
  readonly code: GatewayErrorCode;
  constructor(code: GatewayErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.code = code;
  }
}

/**
 * An HTTP answer that is an error: status, contract code, message, and what else the
 * body says (`commandId`, `outcome`). Thrown by handlers and hooks; the error plugin
 * turns it into `{ "error": { code, message, path? }, ... }`.
 */
export class ApiError extends Error {
  readonly statusCode: number;
  readonly code: ErrorCode;
  readonly path: string | undefined;
  readonly headers: Record<string, string>;
  readonly extra: Record<string, unknown>;
  constructor(
    statusCode: number,
    code: ErrorCode,
    message: string,
    o: { path?: string; headers?: Record<string, string>; extra?: Record<string, unknown> } = {},
  ) {
    // An answer to the client, not a fault of ours: no stack trace to capture (it was
    // the largest cost of a fail-fast 503).
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.name = 'ApiError';
    this.statusCode = statusCode;
    this.code = code;
    this.path = o.path;
    this.headers = o.headers ?? {};
    this.extra = o.extra ?? {};
  }
}

/**
 * The HTTP status each contract code answers with. Chosen once, here:
 * - COMMAND_EXPIRED → 410 Gone: the command's validity window passed, it was never
 *   executed and never will be; distinct from 409 so a client knows not to "fix the
 *   state and retry" but to send a new command with a new deadline.
 * - DRIVE_REJECTED → 502: the drive (the upstream) refused the write.
 * - ABORTED → 409: another command (a stop, a newer move) took over.
 */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  UNKNOWN_DRIVE: 404,
  INVALID_STATE: 409,
  LIMIT_EXCEEDED: 422,
  DRIVE_UNREACHABLE: 503,
  DRIVE_FAULT: 409,
  DRIVE_REJECTED: 502,
  TIMEOUT: 504,
  ABORTED: 409,
  COMMAND_EXPIRED: 410,
  BREAKER_OPEN: 503,
  OVERLOADED: 503,
  SERVICE_UNAVAILABLE: 503,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  RATE_LIMITED: 429,
  PAYLOAD_TOO_LARGE: 413,
  NOT_FOUND: 404,
  INTERNAL: 500,
};
