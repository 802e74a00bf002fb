/**
 * A raw TCP serial bridge (ser2net, Moxa NPort in TCP server mode) as a Link: the
 * serial bytes as they are, no framing. Nagle is off (a request must leave at once) and
 * TCP keep-alive is on, so a bridge that vanished is noticed even on an idle bus.
 */
import { createConnection, type Socket } from 'node:net';
import { type Clock, systemClock } from '../../../runtime/src/clock.ts';
import { BusError } from '../bus/errors.ts';
import { type Link, LinkEvents } from './link.ts';

export interface TcpLinkOptions {
  /** Give up connecting after this long (default 3000 ms). */
  connectTimeoutMs?: number;
  clock?: Clock;
}

class SocketLink implements Link {
  readonly #events = new LinkEvents();
  readonly #socket: Socket;

  constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => this.#events.emitData(new Uint8Array(chunk)));
    socket.on('close', () => this.#events.emitClose());
    socket.on('error', () => socket.destroy());
  }

  get closed(): boolean {
    return this.#events.closed;
  }

  write(bytes: Uint8Array): void {
    if (!this.closed && this.#socket.writable) this.#socket.write(bytes);
  }

  close(): void {
    this.#socket.destroy();
  }

  onData(listener: (bytes: Uint8Array) => void): void {
    this.#events.onData(listener);
  }

  onClose(listener: () => void): void {
    this.#events.onClose(listener);
  }
}

/** Connects to `host:port`; LINK_OPEN_FAILED when refused, unreachable or too slow. */
export function openTcpLink(host: string, port: number, opts: TcpLinkOptions = {}): Promise<Link> {
  const clock = opts.clock ?? systemClock;
  const timeoutMs = opts.connectTimeoutMs ?? 3000;
  return new Promise<Link>((resolve, reject) => {
    const socket = createConnection({ host, port });
    const fail = (why: string, cause?: unknown) => {
      clock.clearTimer(timer);
      socket.destroy();
      reject(
        new BusError('LINK_OPEN_FAILED', `cannot connect to tcp://${host}:${port}: ${why}`, {
          cause,
        }),
      );
    };
    const timer = clock.setTimer(timeoutMs, () => fail(`no connection in ${timeoutMs} ms`));
    socket.once('error', (err) => fail(err.message, err));
    socket.once('connect', () => {
      clock.clearTimer(timer);
      socket.removeAllListeners('error');
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 5000);
      resolve(new SocketLink(socket));
    });
  });
}
