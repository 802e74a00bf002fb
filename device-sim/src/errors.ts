/**
 * Errors of `device-sim`, each with a stable code (listed in `device-sim/ERRORS.md`).
 * The control API answers them as `{ "error": { "code", "message", "path"? } }`.
 */
export const ERROR_CODES = {
  SIM_BAD_REQUEST:
    'A control-API body or query that does not match its schema; `path` names the bad field.',
  SIM_UNKNOWN_DRIVE: 'A drive id the simulator does not emulate.',
  SIM_UNKNOWN_LINK: 'A link id the simulator does not serve.',
  SIM_UNSUPPORTED_FAULT:
    'A fault this link or drive cannot take (e.g. disconnect on an in-memory link).',
  SIM_SCENARIO_INVALID:
    'A scenario file that is not valid YAML or does not match the scenario schema.',
  SIM_CONFIG_INVALID:
    'Simulator options that cannot work (unknown protocol, duplicate unit id, bad listen address).',
  SIM_LISTEN_FAILED: 'A link or the control API could not listen (port in use, socat missing).',
} as const;

export type SimErrorCode = keyof typeof ERROR_CODES;

export class SimError extends Error {
  readonly code: SimErrorCode;
  readonly path: string | undefined;
  constructor(
    code: SimErrorCode,
    message: string,
    options: { path?: string; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SimError';
    this.code = code;
    this.path = options.path;
  }
}
