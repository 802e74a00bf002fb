/**
 * Seeded pseudo-random numbers (mulberry32): the simulator's only source of noise and
 * fault randomness, so a seed replays a run byte for byte.
 */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Approximately normal, mean 0, standard deviation 1. */
  gaussian(): number;
}

export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    // Irwin–Hall with 4 uniforms: cheap, bounded, close enough for sensor noise.
    gaussian: () => (next() + next() + next() + next() - 2) * Math.sqrt(3),
  };
}

/** A child seed for a named part, so adding a drive does not shift every other drive's noise. */
export function deriveSeed(seed: number, name: string): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}
