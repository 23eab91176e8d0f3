/** Waits on what a stream has applied: each resolves true once reached, false on timeout or when ended. */
interface Waiter {
  readonly reached: () => boolean;
  readonly resolve: (ok: boolean) => void;
  readonly timer: NodeJS.Timeout;
}

export class Waiters {
  readonly #waiting = new Set<Waiter>();

  /** Resolves true at the first {@link check} where `reached()` holds; false after `timeoutMs` or {@link endAll}. */
  add(reached: () => boolean, timeoutMs: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const waiter: Waiter = { reached, resolve, timer: setTimeout(() => this.#settle(waiter, false), timeoutMs) };
      this.#waiting.add(waiter);
    });
  }

  /** Something was applied: every waiter whose condition now holds resolves true. */
  check(): void {
    if (this.#waiting.size > 0) for (const w of this.#waiting) if (w.reached()) this.#settle(w, true);
  }

  /** Every waiter resolves false (stop, or positions that no longer compare). */
  endAll(): void {
    for (const w of this.#waiting) this.#settle(w, false);
  }

  #settle(waiter: Waiter, ok: boolean): void {
    if (!this.#waiting.delete(waiter)) return;
    clearTimeout(waiter.timer);
    waiter.resolve(ok);
  }
}
