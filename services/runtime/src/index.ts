export * from './config/index.ts';
export type { ConfigIssue, RuntimeErrorCode } from './errors.ts';
export { ERROR_CODES, RuntimeError } from './errors.ts';
