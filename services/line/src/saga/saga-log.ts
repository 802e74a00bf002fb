/**
 * The durable saga log: a JSON-lines file, appended one record at a time with
 * write + fdatasync before `append` returns, so that a step's intent is on disk before
 * its command is published. Synchronous on purpose: the order "intent durable, then
 * publish" must not depend on the event loop, and one record is a few hundred bytes.
 *
 * Reading after a crash: a torn last line (the write that kill -9 interrupted) is
 * dropped; any other line that is not a record is skipped and counted
 * (SAGA_LOG_CORRUPT). Compaction (at a cycle boundary, when the file has grown past
 * `compactAfter` records) writes a snapshot record to a temporary file, fsyncs it,
 * renames it over the log and fsyncs the directory: at every moment either the old
 * or the new file is complete.
 */
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { LineError } from '../errors.ts';
import { isRecord, type NewRecord, SAGA_LOG_VERSION, type SagaRecord } from './records.ts';

export interface SagaLogRead {
  records: SagaRecord[];
  /** Lines that were not records (the torn last line excluded). */
  corrupt: { line: number; text: string }[];
  /** A torn last line was dropped. */
  tornTail: boolean;
}

export interface SagaLogOptions {
  /** Wall clock for `ts` (ms since the epoch). */
  wallNow: () => number;
  /** Compact at the next boundary once the file holds this many records (default 5000). */
  compactAfter?: number;
}

export class SagaLog {
  readonly path: string;
  readonly #o: SagaLogOptions;
  #fd: number;
  #seq: number;
  #count: number;

  private constructor(path: string, fd: number, lastSeq: number, count: number, o: SagaLogOptions) {
    this.path = path;
    this.#fd = fd;
    this.#seq = lastSeq;
    this.#count = count;
    this.#o = o;
  }

  /** Open (creating it and its directory if needed) and read what is there. */
  static open(path: string, o: SagaLogOptions): { log: SagaLog; read: SagaLogRead } {
    let read: SagaLogRead;
    try {
      mkdirSync(dirname(path), { recursive: true });
      const existed = existsSync(path);
      const text = existed ? readFileSync(path, 'utf8') : '';
      read = parseLog(text);
      const fd = openSync(path, 'a');
      if (!existed) fsyncDir(dirname(path));
      const last = read.records.at(-1)?.seq ?? 0;
      const log = new SagaLog(path, fd, last, read.records.length, o);
      // A torn tail stays in the file as garbage before the next record: end it with a
      // newline so the next record starts on its own line.
      if (text.length > 0 && !text.endsWith('\n')) log.#write('\n');
      return { log, read };
    } catch (cause) {
      if (cause instanceof LineError) throw cause;
      throw new LineError('SAGA_LOG_IO', `saga log ${path}: ${(cause as Error).message}`, {
        cause,
      });
    }
  }

  get records(): number {
    return this.#count;
  }

  get needsCompaction(): boolean {
    return this.#count >= (this.#o.compactAfter ?? 5000);
  }

  /** Append one record and make it durable; returns it with v, seq and ts. */
  append(rec: NewRecord): SagaRecord {
    const full = {
      v: SAGA_LOG_VERSION,
      seq: this.#seq + 1,
      ts: this.#o.wallNow(),
      ...rec,
    } as SagaRecord;
    this.#write(`${JSON.stringify(full)}\n`);
    this.#seq = full.seq;
    this.#count++;
    return full;
  }

  /** Replace the file by `records` (a snapshot, plus an open cycle's records if any). */
  compact(records: NewRecord[]): void {
    const tmp = `${this.path}.tmp`;
    try {
      let seq = this.#seq;
      const text = records
        .map((r) =>
          JSON.stringify({ v: SAGA_LOG_VERSION, seq: ++seq, ts: this.#o.wallNow(), ...r }),
        )
        .join('\n');
      const fd = openSync(tmp, 'w');
      try {
        writeSync(fd, `${text}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.path);
      fsyncDir(dirname(this.path));
      closeSync(this.#fd);
      this.#fd = openSync(this.path, 'a');
      this.#seq = seq;
      this.#count = records.length;
    } catch (cause) {
      throw new LineError('SAGA_LOG_IO', `compacting ${this.path}: ${(cause as Error).message}`, {
        cause,
      });
    }
  }

  close(): void {
    if (this.#fd < 0) return;
    closeSync(this.#fd);
    this.#fd = -1;
  }

  #write(text: string): void {
    try {
      writeSync(this.#fd, text);
      fdatasyncSync(this.#fd);
    } catch (cause) {
      throw new LineError('SAGA_LOG_IO', `writing ${this.path}: ${(cause as Error).message}`, {
        cause,
      });
    }
  }
}

/** The records of a log file's text. Pure. */
export function parseLog(text: string): SagaLogRead {
  const lines = text.split('\n');
  // The text ends with '\n' when the last write completed: the final element is ''.
  const tail = lines.pop() ?? '';
  const out: SagaLogRead = { records: [], corrupt: [], tornTail: tail.length > 0 };
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      value = undefined;
    }
    if (isRecord(value)) out.records.push(value);
    else out.corrupt.push({ line: i + 1, text: line.slice(0, 200) });
  });
  if (out.tornTail) {
    // A complete record without its newline is still a record (the newline is written with it,
    // so this only happens if the file was edited); keep it.
    try {
      const value: unknown = JSON.parse(tail);
      if (isRecord(value)) {
        out.records.push(value);
        out.tornTail = false;
      }
    } catch {
      // torn: dropped
    }
  }
  return out;
}

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some file systems do not fsync directories; the rename is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
