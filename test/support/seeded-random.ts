/**
 * The seeded generator of the randomized tests (oracles, differential, fuzz, races) and of the
 * benchmarks: the same seed gives the same run, so a failure that prints its seed can be replayed.
 */

/** A seeded uniform generator in [0, 1) (mulberry32): cheap, and the same seed gives the same sequence. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
