/**
 * Errors of the line controller, each with a stable code (documented in ERRORS.md; a
 * test checks both lists match). What a drive answered keeps its contract code
 * (TIMEOUT, DRIVE_UNREACHABLE, DRIVE_FAULT, …) in step events and replies; these codes
 * are the controller's own.
 */
export const ERROR_CODES = {
  CYCLE_INVALID:
    'The cycle of a line in the fleet file is not valid: unknown step kind, bad field, a drive not in the line, a position outside the drive’s soft limits; `issues` lists each with its path.',
  LINE_NOT_FOUND: 'No line with that id in the fleet file.',
  SAGA_LOG_IO:
    'The saga log cannot be opened, written or synced: the controller does not run without it.',
  SAGA_LOG_CORRUPT:
    'A saga log record cannot be read (not JSON, or not a record): skipped and reported; a torn last line after a crash is expected and dropped.',
} as const;

export type LineErrorCode = keyof typeof ERROR_CODES;

export interface CycleIssue {
  /** JSON pointer into the fleet file, e.g. `/lines/0/cycle/2/parallel/1/moveTo/drive`. */
  path: string;
  message: string;
}

export class LineError extends Error {
  readonly code: LineErrorCode;
  readonly issues: CycleIssue[] | undefined;

  constructor(
    code: LineErrorCode,
    message: string,
    opts: { cause?: unknown; issues?: CycleIssue[] } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'LineError';
    this.code = code;
    this.issues = opts.issues;
  }
}
