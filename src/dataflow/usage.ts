/**
 * When each key of each state was last used, for the memory budget (src/views/memory-budget.ts).
 *
 * [note: memory-budget] Every present key of every state carries `used`, a tick of one clock
 * shared by all states in the process: set when the key is installed and each time it is read (a
 * reader's hit, a fill reading an ancestor's or a join side's rows). Past the limit, the budget
 * evicts the keys with the oldest ticks among a sample of every state (Redis's sampled LRU), so
 * the coldest keys of all caches go first. Admission: a key installed for the first time in a
 * while (the frequency sketch has seen it once) gets tick 0, first to go, and earns a real tick
 * only when it is read again; so a scan of keys read once cannot push out the keys read again and
 * again. Evicting is always exact ([note: evict-downstream]); these ticks only choose what is kept.
 * Pinned by test/views/memory-budget.test.ts.
 */
import type { EvictionPolicy } from '../config.js';
import { FrequencySketch, hashKey } from './frequency-sketch.js';


/** The process's usage clock. */
export const usage = {
  /** The next tick; increases by one per use. */
  tick: 1,
  /** Keys installed so far (the budget checks again after a number of them). */
  installs: 0,
  policy: 'admission' as EvictionPolicy,
  sketch: new FrequencySketch(),
};

/** The tick a newly installed key starts with. */
export function admissionTick(key: string, seed: number): number {
  usage.installs++;
  if (usage.policy !== 'admission') return usage.tick++;
  // Per state: the same key values in two caches are two keys.
  const h = Math.imul(hashKey(key) ^ seed, 0x9e3779b1) >>> 0;
  usage.sketch.add(h);
  return usage.sketch.estimate(h) > 1 ? usage.tick++ : 0;
}
