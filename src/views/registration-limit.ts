/**
 * How fast, and how many, caches are registered, over HTTP and over SQL alike (one limiter, the
 * engine's): a token bucket (a burst, refilled at a steady rate) and a cap on the number of caches,
 * so a script cannot exhaust Rotor's memory by registering. Every attempt takes a token, accepted or not: a refused parse costs CPU too.
 */

export interface RegistrationLimits {
  /** Registrations allowed per second on average (default 20). */
  readonly perSecond: number;
  /** Registrations allowed at once after a quiet spell (default: `perSecond`). */
  readonly burst: number;
  /** The most caches Rotor holds; a registration beyond is refused (default 1,000). */
  readonly maxCaches: number;
}

export const DEFAULT_REGISTRATION_LIMITS: RegistrationLimits = { perSecond: 20, burst: 20, maxCaches: 1000 };

export class RegistrationLimit {
  readonly limits: RegistrationLimits;
  readonly #now: () => number;
  #tokens: number;
  #at: number;

  /** @param now milliseconds; tests pass their own clock. */
  constructor(limits: Partial<RegistrationLimits> = {}, now: () => number = () => performance.now()) {
    const perSecond = limits.perSecond ?? DEFAULT_REGISTRATION_LIMITS.perSecond;
    this.limits = { perSecond, burst: limits.burst ?? perSecond, maxCaches: limits.maxCaches ?? DEFAULT_REGISTRATION_LIMITS.maxCaches };
    this.#now = now;
    this.#tokens = this.limits.burst;
    this.#at = now();
  }

  /** Why a registration must be refused now (taking a token when it may go ahead), or null. */
  refusal(caches: number): string | null {
    if (caches >= this.limits.maxCaches) return `Rotor holds the most caches it may (${this.limits.maxCaches})`;
    const now = this.#now();
    this.#tokens = Math.min(this.limits.burst, this.#tokens + ((now - this.#at) / 1000) * this.limits.perSecond);
    this.#at = now;
    if (this.#tokens < 1) return `more than ${this.limits.perSecond} registrations per second`;
    this.#tokens -= 1;
    return null;
  }
}
