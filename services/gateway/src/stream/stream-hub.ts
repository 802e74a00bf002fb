/**
 * The live stream behind `GET /api/v1/stream`: every state, availability and event
 * message becomes one Server-Sent Event, serialised once, kept in a bounded ring for
 * `Last-Event-ID` resume, and written to each client whose filter takes it.
 *
 * Event ids are `<boot>-<seq>`: `boot` changes with every gateway start, so an id
 * from another run (or one that fell out of the ring) cannot be resumed silently —
 * the client gets an `event: reset` and should reload its snapshot.
 *
 * SSE framing: WHATWG HTML §9.2 "Server-sent events" (fields `id`, `event`, `data`,
 * `retry`; a line starting with `:` is a comment, used as heartbeat).
 */
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Clock, TimerHandle } from '../../../runtime/src/index.ts';

export const STREAM_TYPES = ['state', 'availability', 'events'] as const;
export type StreamType = (typeof STREAM_TYPES)[number];

export interface StreamItem {
  readonly seq: number;
  readonly id: string;
  readonly type: StreamType;
  readonly driveId: string;
  /** The SSE frame, ready to write (made on first use: most items are never sent). */
  readonly frame: string;
}

class Item implements StreamItem {
  #frame: string | undefined;
  #data: unknown;
  constructor(
    readonly seq: number,
    readonly id: string,
    readonly type: StreamType,
    readonly driveId: string,
    data: unknown,
  ) {
    this.#data = data;
  }

  get frame(): string {
    if (this.#frame === undefined) {
      this.#frame = `id: ${this.id}\nevent: ${this.type}\ndata: ${JSON.stringify(this.#data)}\n\n`;
      this.#data = undefined;
    }
    return this.#frame;
  }
}

export interface StreamFilter {
  drives?: ReadonlySet<string>;
  types?: ReadonlySet<StreamType>;
}

interface Client {
  res: ServerResponse;
  filter: StreamFilter;
}

export interface StreamHubOptions {
  bufferSize: number;
  heartbeatMs: number;
  maxBufferedBytes: number;
  clock: Clock;
  onDrop?: (reason: string) => void;
}

export class StreamHub {
  readonly boot = randomBytes(4).toString('hex');
  readonly #o: StreamHubOptions;
  readonly #ring: (StreamItem | undefined)[];
  #seq = 0;
  readonly #clients = new Set<Client>();
  #heartbeat: TimerHandle | undefined;

  constructor(o: StreamHubOptions) {
    this.#o = o;
    this.#ring = new Array(o.bufferSize);
  }

  get clients(): number {
    return this.#clients.size;
  }

  get lastSeq(): number {
    return this.#seq;
  }

  publish(type: StreamType, driveId: string, data: unknown): StreamItem {
    const seq = ++this.#seq;
    const item = new Item(seq, `${this.boot}-${seq}`, type, driveId, data);
    this.#ring[seq % this.#ring.length] = item;
    for (const c of this.#clients) if (matches(c.filter, item)) this.#write(c, item.frame);
    return item;
  }

  /**
   * Items after `lastEventId` that pass the filter, or `reset` when that id cannot be
   * resumed (another run, or older than the ring holds).
   */
  since(lastEventId: string, filter: StreamFilter): { reset: boolean; items: StreamItem[] } {
    const m = /^([0-9a-f]+)-(\d+)$/.exec(lastEventId.trim());
    if (!m || m[1] !== this.boot) return { reset: true, items: [] };
    const last = Number(m[2]);
    if (last > this.#seq) return { reset: true, items: [] };
    const oldest = Math.max(1, this.#seq - this.#ring.length + 1);
    if (last + 1 < oldest) return { reset: true, items: [] };
    const items: StreamItem[] = [];
    for (let s = last + 1; s <= this.#seq; s++) {
      const it = this.#ring[s % this.#ring.length];
      if (it && it.seq === s && matches(filter, it)) items.push(it);
    }
    return { reset: false, items };
  }

  /** Takes over an HTTP response that already has its SSE headers written. */
  attach(res: ServerResponse, filter: StreamFilter): () => void {
    const c: Client = { res, filter };
    this.#clients.add(c);
    if (this.#clients.size === 1) this.#scheduleHeartbeat();
    const detach = () => {
      this.#clients.delete(c);
      if (this.#clients.size === 0 && this.#heartbeat) {
        this.#o.clock.clearTimer(this.#heartbeat);
        this.#heartbeat = undefined;
      }
    };
    res.once('close', detach);
    return detach;
  }

  /** Ends every stream (shutdown). */
  closeAll(): void {
    for (const c of this.#clients) c.res.end();
    this.#clients.clear();
    if (this.#heartbeat) this.#o.clock.clearTimer(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  #write(c: Client, frame: string): void {
    const res = c.res;
    if (res.writableEnded || res.destroyed) return;
    // A client that does not read is dropped rather than buffered without bound; it
    // reconnects with Last-Event-ID and catches up from the ring.
    if (res.writableLength > this.#o.maxBufferedBytes) {
      this.#clients.delete(c);
      this.#o.onDrop?.('slow client');
      res.destroy();
      return;
    }
    res.write(frame);
  }

  #scheduleHeartbeat(): void {
    this.#heartbeat = this.#o.clock.setTimer(this.#o.heartbeatMs, () => {
      const frame = `: heartbeat ${this.#o.clock.wallNow()}\n\n`;
      for (const c of this.#clients) this.#write(c, frame);
      if (this.#clients.size > 0) this.#scheduleHeartbeat();
      else this.#heartbeat = undefined;
    });
  }
}

function matches(f: StreamFilter, it: StreamItem): boolean {
  return (!f.types || f.types.has(it.type)) && (!f.drives || f.drives.has(it.driveId));
}
