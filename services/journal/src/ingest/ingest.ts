/**
 * From MQTT to disk, acknowledging (QoS 1 PUBACK) only what is durable.
 *
 * mqtt.js 5 handles an incoming QoS 1 PUBLISH like this (lib/handlers/publish.js):
 * emit 'message', call `client.handleMessage(packet, cb)`, and only in `cb` write the
 * PUBACK (`client._sendPacket({ cmd: 'puback', messageId })`) and move on to the next
 * packet. The journal replaces `handleMessage`, so no PUBACK can leave before it says
 * so. Two ways to say so:
 *
 * - `per-message` (public API only): `cb` runs after the event's own transaction has
 *   committed. mqtt.js handles one packet at a time, so every event pays its own
 *   fsync.
 * - `batched` (default): `handleMessage` adds the row to the open batch and calls `cb`
 *   at once, so mqtt.js parses the next packet; the PUBACK it then writes is held back
 *   (by wrapping `_sendPacket`, mqtt.js's one way out for it) in a FIFO queue. The
 *   batch commits at `setImmediate` — after every packet already read from the socket
 *   has been handled — or when it reaches `maxBatch`; only then are the held PUBACKs
 *   of that batch written, in the order their PUBLISHes came [MQTT-4.6.0-2]. A PUBACK
 *   held for a network connection that has since closed is dropped: the broker still
 *   holds the message in the journal's persistent session and delivers it again.
 *   When `_sendPacket` is not there (another mqtt.js), the journal falls back to
 *   `per-message`.
 *
 * A failed commit acknowledges nothing of its batch and closes the network connection
 * (the session stays), so the broker delivers those events again after the
 * reconnect; `eventId` makes the second delivery of an already stored event a no-op.
 * Messages that can never be stored (not JSON, no `eventId`…) are acknowledged in
 * turn: redelivering them would not help.
 */
import type { IPublishPacket, MqttClient } from 'mqtt';
import type { Topics } from '../../../contract/src/index.ts';
import type { Clock, Logger, Metrics } from '../../../runtime/src/index.ts';
import { JournalError } from '../errors.ts';
import type { AppendResult, EventStore } from '../store/event-store.ts';
import { type EventRow, toEventRow } from './event-row.ts';

export type AckMode = 'batched' | 'per-message';

export interface IngestOptions {
  client: MqttClient;
  topics: Topics;
  store: Pick<EventStore, 'append'>;
  clock: Clock;
  log: Logger;
  metrics?: Metrics;
  /** Default `batched`. */
  mode?: AckMode;
  /** Rows per transaction at most (default 1000). */
  maxBatch?: number;
}

export interface IngestStats {
  received: number;
  stored: number;
  duplicates: number;
  invalid: number;
  commits: number;
  failedCommits: number;
  /** PUBACKs written / dropped because their connection had closed. */
  acked: number;
  ackDropped: number;
}

export interface Ingest {
  readonly mode: AckMode;
  /** False after a failed commit, true again after the next good one. */
  readonly healthy: boolean;
  stats(): IngestStats;
  /** Commit what is pending now and release its acknowledgements. */
  flush(): void;
  /** Flush, then leave further messages unacknowledged (the broker keeps them). */
  stop(): void;
}

type SendPacket = (
  packet: { cmd: string; messageId?: number },
  cb?: (err?: Error) => void,
  cbStorePut?: unknown,
  noStore?: boolean,
) => void;

interface HeldAck {
  packet: { cmd: string; messageId?: number };
  stream: unknown;
}

export function startIngest(o: IngestOptions): Ingest {
  const { client, store, clock, log } = o;
  const maxBatch = o.maxBatch ?? 1000;
  const internals = client as unknown as { _sendPacket?: SendPacket };
  const sendPacket = internals._sendPacket;
  let mode: AckMode = o.mode ?? 'batched';
  if (mode === 'batched' && typeof sendPacket !== 'function') {
    log.warn('this mqtt.js has no _sendPacket: acknowledging one event per transaction');
    mode = 'per-message';
  }
  const m = o.metrics && {
    events: o.metrics.counter(
      'servofleet_journal_events_total',
      'events received, by outcome: stored, duplicate (eventId seen before), invalid',
      ['outcome'],
    ),
    commits: o.metrics.counter('servofleet_journal_commits_total', 'transactions, by result', [
      'result',
    ]),
    batch: o.metrics.histogram('servofleet_journal_batch_events', 'events per transaction', {
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
    }),
    commitSeconds: o.metrics.histogram(
      'servofleet_journal_commit_seconds',
      'time to write and fsync one transaction',
      { buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5] },
    ),
  };

  const s: IngestStats = {
    received: 0,
    stored: 0,
    duplicates: 0,
    invalid: 0,
    commits: 0,
    failedCommits: 0,
    acked: 0,
    ackDropped: 0,
  };
  let rows: EventRow[] = [];
  /** per-message mode: the handleMessage callbacks of the open batch. */
  let callbacks: ((err?: Error) => void)[] = [];
  /** batched mode: PUBACKs written by mqtt.js, waiting for their batch to commit. */
  let held: HeldAck[] = [];
  let scheduled = false;
  let stopped = false;
  let healthy = true;

  function schedule() {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      flush();
    });
  }

  function flush() {
    if (rows.length === 0 && held.length === 0 && callbacks.length === 0) return;
    const batch = rows;
    const acks = held;
    const cbs = callbacks;
    rows = [];
    held = [];
    callbacks = [];
    let r: AppendResult;
    if (batch.length > 0) {
      const t0 = clock.now();
      try {
        r = store.append(batch);
      } catch (cause) {
        s.failedCommits++;
        m?.commits.inc({ result: 'failed' });
        healthy = false;
        const err = new JournalError(
          'JOURNAL_DB_WRITE',
          `appending ${batch.length} events failed: ${cause instanceof Error ? cause.message : String(cause)}`,
          { cause },
        );
        log.error(
          { err, code: err.code, events: batch.length },
          'append failed: nothing acknowledged; reconnecting so that the broker delivers again',
        );
        s.ackDropped += acks.length;
        for (const cb of cbs) cb(err);
        // End the network connection, not the session: the broker keeps every
        // unacknowledged message and sends it again after the reconnect.
        client.stream?.destroy();
        return;
      }
      s.commits++;
      s.stored += r.inserted;
      s.duplicates += r.duplicates;
      healthy = true;
      m?.commits.inc({ result: 'ok' });
      m?.batch.observe(batch.length);
      m?.commitSeconds.observe((clock.now() - t0) / 1000);
      m?.events.inc({ outcome: 'stored' }, r.inserted);
      if (r.duplicates > 0) m?.events.inc({ outcome: 'duplicate' }, r.duplicates);
    }
    // Durable: now the acknowledgements may go, in order.
    for (const cb of cbs) cb();
    for (const a of acks) {
      if (client.connected && client.stream === a.stream && sendPacket) {
        sendPacket.call(client, a.packet);
        s.acked++;
      } else {
        s.ackDropped++;
      }
    }
  }

  if (mode === 'batched' && sendPacket) {
    internals._sendPacket = function heldPuback(packet, cb, cbStorePut, noStore) {
      if (packet.cmd !== 'puback') {
        sendPacket.call(client, packet, cb, cbStorePut, noStore);
        return;
      }
      if (!stopped) {
        held.push({ packet, stream: client.stream });
        schedule();
      }
      // Lets mqtt.js go on with the next packet; the PUBACK itself waits for the commit.
      cb?.();
    };
  }

  let invalidLogged = 0;
  client.handleMessage = (packet: IPublishPacket, cb: (err?: Error) => void) => {
    if (stopped) {
      cb(new Error('journal stopping'));
      return;
    }
    s.received++;
    const payload =
      typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    const res = toEventRow(o.topics, packet.topic, payload, clock.wallNow());
    if (!res.ok) {
      s.invalid++;
      m?.events.inc({ outcome: 'invalid' });
      // Bounded logging: the first few, then every 1000th.
      if (invalidLogged++ < 10 || s.invalid % 1000 === 0) {
        log.warn(
          { topic: packet.topic, reason: res.reason, invalid: s.invalid },
          'event not stored',
        );
      }
    } else {
      if (rows.length >= maxBatch) flush();
      rows.push(res.row);
    }
    if (mode === 'per-message') {
      callbacks.push(cb);
      schedule();
    } else {
      schedule();
      cb();
    }
  };

  return {
    mode,
    get healthy() {
      return healthy;
    },
    stats: () => ({ ...s }),
    flush,
    stop() {
      flush();
      stopped = true;
    },
  };
}
