/**
 * Errors of `services/journal`. Each carries a stable `code`, listed in `ERROR_CODES`
 * and in `services/journal/ERRORS.md` (a test checks the two agree). HTTP answers of
 * the query API use the contract's codes (`BAD_REQUEST`, `NOT_FOUND`, …) instead.
 */

export const ERROR_CODES = {
  JOURNAL_DB_OPEN:
    'The database file cannot be opened or created (directory not writable, not a SQLite file, or written by a newer journal schema).',
  JOURNAL_DB_WRITE:
    'Appending a batch failed (disk full, I/O error): none of its events was acknowledged, and the journal reconnects so that the broker delivers them again.',
  JOURNAL_LISTEN_FAILED:
    'The query API cannot listen on its host and port (port in use, no permission).',
} as const;

export type JournalErrorCode = keyof typeof ERROR_CODES;

export class JournalError extends Error {
  readonly code: JournalErrorCode;

  constructor(code: JournalErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'JournalError';
    this.code = code;
  }
}
