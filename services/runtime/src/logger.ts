/**
 * One pino root logger per process (STYLE.md §8): JSON lines on stdout, the level from
 * `LOG_LEVEL` (default info), the service name on every line. Parts of a service take
 * `log.child({ driveId, link })` once and keep it.
 */
import { type Logger, pino } from 'pino';

export type { Logger };

export function createLogger(
  service: string,
  env: { LOG_LEVEL?: string | undefined } = process.env,
): Logger {
  const level = env.LOG_LEVEL ?? 'info';
  return pino({ name: service, level, base: { service } });
}
