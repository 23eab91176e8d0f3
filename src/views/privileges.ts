/**
 * Which sessions may read which caches. [note: cached-grants]
 *
 * A cached answer goes only to a session whose user could run the cached SELECT upstream. Rotor
 * does not re-implement MariaDB's privilege rules (hosts, roles, PUBLIC, column grants, partial
 * revokes): it lets MariaDB decide. The first read of a cache by a principal is relayed to the
 * session's own upstream session, which runs it as the client's user with its current roles; when
 * that read succeeds, the principal is known to hold every privilege the cache's query needs (the
 * statement matched the cache's fingerprint, so it reads the same tables and columns), and its
 * later reads are served from the cache. A failed read records nothing: the client got MariaDB's
 * own error, and the next read is relayed again.
 *
 * A principal is what decides the privileges a session has: its user, the roles it set itself
 * (`SET ROLE`), and the default roles it got at login — which are those of the privilege epoch it
 * logged in during. Every GRANT, REVOKE, account or role change and FLUSH PRIVILEGES that reaches
 * the binlog starts a new epoch (src/binlog/ddl.ts), and so does a periodic refresh that catches
 * changes made without the binlog (`--privilege-refresh`): a new epoch forgets every check, so the
 * next read of every principal is relayed again. A check whose relay was still running when the
 * epoch changed is not recorded.
 *
 * Pinned by test/e2e/grants.test.ts.
 */
import type { SessionView } from '../proxy/read-router.js';

/** Epoch start times kept to place a session's login in its epoch; older logins share the oldest. */
const MAX_EPOCHS = 4096;

interface Principal {
  readonly epoch: number;
  readonly user: string;
  readonly role: string;
  readonly loginAt: number;
  readonly key: string;
}

export class PrivilegeChecks {
  /** performance.now() at the start of each epoch, oldest first; `#base` is the first one's number. */
  readonly #starts: number[] = [0];
  #base = 0;
  /** principal → ids of the caches it was seen reading upstream in the current epoch. */
  #allowed = new Map<string, Set<string>>();
  /** Per session: the epoch count its principal was computed at, and the principal. */
  readonly #principals = new WeakMap<SessionView, Principal>();

  /** The current epoch's number. */
  get epoch(): number {
    return this.#base + this.#starts.length - 1;
  }

  /** Forgets every check: the next read of every cache by every principal is relayed. */
  invalidate(): void {
    this.#allowed = new Map();
    this.#starts.push(performance.now());
    if (this.#starts.length > MAX_EPOCHS) {
      this.#starts.shift();
      this.#base++;
    }
  }

  /** True when this session's principal has read `cacheId` upstream in the current epoch. */
  allowed(session: SessionView, cacheId: string): boolean {
    return this.#allowed.get(this.#principal(session))?.has(cacheId) === true;
  }

  /**
   * What to call once the relayed read of `cacheId` has finished: records the check when the read
   * succeeded and no new epoch began meanwhile.
   */
  checker(session: SessionView, cacheId: string): (ok: boolean) => void {
    const epoch = this.epoch;
    const principal = this.#principal(session);
    return (ok) => {
      if (!ok || this.epoch !== epoch) return;
      let caches = this.#allowed.get(principal);
      if (caches === undefined) this.#allowed.set(principal, (caches = new Set()));
      caches.add(cacheId);
    };
  }

  #principal(session: SessionView): string {
    const epoch = this.epoch;
    const known = this.#principals.get(session);
    if (known !== undefined && known.epoch === epoch && known.user === session.user && known.role === session.role && known.loginAt === session.loginAt) return known.key;
    const key = `${session.user}\0${session.role}\0${this.#epochOf(session.loginAt)}`;
    this.#principals.set(session, { epoch, user: session.user, role: session.role, loginAt: session.loginAt, key });
    return key;
  }

  /** The number of the epoch `at` falls in (binary search over the start times). */
  #epochOf(at: number): number {
    let lo = 0;
    let hi = this.#starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.#starts[mid] <= at) lo = mid;
      else hi = mid - 1;
    }
    return this.#base + lo;
  }
}
