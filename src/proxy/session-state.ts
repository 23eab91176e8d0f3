/**
 * What a session's state machine tracks about its upstream session so the router can decide
 * whether a cached answer is valid for it: current database, transaction state from the status
 * flags, and the session settings that change results (the cache blocker). What a statement's
 * text tells it (blockerOf, writeOf, the isolation and role checks, USE, the screen that lets most
 * statements skip them) is read in statement-checks.ts, re-exported here.
 */
import { Status } from './protocol/constants.js';
import type { LastRoute, ProbeError, SessionView } from './read-router.js';
import { blockerOf, mayChangeRoles, maySetSerializable, needsChecks, writeOf } from './statement-checks.js';

export { blockerOf, mayChangeRoles, maySetSerializable, needsChecks, parseUse, writeOf } from './statement-checks.js';

/**
 * Collation ids a handshake or COM_CHANGE_USER can name whose statements Rotor decodes exactly:
 * utf8mb3, utf8mb4 and ascii. Statements in other character sets are not fingerprinted: a
 * multi-byte set whose trail bytes include `\` (gbk, sjis, big5) would hide a quote from a UTF-8
 * reading, and a single-byte one would be read as other characters.
 */
const UTF8_COLLATIONS = new Set([11, 33, 45, 46, 65, 83, 223, 255, ...range(192, 215), ...range(224, 247)]);

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** Why a connection in this collation's character set cannot be served from caches, or null. */
export function charsetBlocker(collation: number): string | null {
  return UTF8_COLLATIONS.has(collation) ? null : `the connection's character set (collation ${collation}) is not utf8mb4, utf8mb3 or ascii`;
}

/**
 * [note: unlogged-writes] A session with sql_log_bin=0 writes rows the binlog never carries, so
 * caches cannot follow them. The session state tracks the setting from the statements it relays
 * (`SET [SESSION|LOCAL|@@session.]sql_log_bin = …`, also inside `SET STATEMENT … FOR`, a prepared
 * statement or any other statement naming it): exactly `SET sql_log_bin = 1|ON|TRUE` alone turns it
 * back on once it succeeded; any other mention leaves it off, or Rotor unsure, which is the same.
 * While it is off, the session's reads go upstream (it may read its own unlogged writes), and each
 * statement that may write makes the engine forget what caches hold once it completed
 * (ReadRouter.forgetUnlogged), again when its transaction ends. Writes of sessions connected to
 * MariaDB directly are not seen (README). Pinned by test/e2e/unlogged-writes.test.ts.
 */
// An assignment to it (a bare `SELECT @@sql_log_bin` reads it); a comparison is taken for one too.
const LOG_BIN = /sql_log_bin[`\s]*:?=/i;
const SET_LOG_BIN = /^\s*SET\s+(?:(?:SESSION|LOCAL)\s+|@@(?:SESSION\.|LOCAL\.)?)?sql_log_bin\s*:?=\s*('?)(\w+)\1\s*;?\s*$/i;
const LOG_BIN_ON = new Set(['1', 'ON', 'TRUE']);
const RETURNING = /\bRETURNING\b/i;
/** Statements kept unexamined for {@link SessionState.transactionBlocker}, at most. */
const TX_PENDING = 16;
/** More unlogged statements than this in one transaction are remembered as "something". */
const MAX_UNLOGGED = 16;

export class SessionState implements SessionView {
  readonly connectionId: number;
  user: string;
  database: string | null;
  #status = Status.AUTOCOMMIT as number;
  /** Why this session's state keeps its reads from the caches for good (until a reset), or null. */
  #blocker: string | null = null;
  writes = 0;
  /** Moves whenever the session's privileges may have changed. [note: cached-grants] */
  privilegeGeneration = 0;
  /** Set by the session as each statement goes to a cache or upstream (EXPLAIN LAST STATEMENT). */
  lastRoute: LastRoute | null = null;
  probe?: (sql: string, kind: 'prepare') => Promise<ProbeError | null>;
  probeRow?: (sql: string) => Promise<ReadonlyArray<string | null> | ProbeError | null>;
  /** Set while the connection's character set keeps every statement from the caches. */
  #charsetBlocker: string | null = null;
  collation = 0;

  constructor(connectionId: number, user: string, database: string | null, collation: number) {
    this.connectionId = connectionId;
    this.user = user;
    this.database = database;
    this.setCharset(collation);
  }

  /** The session's sql_log_bin is 0, or Rotor cannot tell. [note: unlogged-writes] */
  #logBinOff = false;
  /** A prepared statement names sql_log_bin: its executions may turn it off at any time. */
  #logBinOffForGood = false;
  /** The relayed statement turns sql_log_bin back on once it succeeds. */
  #logBinOnIfOk = false;
  /** Statements of the open transaction (or the one in flight) that ran with sql_log_bin=0 and may write. */
  #unlogged: (string | null)[] = [];
  /** A statement that may write went upstream since the last status outside a transaction. [note: transaction-reads] */
  #transactionWrote = false;
  /**
   * The statements sent upstream since then, not looked at yet (null: one whose text is not
   * known): whether one may write is only asked when a read inside a transaction needs to know,
   * never on the relay's path. At most {@link TX_PENDING}; then they are looked at.
   */
  readonly #txPending: (string | null)[] = [];
  /** How many of {@link #txPending} are pending (the rest are null): no array to resize per statement. */
  #txPendingCount = 0;
  /** {@link writes} when the last status outside a transaction arrived. */
  #writesBefore = 0;
  /** The session named SERIALIZABLE isolation (for good, until a reset). [note: transaction-reads] */
  #serializable = false;

  /** The last status flags upstream reported. */
  get status(): number {
    return this.#status;
  }

  set status(status: number) {
    this.noteStatus(status);
  }

  /**
   * The status flags of a response upstream sent, `MORE_RESULTS_EXISTS` included (more of the
   * statement's text is still to run; it is not kept in {@link status}).
   */
  noteStatus(status: number): void {
    this.#status = status & ~Status.MORE_RESULTS_EXISTS;
    // [note: transaction-reads] No transaction open once the whole text ran: none has written.
    // Not at a result with more to come: the text was noted (as a write) before any of it ran, and
    // a later statement of it may open a transaction and write (`SELECT 1; BEGIN; DELETE …
    // RETURNING …`, whose rows answer no OK with affected rows).
    if ((status & (Status.IN_TRANS | Status.MORE_RESULTS_EXISTS)) === 0) {
      this.#transactionWrote = false;
      this.#dropPending();
      this.#writesBefore = this.writes;
    }
  }

  /**
   * [note: transaction-reads] Inside a transaction, why its reads may not come even from a cache
   * that serves transactions (`CREATE CACHE ALWAYS`, `--transaction-reads cache`), or null: the
   * transaction may have changed rows (a statement that may write went upstream, or an OK counted
   * affected rows, since the last status outside a transaction: its own writes are not in the
   * binlog before COMMIT), or the session asked for SERIALIZABLE isolation, whose reads lock.
   * Outside a transaction: null.
   */
  get transactionBlocker(): string | null {
    if (!this.inTransaction) return null;
    if (this.#mayHaveWritten() || this.writes > this.#writesBefore) return 'inside a transaction that may have changed rows';
    if (this.#serializable) return 'inside a transaction under SERIALIZABLE isolation';
    return null;
  }

  #notePending(sql: string | null): void {
    if (this.#transactionWrote) return;
    this.#txPending[this.#txPendingCount++] = sql;
    if (this.#txPendingCount >= TX_PENDING) this.#mayHaveWritten();
  }

  /** Whether a statement sent since the last status outside a transaction may write. */
  #mayHaveWritten(): boolean {
    if (!this.#transactionWrote && this.#txPendingCount > 0) {
      for (let k = 0; k < this.#txPendingCount && !this.#transactionWrote; k++) {
        const q = this.#txPending[k];
        this.#transactionWrote = q === null || writeOf(q) !== undefined;
      }
      this.#dropPending();
    }
    return this.#transactionWrote;
  }

  /** Forgets the pending statements (their texts are not kept alive). */
  #dropPending(): void {
    // Slots are cleared, not the array's length: setting an array's length is a call into the runtime.
    for (let k = 0; k < this.#txPendingCount; k++) this.#txPending[k] = null;
    this.#txPendingCount = 0;
  }

  /** The client's collation from the handshake or COM_CHANGE_USER. */
  setCharset(collation: number): void {
    this.collation = collation;
    this.#charsetBlocker = charsetBlocker(collation);
    this.#blocker ??= this.#charsetBlocker;
  }

  /** Why cached answers are not valid for this session now, or null. */
  get cacheBlocker(): string | null {
    return this.#blocker ?? (this.unlogged ? 'sql_log_bin=0 (the session\'s writes do not reach the binlog)' : null);
  }

  /** Keeps the session's reads from the caches until a reset (the first reason stays). */
  block(reason: string): void {
    this.#blocker ??= reason;
  }

  /** The session's writes may not reach the binlog (sql_log_bin=0, or Rotor cannot tell). [note: unlogged-writes] */
  get unlogged(): boolean {
    return this.#logBinOff || this.#logBinOffForGood;
  }

  /** COM_CHANGE_USER: a new login, with the defaults of a new session. */
  relogin(user: string, database: string | null, collation: number): void {
    this.user = user;
    this.database = database;
    this.collation = collation;
    this.#charsetBlocker = charsetBlocker(collation);
    this.reset();
  }

  get inTransaction(): boolean {
    return (this.status & Status.IN_TRANS) !== 0 || (this.status & Status.AUTOCOMMIT) === 0;
  }

  get noBackslashEscapes(): boolean {
    return (this.status & Status.NO_BACKSLASH_ESCAPES) !== 0;
  }

  /** Status flags for Rotor's own answers: the session's transaction and escaping state. */
  get answerStatus(): number {
    return this.status & (Status.IN_TRANS | Status.AUTOCOMMIT | Status.NO_BACKSLASH_ESCAPES | Status.IN_TRANS_READONLY);
  }

  /**
   * Notes a statement being sent upstream, or prepared (`prepared`: it runs later, when Rotor
   * cannot tell), conservatively, before knowing it succeeded.
   */
  noteStatement(sql: string, prepared = false, screened = true): void {
    // Almost every statement names nothing the checks below look for.
    // `screened: false` runs them all (tests check that the screen never changes the outcome).
    const checked = !screened || needsChecks(sql);
    if (!prepared) {
      this.#notePending(sql);
      // [note: read-your-writes] `INSERT|DELETE … RETURNING` answers with rows, not an OK counting
      // affected rows: taken as a write before it runs.
      if (checked && RETURNING.test(sql) && writeOf(sql) !== undefined) this.writes++;
    }
    if (checked && maySetSerializable(sql)) this.#serializable = true;
    if (checked && mayChangeRoles(sql)) {
      this.privilegeGeneration++;
      if (prepared) this.#blocker ??= 'a prepared statement that names a role';
    }
    this.#noteLogBin(sql, prepared, checked);
    if (this.#blocker !== null || !checked) return;
    this.#blocker = blockerOf(sql);
  }

  #noteLogBin(sql: string, prepared: boolean, checked: boolean): void {
    this.#logBinOnIfOk = false;
    const names = checked && LOG_BIN.test(sql);
    if (prepared) {
      if (names) this.#logBinOffForGood = true;
      return;
    }
    if (names || this.unlogged) {
      const w = writeOf(sql);
      if (w !== undefined) this.#noteUnlogged(w);
    }
    if (!names) return;
    const set = SET_LOG_BIN.exec(sql);
    if (set !== null && LOG_BIN_ON.has(set[2].toUpperCase())) this.#logBinOnIfOk = true;
    else if (!/^\s*SET\s+STATEMENT\b/i.test(sql) || sql.includes(';')) this.#logBinOff = true;
  }

  #noteUnlogged(sql: string | null): void {
    if (this.#unlogged.length >= MAX_UNLOGGED) this.#unlogged = [null];
    else this.#unlogged.push(sql);
  }

  /**
   * A prepared statement's execution (or a bulk one) is relayed; `read`: it matched a cache, so it
   * is a SELECT; `sql`: its text, when known.
   */
  noteExecute(read: boolean, sql: string | null): void {
    if (!read) this.#notePending(sql);
    this.#logBinOnIfOk = false;
    if (this.unlogged && !read) this.#noteUnlogged(null);
  }

  /**
   * The relayed statement's response ended (`ok`: without an error; the status flags already
   * updated). Returns the statements whose writes the caches must forget now, or null.
   * [note: unlogged-writes]
   */
  statementDone(ok: boolean): ReadonlyArray<string | null> | null {
    if (ok && this.#logBinOnIfOk) this.#logBinOff = false;
    this.#logBinOnIfOk = false;
    if (this.#unlogged.length === 0) return null;
    const forget = this.#unlogged;
    // Inside a transaction its writes become visible at COMMIT: they are forgotten again then.
    this.#unlogged = this.inTransaction ? forget.slice() : [];
    return forget;
  }

  /** After COM_RESET_CONNECTION or COM_CHANGE_USER: settings, roles and temporary tables are gone. */
  reset(): void {
    this.#blocker = this.#charsetBlocker;
    this.#serializable = false;
    this.privilegeGeneration++;
    this.#logBinOff = false;
    this.#logBinOffForGood = false;
    this.#logBinOnIfOk = false;
    this.#unlogged = [];
  }
}
