/**
 * The journal's SQLite store: one append-only `events` table, idempotent on `eventId`.
 *
 * Durability: WAL with `synchronous=FULL`, so a COMMIT returns only after the WAL is
 * fsync'd (SQLite "PRAGMA synchronous": FULL syncs the WAL at every transaction
 * commit in WAL mode). `append` writes a whole batch in one IMMEDIATE transaction:
 * when it returns, every row of it is on disk; when it throws, none is.
 *
 * Order: `seq` (the rowid, AUTOINCREMENT so it never goes back after deletes) is the
 * arrival order; queries return events by their own `ts`, ties by `seq`. The index
 * on (ts) is an index on (ts, rowid), which is exactly that order.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { JournalError } from '../errors.ts';
import type { EventRow } from '../ingest/event-row.ts';
import { type Database, openDatabase, type Statement } from './sqlite.ts';

const SCHEMA_VERSION = 1;

const DDL = `
CREATE TABLE IF NOT EXISTS events (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id   TEXT    NOT NULL UNIQUE,
  ts         INTEGER NOT NULL,
  drive_id   TEXT,
  line_id    TEXT,
  type       TEXT    NOT NULL,
  phase      TEXT,
  topic      TEXT    NOT NULL,
  json       TEXT    NOT NULL,
  arrived    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS events_ts      ON events (ts);
CREATE INDEX IF NOT EXISTS events_drive   ON events (drive_id, ts) WHERE drive_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_line    ON events (line_id, ts) WHERE line_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_type    ON events (type, ts);
CREATE INDEX IF NOT EXISTS events_arrived ON events (arrived);
-- The commands each event is about: a drive's command event has one, a line's step or
-- estop event several. Deleted with their event (foreign_keys = ON).
CREATE TABLE IF NOT EXISTS event_commands (
  command_id TEXT    NOT NULL,
  seq        INTEGER NOT NULL REFERENCES events (seq) ON DELETE CASCADE,
  PRIMARY KEY (command_id, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS event_commands_seq ON event_commands (seq);
`;

/** A stored event as queries return it: its position and its JSON text. */
export interface StoredEvent {
  seq: number;
  ts: number;
  json: string;
}

export interface CommandEvent extends StoredEvent {
  type: string;
  driveId: string | null;
  lineId: string | null;
  phase: string | null;
}

/** Filters of a query; every given one must match. Times in ms since the epoch. */
export interface EventFilter {
  drive?: string;
  line?: string;
  /** Any of these types. */
  types?: readonly string[];
  commandId?: string;
  /** ts ≥ from. */
  from?: number;
  /** ts < to. */
  to?: number;
}

export interface EventQuery extends EventFilter {
  limit: number;
  order: 'asc' | 'desc';
  /** Resume after this position (exclusive), in the query's order. */
  after?: { ts: number; seq: number };
}

export interface EventPage {
  events: StoredEvent[];
  /** More events match after the last one returned. */
  more: boolean;
}

export interface AppendResult {
  inserted: number;
  duplicates: number;
}

export interface PruneLimits {
  /** Delete events that arrived before this (ms since the epoch). */
  arrivedBefore?: number;
  /** Keep at most this many events (the newest by arrival). */
  maxRows?: number;
  /** Rows deleted per statement (default 5000), so a prune never blocks for long. */
  chunk?: number;
}

export interface EventStore {
  readonly path: string;
  /** One transaction; durable when it returns; INSERT OR IGNORE on `eventId`. */
  append(rows: readonly EventRow[]): AppendResult;
  query(q: EventQuery): EventPage;
  /** Every event of one command, in order (bounded by `limit`, default 1000). */
  commandHistory(commandId: string, limit?: number): CommandEvent[];
  /** Deletes at most one chunk; returns how many rows went (0 once within limits). */
  pruneChunk(limits: PruneLimits): number;
  /** Rows in the table (tracked, not counted on every call). */
  rowCount(): number;
  /** The database file plus its WAL, bytes. */
  sizeBytes(): number;
  close(): void;
}

export function openEventStore(path: string): EventStore {
  let db: Database;
  try {
    if (path !== ':memory:' && !existsSync(dirname(path))) {
      mkdirSync(dirname(path), { recursive: true });
    }
    db = openDatabase(path);
  } catch (cause) {
    throw new JournalError(
      'JOURNAL_DB_OPEN',
      `cannot open journal database ${path}: ${msg(cause)}`,
      {
        cause,
      },
    );
  }
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new Error(`schema version ${version} is newer than this journal's (${SCHEMA_VERSION})`);
    }
    db.exec(DDL);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  } catch (cause) {
    db.close();
    throw new JournalError(
      'JOURNAL_DB_OPEN',
      `cannot use journal database ${path}: ${msg(cause)}`,
      {
        cause,
      },
    );
  }
  return new SqliteEventStore(db, path);
}

type InsertParams = [
  string,
  number,
  string | null,
  string | null,
  string,
  string | null,
  string,
  string,
  number,
];

class SqliteEventStore implements EventStore {
  readonly #db: Database;
  readonly path: string;
  readonly #insert: Statement<InsertParams>;
  readonly #link: Statement<[string, number | bigint]>;
  readonly #appendTx: (rows: readonly EventRow[]) => AppendResult;
  readonly #statements = new Map<string, Statement>();
  #rows: number;

  constructor(db: Database, path: string) {
    this.#db = db;
    this.path = path;
    this.#insert = db.prepare<InsertParams>(
      `INSERT OR IGNORE INTO events
         (event_id, ts, drive_id, line_id, type, phase, topic, json, arrived)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#link = db.prepare('INSERT OR IGNORE INTO event_commands (command_id, seq) VALUES (?, ?)');
    const tx = db.transaction((rows: readonly EventRow[]) => {
      let inserted = 0;
      for (const r of rows) {
        const res = this.#insert.run(
          r.eventId,
          r.ts,
          r.driveId,
          r.lineId,
          r.type,
          r.phase,
          r.topic,
          r.json,
          r.arrived,
        );
        if (res.changes === 0) continue; // seen before: nothing to link either
        inserted++;
        for (const id of r.commandIds) this.#link.run(id, res.lastInsertRowid);
      }
      return { inserted, duplicates: rows.length - inserted };
    });
    this.#appendTx = (rows) => tx.immediate(rows);
    this.#rows = (db.prepare<[], { n: number }>('SELECT count(*) AS n FROM events').get()?.n ??
      0) as number;
  }

  #stmt<P extends unknown[], R>(sql: string): Statement<P, R> {
    let s = this.#statements.get(sql);
    if (!s) {
      s = this.#db.prepare(sql);
      this.#statements.set(sql, s);
    }
    return s as unknown as Statement<P, R>;
  }

  append(rows: readonly EventRow[]): AppendResult {
    if (rows.length === 0) return { inserted: 0, duplicates: 0 };
    const r = this.#appendTx(rows);
    this.#rows += r.inserted;
    return r;
  }

  query(q: EventQuery): EventPage {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.drive !== undefined) {
      where.push('drive_id = ?');
      params.push(q.drive);
    }
    if (q.line !== undefined) {
      where.push('line_id = ?');
      params.push(q.line);
    }
    if (q.types !== undefined && q.types.length > 0) {
      where.push(`type IN (${q.types.map(() => '?').join(', ')})`);
      params.push(...q.types);
    }
    if (q.commandId !== undefined) {
      where.push('seq IN (SELECT seq FROM event_commands WHERE command_id = ?)');
      params.push(q.commandId);
    }
    if (q.from !== undefined) {
      where.push('ts >= ?');
      params.push(q.from);
    }
    if (q.to !== undefined) {
      where.push('ts < ?');
      params.push(q.to);
    }
    const desc = q.order === 'desc';
    if (q.after) {
      // SQLite row values (3.15+): lexicographic comparison of (ts, seq).
      where.push(desc ? '(ts, seq) < (?, ?)' : '(ts, seq) > (?, ?)');
      params.push(q.after.ts, q.after.seq);
    }
    const dir = desc ? 'DESC' : 'ASC';
    const sql = `SELECT seq, ts, json FROM events${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ts ${dir}, seq ${dir} LIMIT ?`;
    params.push(q.limit + 1);
    const rows = this.#stmt<unknown[], StoredEvent>(sql).all(...params);
    const more = rows.length > q.limit;
    if (more) rows.length = q.limit;
    return { events: rows, more };
  }

  commandHistory(commandId: string, limit = 1000): CommandEvent[] {
    return this.#stmt<[string, number], CommandEvent>(
      `SELECT e.seq, e.ts, e.json, e.type, e.drive_id AS driveId, e.line_id AS lineId, e.phase
         FROM event_commands c JOIN events e ON e.seq = c.seq
        WHERE c.command_id = ? ORDER BY e.ts, e.seq LIMIT ?`,
    ).all(commandId, limit);
  }

  pruneChunk(limits: PruneLimits): number {
    const chunk = limits.chunk ?? 5000;
    let deleted = 0;
    if (limits.arrivedBefore !== undefined) {
      deleted += this.#stmt<[number, number], never>(
        `DELETE FROM events WHERE seq IN
           (SELECT seq FROM events WHERE arrived < ? ORDER BY arrived LIMIT ?)`,
      ).run(limits.arrivedBefore, chunk).changes;
    }
    const left = chunk - deleted;
    if (limits.maxRows !== undefined && left > 0 && this.#rows - deleted > limits.maxRows) {
      const excess = Math.min(left, this.#rows - deleted - limits.maxRows);
      deleted += this.#stmt<[number], never>(
        'DELETE FROM events WHERE seq IN (SELECT seq FROM events ORDER BY seq LIMIT ?)',
      ).run(excess).changes;
    }
    this.#rows -= deleted;
    return deleted;
  }

  rowCount(): number {
    return this.#rows;
  }

  sizeBytes(): number {
    let n = 0;
    for (const f of [this.path, `${this.path}-wal`]) {
      try {
        n += statSync(f).size;
      } catch {
        // no WAL right after a checkpoint, or an in-memory database
      }
    }
    return n;
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}

function msg(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
