/**
 * Failed logins per client address on the HTTP read listener: past {@link MAX_FAILURES} in a
 * window of {@link WINDOW_MS}, the address is refused (429) until the window ends, before its
 * credentials reach the upstream, so guessing passwords or tokens through Rotor is slow. At most
 * {@link MAX_SOURCES} addresses are tracked (expired ones go first, then the oldest).
 */

export const MAX_FAILURES = 10;
export const WINDOW_MS = 60_000;
export const MAX_SOURCES = 10_000;

interface Window {
  readonly start: number;
  failures: number;
}

export class FailureLimit {
  readonly #windows = new Map<string, Window>();

  constructor(readonly now: () => number = Date.now, readonly maxFailures = MAX_FAILURES, readonly windowMs = WINDOW_MS) {}

  /** Seconds until `source` may try again, or 0 when it may now. */
  blockedFor(source: string): number {
    const w = this.#windows.get(source);
    if (w === undefined || w.failures < this.maxFailures) return 0;
    const left = w.start + this.windowMs - this.now();
    if (left <= 0) {
      this.#windows.delete(source);
      return 0;
    }
    return Math.ceil(left / 1000);
  }

  /** A login from `source` failed. */
  fail(source: string): void {
    const now = this.now();
    const w = this.#windows.get(source);
    if (w !== undefined && now - w.start < this.windowMs) {
      w.failures++;
      return;
    }
    if (w !== undefined) this.#windows.delete(source);
    if (this.#windows.size >= MAX_SOURCES) this.#sweep(now);
    this.#windows.set(source, { start: now, failures: 1 });
  }

  get size(): number {
    return this.#windows.size;
  }

  #sweep(now: number): void {
    for (const [s, w] of this.#windows) if (now - w.start >= this.windowMs) this.#windows.delete(s);
    // Still full: the oldest windows go (a Map iterates in insertion order).
    for (const s of this.#windows.keys()) {
      if (this.#windows.size < MAX_SOURCES) break;
      this.#windows.delete(s);
    }
  }
}
