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
import type { Answer, ProbeError, SessionView } from '../proxy/read-router.js';
import { quoteId } from '../dataflow/sql.js';
import type { QualifiedQuery } from '../planner/parse.js';
import { RotorError } from '../errors.js';

/** What a check of grants asks MariaDB through: a SQL session's own upstream session, or an HTTP reader's account session. */
export type Prober = Pick<SessionView, 'probe' | 'probeRow'>;

/** Whose checks are kept: a SQL session, or an HTTP reader's account (src/views/http-principals.ts). */
export type Checked = Pick<SessionView, 'privilegeGeneration'>;


interface SessionChecks {
  readonly epoch: number;
  readonly generation: number;
  /** cache (its grantKey: one per planned instance) → true (readable) or false (MariaDB refused the probe). */
  readonly caches: Map<string, boolean>;
}

export class PrivilegeChecks {
  #epoch = 0;
  readonly #sessions = new WeakMap<Checked, SessionChecks>();

  /**
   * Moves when a change of accounts or grants reached the binlog (not at the periodic refresh): an
   * HTTP reader's verified login is not trusted past it (src/views/http-principals.ts).
   */
  accountEpoch = 0;

  /** Forgets every check of every session; `accounts`: an account or grant change was seen. */
  invalidate(accounts = false): void {
    this.#epoch++;
    if (accounts) this.accountEpoch++;
  }

  /**
   * What was learned of `cacheId` for this session in its current privilege state: true
   * (readable), false (MariaDB refused), or undefined (not checked).
   */
  checked(session: Checked, cacheId: string): boolean | undefined {
    const c = this.#sessions.get(session);
    return c !== undefined && c.epoch === this.#epoch && c.generation === session.privilegeGeneration ? c.caches.get(cacheId) : undefined;
  }

  /** A check that began now: call it with MariaDB's verdict on the probe. */
  begin(session: Checked, cacheId: string): (ok: boolean) => void {
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

/**
 * [note: cached-grants] Whether MariaDB lets the session read what `query` reads, decided on the
 * session's own upstream session: the qualified query prepares (never runs), and no table it reads
 * is shadowed by a temporary table of the session (a temporary table takes the place of its base
 * table even when named with its database, and the prepare would check the temporary one). Null
 * when it may; else the error to answer with.
 *
 * `views` (`database\0name`) are the names of `query` that are views when the cache was planned
 * ([note: view-expansion]): the prepare of the query naming them is MariaDB's own check of the
 * view's grants (its SQL SECURITY included); SHOW CREATE TABLE of a view needs SHOW VIEW, which a
 * reader granted SELECT on the view alone lacks, and its refusal (ER_TABLEACCESS_DENIED) shows
 * that the name is the view: a temporary table is shown to its session without any privilege.
 * (A temporary table never takes the place of a view's own tables: MariaDB reads those as the
 * view names them.)
 */
export async function mayRead(session: Prober, query: QualifiedQuery, views: ReadonlySet<string> = NONE): Promise<Answer | null> {
  const { probe, probeRow } = session;
  if (probe === undefined || probeRow === undefined) return errorAnswer(new RotorError('ERR_CACHE_ACCESS_DENIED', []));
  const refused = await probe(query.sql, 'prepare');
  if (refused !== null) return denial(refused);
  for (const t of query.tables) {
    const name = `${quoteId(t.database)}.${quoteId(t.table)}`;
    const view = views.has(`${t.database}\0${t.table}`);
    const row = await probeRow(`SHOW CREATE TABLE ${name}`);
    if (row === null) return errorAnswer(new RotorError('ERR_CACHE_ACCESS_DENIED', []));
    if (!Array.isArray(row)) {
      if (view && (row as ProbeError).errno === ER_TABLEACCESS_DENIED) continue;
      return denial(row as ProbeError);
    }
    // Fails closed: only the answer about this very table vouches for it.
    if (row[0] !== t.table || row.length < 2) return errorAnswer(new RotorError('ERR_CACHE_ACCESS_DENIED', []));
    if (/^\s*CREATE\s+TEMPORARY\b/i.test(String(row[1] ?? ''))) return errorAnswer(new RotorError('ERR_CACHE_TEMPORARY_TABLE', [name]));
  }
  return null;
}

const NONE: ReadonlySet<string> = new Set();
/** `SHOW VIEW command denied …`: MariaDB found the view and refused to show it. */
const ER_TABLEACCESS_DENIED = 1142;

/** MariaDB's error as an answer. */
export function denial(e: ProbeError): Answer {
  return { kind: 'error', errno: e.errno, sqlState: e.sqlState, message: e.message };
}

/** A catalog error (or anything thrown) as an answer. */
export function errorAnswer(e: unknown): Answer {
  if (e instanceof RotorError) return { kind: 'error', errno: e.errno, sqlState: e.sqlState, message: e.message };
  return { kind: 'error', errno: 1105, sqlState: 'HY000', message: e instanceof Error ? e.message : String(e) };
}
