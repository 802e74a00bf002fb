/** The journal: an append-only, durable, queryable record of every fleet event. */
export { ERROR_CODES, JournalError, type JournalErrorCode } from './errors.ts';
export { type AppDeps, buildApp } from './http/app.ts';
export { type EventRow, MAX_EVENT_BYTES, toEventRow } from './ingest/event-row.ts';
export { type AckMode, type Ingest, type IngestStats, startIngest } from './ingest/ingest.ts';
export {
  journalClientId,
  journalIdentity,
  type RunningJournal,
  SERVICE_ID,
  SHARE_GROUP,
  type StartJournalOptions,
  startJournal,
} from './journal.ts';
export { type Retention, startRetention } from './retention.ts';
export {
  type EventQuery,
  type EventStore,
  openEventStore,
  type StoredEvent,
} from './store/event-store.ts';
