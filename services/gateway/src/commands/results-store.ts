/**
 * What the gateway knows about commands, for `GET /api/v1/commands/{commandId}`:
 * learnt from the replies to its own commands and from every drive's `command` events
 * (so a result is known here even when another gateway instance, or an MQTT client,
 * sent the command). Bounded: past `max` entries the oldest go first.
 */
import type { ReplyStatus } from '../../../contract/src/index.ts';

/** An error as the drives report it (`ErrorBodySchema`). */
export interface ErrorBody {
  code: string;
  message: string;
  path?: string;
}

export type CommandStatus = 'pending' | 'received' | ReplyStatus;
export const FINAL_STATUSES: ReadonlySet<CommandStatus> = new Set([
  'completed',
  'rejected',
  'failed',
  'expired',
]);

export interface CommandRecord {
  commandId: string;
  driveId: string;
  type: string | null;
  status: CommandStatus;
  final: boolean;
  /** Wall ms of the latest status. */
  ts: number;
  error?: ErrorBody;
}

const RANK: Record<CommandStatus, number> = {
  pending: 0,
  received: 1,
  accepted: 2,
  completed: 3,
  rejected: 3,
  failed: 3,
  expired: 3,
};

export class ResultsStore {
  readonly #max: number;
  readonly #map = new Map<string, CommandRecord>();

  constructor(max: number) {
    this.#max = max;
  }

  get size(): number {
    return this.#map.size;
  }

  get(commandId: string): CommandRecord | undefined {
    return this.#map.get(commandId);
  }

  /**
   * Record a status; a status never goes backwards (a late `received` event does not
   * undo a `completed` reply), and the first final result stays the result.
   */
  note(rec: Omit<CommandRecord, 'final'>): CommandRecord {
    const prev = this.#map.get(rec.commandId);
    if (prev && (prev.final || RANK[prev.status] >= RANK[rec.status])) {
      if (prev.type === null && rec.type !== null) prev.type = rec.type;
      return prev;
    }
    const next: CommandRecord = { ...rec, final: FINAL_STATUSES.has(rec.status) };
    if (prev) this.#map.delete(rec.commandId);
    this.#map.set(rec.commandId, next);
    while (this.#map.size > this.#max) {
      const oldest = this.#map.keys().next().value as string;
      this.#map.delete(oldest);
    }
    return next;
  }
}
