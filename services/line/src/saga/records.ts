/**
 * The saga log's records. One JSON object per line, each with `v` (format version),
 * `seq` (increasing by one through the file), `ts` (ms since the epoch) and `t`:
 *
 * | t          | written                                         | fields |
 * |------------|-------------------------------------------------|--------|
 * | snapshot   | first record of a new or compacted file         | state, reason, cycle, cyclesCompleted, compensations, lastCycleMs, bypassed |
 * | state      | the line's state changes                        | state, reason |
 * | cycle      | a cycle begins                                  | cycle, bypassed (stations out at its start) |
 * | intent     | BEFORE a step's (or compensation's) command is published | cycle, step, drive, to, attempt, comp, timeoutMs, commandId, command (the exact payload), compensate |
 * | result     | the command's final answer (or the line's own: timeout, drive down, abandoned) | cycle, step, drive, comp, commandId, status, error? |
 * | bypass     | a station is taken out                          | station, reason |
 * | rejoin     | a station is back (at a cycle boundary)         | station |
 * | compensate | a cycle's compensation begins                   | cycle, reason, after (the state once compensated) |
 * | end        | a cycle ends                                    | cycle, outcome (completed, compensated, aborted), ms?, cyclesCompleted, compensations |
 */
import type { Command, ContractError, LineStateName } from '../../../contract/src/index.ts';
import type { DriveAction } from '../cycle/parse-cycle.ts';

export const SAGA_LOG_VERSION = 1;

interface Head {
  v: 1;
  seq: number;
  ts: number;
}

export interface SnapshotRecord extends Head {
  t: 'snapshot';
  state: LineStateName;
  reason: string | null;
  cycle: number;
  cyclesCompleted: number;
  compensations: number;
  lastCycleMs: number | null;
  bypassed: { station: string; reason: string }[];
}
export interface StateRecord extends Head {
  t: 'state';
  state: LineStateName;
  reason: string | null;
}
export interface CycleRecord extends Head {
  t: 'cycle';
  cycle: number;
  bypassed: string[];
}
export interface IntentRecord extends Head {
  t: 'intent';
  cycle: number;
  step: number;
  /** The step part's drive (a compensation may command another one: `to`). */
  drive: string;
  /** Where the command goes. */
  to: string;
  attempt: number;
  comp: boolean;
  /** How long the line waits for its final answer, ms. */
  timeoutMs: number;
  commandId: string;
  /** Exactly what is published (without replyTo): a resend is this, byte for byte. */
  command: Command;
  /** The safe move for this step's part (null for a compensation or none). */
  compensate: { drive: string; action: DriveAction } | null;
}
export interface ResultRecord extends Head {
  t: 'result';
  cycle: number;
  step: number;
  drive: string;
  comp: boolean;
  commandId: string;
  status: 'completed' | 'rejected' | 'failed' | 'expired';
  error?: ContractError;
}
export interface BypassRecord extends Head {
  t: 'bypass';
  station: string;
  reason: string;
}
export interface RejoinRecord extends Head {
  t: 'rejoin';
  station: string;
}
export interface CompensateRecord extends Head {
  t: 'compensate';
  cycle: number;
  reason: string;
  /** The line's state once compensated. */
  after: LineStateName;
}
export interface EndRecord extends Head {
  t: 'end';
  cycle: number;
  outcome: 'completed' | 'compensated' | 'aborted';
  ms?: number;
  cyclesCompleted: number;
  compensations: number;
}

export type SagaRecord =
  | SnapshotRecord
  | StateRecord
  | CycleRecord
  | IntentRecord
  | ResultRecord
  | BypassRecord
  | RejoinRecord
  | CompensateRecord
  | EndRecord;

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A record as the controller writes it; the log adds v, seq and ts. */
export type NewRecord = DistributiveOmit<SagaRecord, 'v' | 'seq' | 'ts'>;

const TYPES = new Set([
  'snapshot',
  'state',
  'cycle',
  'intent',
  'result',
  'bypass',
  'rejoin',
  'compensate',
  'end',
]);

/** A parsed line that has the shape of a record (shallow: the log only reads its own writes). */
export function isRecord(x: unknown): x is SagaRecord {
  if (typeof x !== 'object' || x === null) return false;
  const r = x as Record<string, unknown>;
  return (
    r.v === SAGA_LOG_VERSION &&
    typeof r.seq === 'number' &&
    typeof r.ts === 'number' &&
    typeof r.t === 'string' &&
    TYPES.has(r.t)
  );
}
