/**
 * A link that keeps itself open: it opens its transport, and when the transport fails
 * to open or closes, opens it again after an exponential backoff with jitter
 * (default 250 ms doubling to 10 s, each delay drawn from [d/2, d)), on the injected
 * Clock. `up`/`down` say when bytes can flow; a write while down fails fast with
 * LINK_DOWN instead of vanishing. The backoff starts over once a connection has
 * carried data (a bridge that accepts and drops at once keeps backing off).
 */
import { type Clock, systemClock, type TimerHandle } from '../../../runtime/src/clock.ts';
import { BusError } from '../bus/errors.ts';
import type { Link } from './link.ts';
import { type OpenLinkOptions, openLink } from './open-link.ts';

export interface ReconnectingLinkOptions {
  clock?: Clock;
  /** First reopen delay, ms (default 250). */
  initialDelayMs?: number;
  /** Longest reopen delay, ms (default 10 000). */
  maxDelayMs?: number;
  /** Jitter source in [0, 1) (default Math.random). */
  random?: () => number;
  /** How to open a URL target. */
  open?: OpenLinkOptions;
}

type State = 'idle' | 'connecting' | 'up' | 'waiting' | 'closed';

export class ReconnectingLink {
  readonly #open: () => Promise<Link>;
  readonly #clock: Clock;
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #random: () => number;
  #state: State = 'idle';
  #link: Link | undefined;
  #timer: TimerHandle | undefined;
  #failures = 0;
  readonly #data: ((bytes: Uint8Array) => void)[] = [];
  readonly #up: (() => void)[] = [];
  readonly #down: ((reason: string) => void)[] = [];
  readonly #retry: ((err: unknown, delayMs: number) => void)[] = [];

  /** `target`: a transport URL (see `openLink`) or a function that opens a link. */
  constructor(target: string | (() => Promise<Link>), opts: ReconnectingLinkOptions = {}) {
    this.#clock = opts.clock ?? systemClock;
    this.#open =
      typeof target === 'string'
        ? () => openLink(target, { clock: this.#clock, ...opts.open })
        : target;
    this.#initialMs = opts.initialDelayMs ?? 250;
    this.#maxMs = Math.max(this.#initialMs, opts.maxDelayMs ?? 10_000);
    this.#random = opts.random ?? Math.random;
  }

  /** Opens the transport (once); later failures reopen it by themselves. */
  start(): void {
    if (this.#state === 'idle') this.#connect();
  }

  get up(): boolean {
    return this.#state === 'up';
  }

  /** Sends bytes; LINK_DOWN while the transport is not open. */
  write(bytes: Uint8Array): void {
    const link = this.#link;
    if (this.#state !== 'up' || link === undefined || link.closed) {
      throw new BusError('LINK_DOWN', 'the link is down');
    }
    link.write(bytes);
  }

  /** Stops reopening and closes the transport. No `down` is emitted. */
  close(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    if (this.#timer) this.#clock.clearTimer(this.#timer);
    const link = this.#link;
    this.#link = undefined;
    link?.close();
  }

  onData(listener: (bytes: Uint8Array) => void): void {
    this.#data.push(listener);
  }

  onUp(listener: () => void): void {
    this.#up.push(listener);
  }

  onDown(listener: (reason: string) => void): void {
    this.#down.push(listener);
  }

  /** An open attempt failed (or a connection dropped); the next one is in `delayMs`. */
  onRetry(listener: (err: unknown, delayMs: number) => void): void {
    this.#retry.push(listener);
  }

  #connect(): void {
    this.#state = 'connecting';
    this.#timer = undefined;
    Promise.resolve()
      .then(() => this.#open())
      .then(
        (link) => this.#attach(link),
        (err: unknown) => {
          if (this.#state === 'closed') return;
          this.#scheduleRetry(err);
        },
      );
  }

  #attach(link: Link): void {
    if (this.#state === 'closed') {
      link.close();
      return;
    }
    if (link.closed) {
      this.#scheduleRetry(new BusError('LINK_OPEN_FAILED', 'the link closed as it opened'));
      return;
    }
    this.#link = link;
    this.#state = 'up';
    link.onData((bytes) => {
      if (this.#link !== link) return;
      this.#failures = 0;
      for (const l of this.#data) l(bytes);
    });
    link.onClose(() => {
      if (this.#link !== link) return;
      this.#link = undefined;
      this.#state = 'waiting';
      const err = new BusError('LINK_DOWN', 'the connection closed');
      for (const l of this.#down) l(err.message);
      this.#scheduleRetry(err);
    });
    for (const l of this.#up) l();
  }

  #scheduleRetry(err: unknown): void {
    if (this.#state === 'closed') return;
    const d = Math.min(this.#maxMs, this.#initialMs * 2 ** Math.min(this.#failures, 30));
    this.#failures++;
    const delayMs = d / 2 + (this.#random() * d) / 2;
    this.#state = 'waiting';
    this.#timer = this.#clock.setTimer(delayMs, () => this.#connect());
    for (const l of this.#retry) l(err, delayMs);
  }
}
