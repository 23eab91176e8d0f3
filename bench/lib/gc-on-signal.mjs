/* global process */
// Preloaded into a Rotor a benchmark starts (`node --expose-gc --import …`): SIGUSR2 runs a full
// garbage collection, so memory sampled afterwards is what is live, not what is merely uncollected.
// Plain JavaScript so that it loads without tsx.
process.on('SIGUSR2', () => {
  globalThis.gc?.();
  globalThis.gc?.();
});
