/**
 * What a link fault does to bytes on the wire. Pure functions over a seeded RNG, so a
 * fault campaign replays exactly.
 */
import type { Rng } from '../rng.ts';

export interface LinkFaultState {
  /** Probability that a byte has one bit flipped (both directions). */
  corruptRate: number;
  /** Probability that a reply is preceded by garbage, and at most how many bytes. */
  garbageRate: number;
  garbageBytes: number;
  /** Probability that a reply is cut short. */
  truncateRate: number;
}

export function noLinkFaults(): LinkFaultState {
  return { corruptRate: 0, garbageRate: 0, garbageBytes: 4, truncateRate: 0 };
}

/** Flip one random bit in each byte with probability `rate`. Returns a copy when anything changed. */
export function corrupt(bytes: Uint8Array, rate: number, rng: Rng): Uint8Array {
  if (rate <= 0) return bytes;
  let out = bytes;
  for (let i = 0; i < bytes.length; i++) {
    if (rng.next() < rate) {
      if (out === bytes) out = bytes.slice();
      out[i] = out[i]! ^ (1 << rng.int(8));
    }
  }
  return out;
}

/** Apply the reply-side faults: garbage before, truncation, then bit flips. */
export function disturbReply(bytes: Uint8Array, f: LinkFaultState, rng: Rng): Uint8Array {
  let out = bytes;
  if (f.truncateRate > 0 && out.length > 1 && rng.next() < f.truncateRate) {
    out = out.slice(0, 1 + rng.int(out.length - 1));
  }
  if (f.garbageRate > 0 && rng.next() < f.garbageRate) {
    const n = 1 + rng.int(f.garbageBytes);
    const g = new Uint8Array(n + out.length);
    for (let i = 0; i < n; i++) g[i] = rng.int(256);
    g.set(out, n);
    out = g;
  }
  return corrupt(out, f.corruptRate, rng);
}
