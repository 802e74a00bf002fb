/**
 * Test fixtures (used only by the `*.test.ts` files of this folder): fast-check
 * arbitraries of packets whose parameters often hold the header pattern FF FF FD.
 */
import fc from 'fast-check';
import { BROADCAST_ID, Instruction, MAX_DEVICE_ID } from './instructions.ts';
import type { Packet } from './packet.ts';

/** Bytes biased towards FF, FD and 00 so that FF FF FD (00) shows up often. */
export function headerishBytes(maxLength: number, minLength = 0): fc.Arbitrary<Uint8Array> {
  return fc
    .array(
      fc.oneof(
        { arbitrary: fc.constantFrom(0xff, 0xfd, 0x00), weight: 3 },
        { arbitrary: fc.integer({ min: 0, max: 255 }), weight: 2 },
      ),
      { minLength, maxLength },
    )
    .map((a) => Uint8Array.from(a));
}

export const packetId: fc.Arbitrary<number> = fc.oneof(
  fc.integer({ min: 0, max: MAX_DEVICE_ID }),
  fc.constant(BROADCAST_ID),
);

export function instructionPacket(maxParams = 48): fc.Arbitrary<Packet> {
  return fc.record({
    kind: fc.constant('instruction' as const),
    id: packetId,
    instruction: fc.integer({ min: 0, max: 255 }).filter((i) => i !== Instruction.Status),
    params: headerishBytes(maxParams),
  });
}

export function statusPacket(maxParams = 48): fc.Arbitrary<Packet> {
  return fc.record({
    kind: fc.constant('status' as const),
    id: packetId,
    error: fc.integer({ min: 0, max: 255 }),
    params: headerishBytes(maxParams),
  });
}

export function anyPacket(maxParams = 48): fc.Arbitrary<Packet> {
  return fc.oneof(instructionPacket(maxParams), statusPacket(maxParams));
}

/** Index of `needle` in `haystack`, or -1. */
export function indexOfBytes(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
