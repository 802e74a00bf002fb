/**
 * A local serial port (RS-232, RS-485 through a USB adapter) as a Link, with
 * serialport 13: 8 data bits, 1 stop bit, parity none/even/odd.
 */
import { SerialPort } from 'serialport';
import { BusError } from '../bus/errors.ts';
import { type Link, LinkEvents } from './link.ts';
import type { Parity } from './url.ts';

/** The part of serialport's `SerialPortStream` a serial link uses. */
export interface SerialPortLike {
  open(cb: (err: Error | null) => void): void;
  write(data: Buffer): unknown;
  close(cb?: (err: Error | null) => void): void;
  on(event: 'data', l: (chunk: Buffer) => void): unknown;
  on(event: 'close' | 'error', l: (err?: Error | null) => void): unknown;
  readonly isOpen: boolean;
}

export interface SerialPortSettings {
  path: string;
  baudRate: number;
  parity: Parity;
  dataBits: 8;
  stopBits: 1;
  autoOpen: false;
}

export interface SerialLinkOptions {
  baud: number;
  parity?: Parity;
  /** Builds the port (default: serialport's `SerialPort`; tests pass `SerialPortMock`). */
  createPort?: (settings: SerialPortSettings) => SerialPortLike;
}

class SerialLink implements Link {
  readonly #events = new LinkEvents();
  readonly #port: SerialPortLike;

  constructor(port: SerialPortLike) {
    this.#port = port;
    // serialport hands out views into its read pool: copy, the listener owns the bytes
    port.on('data', (chunk: Buffer) => this.#events.emitData(new Uint8Array(chunk)));
    port.on('close', () => this.#events.emitClose());
    port.on('error', () => this.close());
  }

  get closed(): boolean {
    return this.#events.closed;
  }

  write(bytes: Uint8Array): void {
    if (this.closed) return;
    this.#port.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }

  close(): void {
    if (this.closed) return;
    if (this.#port.isOpen) this.#port.close(() => this.#events.emitClose());
    else this.#events.emitClose();
  }

  onData(listener: (bytes: Uint8Array) => void): void {
    this.#events.onData(listener);
  }

  onClose(listener: () => void): void {
    this.#events.onClose(listener);
  }
}

/** Opens `path`; LINK_OPEN_FAILED when the port cannot be opened. */
export async function openSerialLink(path: string, opts: SerialLinkOptions): Promise<Link> {
  const settings: SerialPortSettings = {
    path,
    baudRate: opts.baud,
    parity: opts.parity ?? 'none',
    dataBits: 8,
    stopBits: 1,
    autoOpen: false,
  };
  const port = (opts.createPort ?? ((s) => new SerialPort(s)))(settings);
  await new Promise<void>((resolve, reject) => {
    port.open((err) => {
      if (err) {
        reject(
          new BusError('LINK_OPEN_FAILED', `cannot open serial port ${path}: ${err.message}`, {
            cause: err,
          }),
        );
      } else resolve();
    });
  });
  return new SerialLink(port);
}
