/**
 * Which sessions may read which caches. [note: cached-grants]
 *
 * A cached answer goes only to a session whose user could run the cached SELECT upstream. Rotor
 * does not re-implement MariaDB's privilege rules (hosts, roles, PUBLIC, column grants, partial
 * revokes): it asks MariaDB. Before a session's first read of a cache is served, the cache's own
 * query, every table qualified by its database (`Cache.probe`), is prepared — never executed —
 * on the session's own upstream session, as its user with its current roles; MariaDB checks every
 * table and column privilege the statement needs at prepare. Only when that succeeds is the cache
 * marked readable for this session. The client's own statement is never taken as proof: its text
 * is read by Rotor's tokenizer, and what MariaDB reads (executable comments, the session's current
 * database, a temporary table) could name other tables.
 *
 * Checks belong to one session and one state of its privileges: they are forgotten when
 * - a new epoch begins: a GRANT, REVOKE, account or role change or FLUSH PRIVILEGES reached the
 *   binlog (src/binlog/ddl.ts), or the periodic refresh ran (`--privilege-refresh`, for changes
 *   made without the binlog);
 * - the session's privilege generation moves: a statement that may have changed its roles
 *   (`SET ROLE`), COM_RESET_CONNECTION, COM_CHANGE_USER (src/proxy/session-state.ts).
 * A check that was in flight when either moved is not recorded.
 *
 * Pinned by test/e2e/grants.test.ts and test/views/privileges.test.ts.
 */
import type { SessionView } from '../proxy/read-router.js';

interface SessionChecks {
  readonly epoch: number;
  readonly generation: number;
  /** cache (its grantKey: one per planned instance) → true (readable) or false (MariaDB refused the probe). */
  readonly caches: Map<string, boolean>;
}

export class PrivilegeChecks {
  #epoch = 0;
  readonly #sessions = new WeakMap<SessionView, SessionChecks>();

  /** Forgets every check of every session. */
  invalidate(): void {
    this.#epoch++;
  }

  /**
   * What was learned of `cacheId` for this session in its current privilege state: true
   * (readable), false (MariaDB refused), or undefined (not checked).
   */
  checked(session: SessionView, cacheId: string): boolean | undefined {
    const c = this.#sessions.get(session);
    return c !== undefined && c.epoch === this.#epoch && c.generation === session.privilegeGeneration ? c.caches.get(cacheId) : undefined;
  }

  /** A check that began now: call it with MariaDB's verdict on the probe. */
  begin(session: SessionView, cacheId: string): (ok: boolean) => void {
    const epoch = this.#epoch;
    const generation = session.privilegeGeneration;
    return (ok) => {
      if (epoch !== this.#epoch || generation !== session.privilegeGeneration) return;
      let c = this.#sessions.get(session);
      if (c === undefined || c.epoch !== epoch || c.generation !== generation) {
        c = { epoch, generation, caches: new Map() };
        this.#sessions.set(session, c);
      }
      c.caches.set(cacheId, ok);
    };
  }
}
