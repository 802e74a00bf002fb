/**
 * The bus layer of the device service: one link, every drive on it, polled and
 * commanded one transaction at a time, each drive behind its own circuit breaker.
 */
export type { BreakerOptions, BreakerState } from './breaker.ts';
export { Bus } from './bus.ts';
export type {
  Availability,
  BusDrive,
  BusOptions,
  BusStats,
  DriveStats,
  LinkSource,
  RequestOptions,
} from './bus-types.ts';
export { BusError, type BusErrorCode, ERROR_CODES, isBusError } from './errors.ts';
export { pollBlocks, pollNames } from './poll-plan.ts';
export { dynamixelTimeoutMs, type LineTiming, modbusTimeoutMs } from './timing.ts';
