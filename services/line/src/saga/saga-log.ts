/**
 * The durable saga log: a JSON-lines file. `append` assigns the record its `seq` at
 * once and returns a promise that resolves when the record is on disk (written and
 * fdatasync'ed): a step's intent is awaited before its command is published. Records
 * reach the file in `append` order; those appended while a sync is in flight are
 * written and synced together (group commit), and the event loop is never blocked by
 * a sync — an estop is handled while the disk works (a sync can take over 100 ms).
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
  fdatasync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  write,
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

interface Waiting {
  text: string;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class SagaLog {
  readonly path: string;
  readonly #o: SagaLogOptions;
  #fd: number;
  #seq: number;
  #count: number;
  /** Records appended, not yet handed to the disk. */
  #queue: Waiting[] = [];
  #flushing: Promise<void> | undefined;
  #failed: Error | undefined;

  private constructor(path: string, fd: number, lastSeq: number, count: number, o: SagaLogOptions) {
    this.path = path;
    this.#fd = fd;
    this.#seq = lastSeq;
    this.#count = count;
    this.#o = o;
  }

  /** Open (creating it and its directory if needed) and read what is there. */
  static open(path: string, o: SagaLogOptions): { log: SagaLog; read: SagaLogRead } {
    try {
      mkdirSync(dirname(path), { recursive: true });
      const existed = existsSync(path);
      const text = existed ? readFileSync(path, 'utf8') : '';
      const read = parseLog(text);
      const fd = openSync(path, 'a');
      if (!existed) fsyncDir(dirname(path));
      // A torn tail stays in the file as garbage before the next record: end it with a
      // newline so the next record starts on its own line.
      if (text.length > 0 && !text.endsWith('\n')) writeSync(fd, '\n');
      const last = read.records.at(-1)?.seq ?? 0;
      return { log: new SagaLog(path, fd, last, read.records.length, o), read };
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

  /**
   * Append one record: it gets its seq and ts now; `durable` resolves once it is on
   * disk, and rejects with SAGA_LOG_IO if it cannot be (then every later one does too).
   */
  append(rec: NewRecord): { record: SagaRecord; durable: Promise<void> } {
    const record = {
      v: SAGA_LOG_VERSION,
      seq: this.#seq + 1,
      ts: this.#o.wallNow(),
      ...rec,
    } as SagaRecord;
    this.#seq = record.seq;
    this.#count++;
    const durable = new Promise<void>((resolve, reject) => {
      if (this.#failed) return reject(this.#failed);
      this.#queue.push({ text: `${JSON.stringify(record)}\n`, resolve, reject });
      this.#flushing ??= this.#flush();
    });
    return { record, durable };
  }

  /** Resolves when everything appended so far is on disk. */
  async drain(): Promise<void> {
    while (this.#flushing) await this.#flushing;
    if (this.#failed) throw this.#failed;
  }

  /** Replace the file by `records` (a snapshot), once everything appended is on disk. */
  async compact(records: NewRecord[]): Promise<void> {
    await this.drain();
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

  async close(): Promise<void> {
    await this.drain().catch(() => {});
    if (this.#fd < 0) return;
    closeSync(this.#fd);
    this.#fd = -1;
  }

  /** Write and sync what waits, in batches, until nothing does. */
  async #flush(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0);
      try {
        await writeAll(this.#fd, batch.map((w) => w.text).join(''));
        await new Promise<void>((res, rej) => fdatasync(this.#fd, (e) => (e ? rej(e) : res())));
        for (const w of batch) w.resolve();
      } catch (cause) {
        this.#failed = new LineError(
          'SAGA_LOG_IO',
          `writing ${this.path}: ${(cause as Error).message}`,
          {
            cause,
          },
        );
        for (const w of [...batch, ...this.#queue.splice(0)]) w.reject(this.#failed);
      }
    }
    this.#flushing = undefined;
  }
}

function writeAll(fd: number, text: string): Promise<void> {
  const buf = Buffer.from(text, 'utf8');
  return new Promise((resolve, reject) => {
    const step = (offset: number) =>
      write(fd, buf, offset, buf.length - offset, null, (err, n) => {
        if (err) return reject(err);
        if (offset + n < buf.length) step(offset + n);
        else resolve();
      });
    step(0);
  });
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
