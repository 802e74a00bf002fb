/** The API gateway and dashboard (issue 5): what other folders may use. */
export { buildApp, type GatewayDeps } from './app.ts';
export {
  type ApiKeyEntry,
  DEMO_KEYS,
  isLoopbackHost,
  type Principal,
  type Role,
  sha256Hex,
} from './auth/api-keys.ts';
export {
  ApiError,
  ERROR_CODES,
  GatewayError,
  type GatewayErrorCode,
  HTTP_STATUS,
} from './errors.ts';
export {
  journalUrls,
  type RunningGateway,
  type StartGatewayOptions,
  startGateway,
} from './gateway.ts';
export { httpJournals, journalFanOut } from './journal-fanout.ts';
export { httpJournal } from './journal-http.ts';
export { type GatewayOptions, GatewayOptionsSchema, parseGatewayOptions } from './options.ts';
export type { GatewayMqtt, JournalPort, LineAction, LinePort, Relayed } from './ports.ts';
