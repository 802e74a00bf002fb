/**
 * An in-memory link pair: what one end writes, the other end receives, on a later
 * microtask (as a real transport would deliver it, never re-entrantly). One pair per
 * test; no global registry.
 */
import { type Link, LinkEvents } from './link.ts';

class MemoryLink implements Link {
  readonly events = new LinkEvents();
  peer: MemoryLink | undefined;

  get closed(): boolean {
    return this.events.closed;
  }

  write(bytes: Uint8Array): void {
    if (this.closed) return;
    const copy = bytes.slice();
    const peer = this.peer;
    queueMicrotask(() => peer?.events.emitData(copy));
  }

  close(): void {
    if (this.closed) return;
    const peer = this.peer;
    this.events.emitClose();
    queueMicrotask(() => peer?.close());
  }

  onData(listener: (bytes: Uint8Array) => void): void {
    this.events.onData(listener);
  }

  onClose(listener: () => void): void {
    this.events.onClose(listener);
  }
}

export function createMemoryLinkPair(): [Link, Link] {
  const a = new MemoryLink();
  const b = new MemoryLink();
  a.peer = b;
  b.peer = a;
  return [a, b];
}
