/**
 * Serves a simulated serial line on a pseudo-terminal pair made by socat: the
 * simulator opens one end with `serialport`, a master (our device service, or any
 * Modbus tool) opens the other, `path`, exactly like a USB RS-485 adapter. A
 * disconnect fault ends socat (the master's port closes, as on a USB unplug) and
 * makes the pair again when it ends.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { SerialPort } from 'serialport';
import { type Link, LinkEvents } from './link.ts';

class SerialPortLink implements Link {
  readonly #events = new LinkEvents();
  readonly #port: SerialPort;

  constructor(port: SerialPort) {
    this.#port = port;
    port.on('data', (chunk: Buffer) => this.#events.emitData(new Uint8Array(chunk)));
    port.on('close', () => this.#events.emitClose());
    port.on('error', () => {
      if (port.isOpen) port.close();
      else this.#events.emitClose();
    });
  }

  get closed(): boolean {
    return this.#events.closed;
  }

  write(bytes: Uint8Array): void {
    if (!this.closed && this.#port.isOpen) this.#port.write(Buffer.from(bytes));
  }

  close(): void {
    if (this.#port.isOpen) this.#port.close();
    else this.#events.emitClose();
  }

  onData(listener: (bytes: Uint8Array) => void): void {
    this.#events.onData(listener);
  }

  onClose(listener: () => void): void {
    this.#events.onClose(listener);
  }
}

export interface PtyLinkOptions {
  /** Path the master opens (a symlink to the PTY socat makes). */
  path: string;
  baud: number;
  /** socat executable (default `socat` on the PATH). */
  socat?: string;
}

export class PtyLinkServer {
  readonly path: string;
  readonly #simPath: string;
  readonly #opts: PtyLinkOptions;
  readonly #onLink: (link: Link) => void;
  #socat: ChildProcess | undefined;
  #link: SerialPortLink | undefined;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(opts: PtyLinkOptions, onLink: (link: Link) => void) {
    this.#opts = opts;
    this.path = opts.path;
    this.#simPath = `${opts.path}.sim`;
    this.#onLink = onLink;
  }

  get address(): string {
    return `pty://${this.path}`;
  }

  get connected(): boolean {
    return this.#link !== undefined && !this.#link.closed;
  }

  async listen(): Promise<{ path: string }> {
    await this.#start();
    return { path: this.path };
  }

  async #start(): Promise<void> {
    const socat = spawn(
      this.#opts.socat ?? 'socat',
      [`pty,raw,echo=0,link=${this.#simPath}`, `pty,raw,echo=0,link=${this.path}`],
      { stdio: 'ignore' },
    );
    this.#socat = socat;
    const failed = new Promise<never>((_, reject) => {
      socat.once('error', (err) => reject(new Error(`cannot start socat: ${err.message}`)));
    });
    // socat creates both links within a few ms; wait for them (bounded: 5 s).
    const ready = (async () => {
      for (let i = 0; i < 500; i++) {
        if (existsSync(this.#simPath) && existsSync(this.path)) return;
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error(`socat did not create ${this.path} within 5 s`);
    })();
    await Promise.race([ready, failed]);
    const port = new SerialPort({
      path: this.#simPath,
      baudRate: this.#opts.baud,
      autoOpen: false,
    });
    await new Promise<void>((resolve, reject) =>
      port.open((err) => (err ? reject(err) : resolve())),
    );
    const link = new SerialPortLink(port);
    this.#link = link;
    this.#onLink(link);
  }

  /** Unplug: end socat for `ms`, then make the pair again. */
  disconnect(ms: number): void {
    this.#link?.close();
    this.#socat?.kill();
    this.#socat = undefined;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      if (!this.#closed) this.#start().catch(() => {});
    }, ms);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#link?.close();
    const socat = this.#socat;
    this.#socat = undefined;
    if (socat && socat.exitCode === null) {
      await new Promise<void>((resolve) => {
        socat.once('exit', () => resolve());
        socat.kill();
      });
    }
  }
}
