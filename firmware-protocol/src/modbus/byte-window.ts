/**
 * A preallocated byte buffer holding a framer's leftover bytes in `bytes[head, tail)`.
 * Appending copies into it (compacting first): no per-chunk concatenation, no growth.
 */
export class ByteWindow {
  readonly bytes: Uint8Array;
  head = 0;
  tail = 0;

  constructor(capacity: number) {
    this.bytes = new Uint8Array(capacity);
  }

  get size(): number {
    return this.tail - this.head;
  }

  /** Copies as much of `chunk[from..]` as fits; returns how many bytes were taken. */
  append(chunk: Uint8Array, from: number): number {
    const b = this.bytes;
    if (this.head > 0) {
      b.copyWithin(0, this.head, this.tail);
      this.tail -= this.head;
      this.head = 0;
    }
    const n = Math.min(b.length - this.tail, chunk.length - from);
    if (n < 16) {
      for (let i = 0; i < n; i++) b[this.tail + i] = chunk[from + i]!;
    } else {
      b.set(chunk.subarray(from, from + n), this.tail);
    }
    this.tail += n;
    return n;
  }

  skip(n: number): void {
    this.head += n;
    if (this.head >= this.tail) this.head = this.tail = 0;
  }

  clear(): void {
    this.head = this.tail = 0;
  }
}
