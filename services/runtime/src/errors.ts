/**
 * Errors of `services/runtime`. Each carries a stable `code`, listed in
 * `ERROR_CODES` and in `services/runtime/ERRORS.md` (a test checks the two agree).
 */

export const ERROR_CODES = {
  CONFIG_NOT_FOUND:
    'The fleet file (or a profile directory it names) does not exist or cannot be read.',
  CONFIG_PARSE: 'The fleet file is not valid YAML.',
  CONFIG_INVALID:
    'The fleet file does not match the schema or is inconsistent (duplicate ids, unknown profile, unit id clash); `issues` lists each bad field with its path.',
  CONFIG_ENV_INVALID: 'An environment override (SERVOFLEET_*) has a value that cannot be used.',
} as const;

export type RuntimeErrorCode = keyof typeof ERROR_CODES;

export interface ConfigIssue {
  /** JSON pointer of the bad field, e.g. `/links/0/drives/1/unit`. */
  path: string;
  message: string;
}

export class RuntimeError extends Error {
  readonly code: RuntimeErrorCode;
  readonly issues: readonly ConfigIssue[];

  constructor(
    code: RuntimeErrorCode,
    message: string,
    options: { issues?: ConfigIssue[]; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RuntimeError';
    this.code = code;
    this.issues = Object.freeze([...(options.issues ?? [])]);
  }
}
