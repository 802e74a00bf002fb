/**
 * A link is a byte pipe to the other end of a serial line: RS-485 through a USB
 * adapter, a raw TCP serial bridge, or an in-memory pair in tests (STYLE.md §4, after
 * serialport's BindingInterface). The same shape as device-sim's links, so a
 * simulator's `connect()` plugs in directly; defined here because the device service
 * never imports device-sim. Bytes handed to `onData` listeners are owned by the
 * listener (never reused by the link).
 */
export interface Link {
  write(bytes: Uint8Array): void;
  close(): void;
  onData(listener: (bytes: Uint8Array) => void): void;
  onClose(listener: () => void): void;
  readonly closed: boolean;
}

/** Listener plumbing shared by the link implementations. */
export class LinkEvents {
  #data: ((bytes: Uint8Array) => void)[] = [];
  #close: (() => void)[] = [];
  #closed = false;

  get closed(): boolean {
    return this.#closed;
  }

  onData(listener: (bytes: Uint8Array) => void): void {
    this.#data.push(listener);
  }

  onClose(listener: () => void): void {
    if (this.#closed) listener();
    else this.#close.push(listener);
  }

  emitData(bytes: Uint8Array): void {
    if (this.#closed) return;
    for (const l of this.#data) l(bytes);
  }

  emitClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    const ls = this.#close;
    this.#close = [];
    this.#data = [];
    for (const l of ls) l();
  }
}
