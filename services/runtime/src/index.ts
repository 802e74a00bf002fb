export * from './config/index.ts';
export type { ConfigIssue, RuntimeErrorCode } from './errors.ts';
export { ERROR_CODES, RuntimeError } from './errors.ts';
export { createLogger, type Logger } from './logger.ts';
export { onShutdown } from './shutdown.ts';
