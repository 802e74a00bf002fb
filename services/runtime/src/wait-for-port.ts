/**
 * Bounded waits for a TCP listener: `servofleet up` starts its broker and waits until
 * the port accepts connections before starting the parts that need it.
 */
import { connect } from 'node:net';
import { type Clock, systemClock } from './clock.ts';
import { RuntimeError } from './errors.ts';

/** True when something accepts a TCP connection on host:port within `timeoutMs`. */
export function probeTcpPort(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export interface WaitForPortOptions {
  host: string;
  port: number;
  timeoutMs: number;
  /** Pause between attempts (default 100 ms). */
  intervalMs?: number;
  /** Stops the wait early; the promise then rejects with the signal's reason. */
  signal?: AbortSignal;
  clock?: Clock;
}

/** Resolves once host:port accepts a connection; rejects with PORT_WAIT_TIMEOUT after `timeoutMs`. */
export async function waitForTcpPort(opts: WaitForPortOptions): Promise<void> {
  const clock = opts.clock ?? systemClock;
  const interval = opts.intervalMs ?? 100;
  const deadline = clock.now() + opts.timeoutMs;
  for (;;) {
    opts.signal?.throwIfAborted();
    const left = deadline - clock.now();
    if (await probeTcpPort(opts.host, opts.port, Math.max(1, Math.min(1000, left)))) return;
    opts.signal?.throwIfAborted();
    if (clock.now() + interval >= deadline) {
      throw new RuntimeError(
        'PORT_WAIT_TIMEOUT',
        `nothing accepted connections on ${opts.host}:${opts.port} within ${opts.timeoutMs} ms`,
      );
    }
    await new Promise<void>((resolve) => {
      const t = clock.setTimer(interval, done);
      function done() {
        opts.signal?.removeEventListener('abort', abort);
        resolve();
      }
      function abort() {
        clock.clearTimer(t);
        done();
      }
      opts.signal?.addEventListener('abort', abort, { once: true });
    });
  }
}
