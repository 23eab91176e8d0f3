/**
 * What a session's state machine tracks about its upstream session so the router can decide
 * whether a cached answer is valid for it: current database, transaction state from the status
 * flags, and the session settings that change results (the cache blocker).
 */
import { Status } from './protocol/constants.js';
import type { LastRoute, ProbeError, SessionView } from './read-router.js';

// Session settings that change what a SELECT returns or how its values are encoded.
const BLOCKING_SETTING = /\b(time_zone|sql_mode|names|character\s+set|charset|character_set_results|character_set_connection|character_set_client|collation_connection|div_precision_increment|max_sort_length|group_concat_max_len|sql_select_limit)\b/i;
// A cheap screen run on every relayed statement: every statement blockerOf can block holds one of
// these words, not inside a longer run of letters (`user_id`, `offset`, `ifnull(` pass; a digit
// may touch it: `/*!50000SET …*/` runs), or a `:`. Pinned by test/proxy/session-state.test.ts.
const BLOCKER_WORDS = ['set', 'temporary', 'use', 'execute', 'prepare', 'call', 'atomic', 'if', 'while', 'loop', 'repeat', 'case', 'for', 'declare'];
const SCREEN = new RegExp(`(?<![A-Za-z_])(?:${BLOCKER_WORDS.join('|')})(?![A-Za-z_])|:`, 'i');
const TEMPORARY = /\btemporary\b/i;
// Dynamic SQL, stored procedures and compound statements run statements Rotor never sees: their
// SETs, temporary tables and roles stay after them.
const HIDDEN = /\b(execute|prepare|call|atomic)\b/i;
const COMPOUND_START = new Set(['IF', 'WHILE', 'LOOP', 'REPEAT', 'CASE', 'FOR', 'DECLARE']);
const LABEL = /[A-Za-z_$][\w$]*\s*:(?!=)/y;
const ROLE = /\brole\b/i;
const WORD = /[A-Za-z_]+/y;
const USE_DATABASE = /^\s*USE\s+(`(?:[^`]|``)+`|[\w$]+)\s*;?\s*$/i;

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

/** The database a `USE db` statement selects, or null for any other statement. */
export function parseUse(sql: string): string | null {
  const m = USE_DATABASE.exec(sql);
  if (!m) return null;
  const name = m[1];
  return name.startsWith('`') ? name.slice(1, -1).replace(/``/g, '`') : name;
}

/**
 * [note: statement-starts] Calls `visit` with the offset of the first word of every place a
 * statement may start in `sql`: the beginning and after every `;` — also a `;` inside a string,
 * so no quoting (whose reading depends on the sql_mode) can hide a statement from Rotor; the cost
 * is seeing statements that are not there, which only keeps a session's reads upstream. From each
 * such place, whitespace, comments and the markers of executable comments (`/*!`, `/*M!`, whose
 * contents run) are skipped as the server skips them. Linear in the length of `sql` (a comment's
 * end is searched once however many starts it covers): it runs on every statement a client sends.
 * `visit` returns false to stop. Pinned by test/proxy/session-state.test.ts.
 */
/**
 * Where the next `what` in `sql` is, from an offset: searched once for every offset up to where it
 * was found (a comment's end serves every start inside it). A class rather than a closure made per
 * statement: [note: named-closures].
 */
class NextIndex {
  #from = -1;
  #at = -1;

  constructor(readonly sql: string, readonly what: string) {}

  from(i: number): number {
    if (i < this.#from || (this.#at >= 0 && i > this.#at) || this.#from < 0) {
      this.#from = i;
      this.#at = this.sql.indexOf(this.what, i);
    }
    return this.#at;
  }
}

function statementStarts(sql: string, visit: (at: number) => boolean): void {
  const n = sql.length;
  let close: NextIndex | null = null;
  let newline: NextIndex | null = null;
  let at = 0;
  for (;;) {
    let i = at;
    for (;;) {
      const c = sql.charCodeAt(i);
      if (c <= 32 && i < n) { i++; continue; }
      if (c === 47 /* / */ && sql.charCodeAt(i + 1) === 42 /* * */) {
        const m = sql.charCodeAt(i + 2);
        if (m === 33 /* ! */ || (m === 77 /* M */ && sql.charCodeAt(i + 3) === 33)) {
          i += m === 33 ? 3 : 4;
          while (sql.charCodeAt(i) >= 48 && sql.charCodeAt(i) <= 57) i++;
          continue;
        }
        const e = (close ??= new NextIndex(sql, '*/')).from(i + 2);
        if (e < 0) { i = n; break; }
        i = e + 2;
        continue;
      }
      if (c === 42 /* * */ && sql.charCodeAt(i + 1) === 47) { i += 2; continue; }
      if (c === 35 /* # */ || (c === 45 /* - */ && sql.charCodeAt(i + 1) === 45 && sql.charCodeAt(i + 2) <= 32)) {
        const e = (newline ??= new NextIndex(sql, '\n')).from(i);
        if (e < 0) { i = n; break; }
        i = e + 1;
        continue;
      }
      break;
    }
    if (i < n && !visit(i)) return;
    const next = sql.indexOf(';', at);
    if (next < 0) return;
    at = next + 1;
  }
}

/**
 * Why a statement makes this session's cached answers invalid, or null. `screened: false` skips
 * the cheap screen (tests check that the screen never changes the answer).
 */
export function blockerOf(sql: string, screened = true): string | null {
  // Cheap screen first: almost every statement contains none of these words.
  if (screened && !SCREEN.test(sql)) return null;
  // Anywhere, however written (`CREATE/**/TEMPORARY`): a temporary table shadows its base table,
  // even when named with its database.
  if (TEMPORARY.test(sql)) return 'a temporary table may shadow a cached table';
  const hidden = HIDDEN.exec(sql);
  if (hidden !== null) return `${hidden[0].replace(/\s+/g, ' ').toUpperCase()} (statements Rotor does not see)`;
  let firstSet = -1;
  let blocker: string | null = null;
  statementStarts(sql, (at) => {
    WORD.lastIndex = at;
    const w = WORD.exec(sql)?.[0].toUpperCase();
    LABEL.lastIndex = at;
    if ((w !== undefined && COMPOUND_START.has(w)) || LABEL.test(sql)) {
      blocker = 'a compound statement (statements Rotor does not see)';
    } else if (w === 'SET') {
      if (firstSet < 0) firstSet = at;
    } else if (w === 'USE') {
      // A USE parseUse cannot follow leaves the tracked database wrong, and an unqualified cached
      // query would name another table than the session's.
      if (parseUse(sql) === null) blocker = 'a USE Rotor could not follow';
    }
    return blocker === null;
  });
  if (blocker !== null) return blocker;
  if (firstSet < 0) return null;
  const m = BLOCKING_SETTING.exec(sql.slice(firstSet));
  return m === null ? null : `${m[1].toLowerCase().replace(/\s+/g, ' ')} changed`;
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
// Statements that change no rows (a SELECT calling a stored function that writes is not seen: README).
const READS = new Set(['SELECT', 'SHOW', 'DESC', 'DESCRIBE', 'EXPLAIN', 'HELP', 'USE', 'BEGIN', 'START', 'COMMIT', 'ROLLBACK', 'SAVEPOINT', 'RELEASE']);
// Isolation named SERIALIZABLE anyhow (SET [SESSION|GLOBAL] TRANSACTION ISOLATION LEVEL, tx_isolation,
// transaction_isolation, SET STATEMENT … FOR): taken as asked, for good. [note: transaction-reads]
const SERIALIZABLE = /\bSERIALIZABLE\b/i;
const ISOLATION = /isolation/i;
// The spellings that name another level exactly. MariaDB takes SERIALIZABLE in many others (`= 3`,
// `'SERIAL' 'IZABLE'`, a hex string, a user variable, an expression): any other statement that
// sets the isolation is taken for SERIALIZABLE.
const OTHER_LEVEL = /^\s*SET\s+(?:(?:SESSION|LOCAL|GLOBAL)\s+)?TRANSACTION\s+ISOLATION\s+LEVEL\s+(?:READ\s+(?:UNCOMMITTED|COMMITTED)|REPEATABLE\s+READ)(?:\s*,\s*READ\s+(?:ONLY|WRITE))?\s*(?:;\s*)?$/i;
const OTHER_LEVEL_VARIABLE = /^\s*SET\s+(?:(?:SESSION|LOCAL|GLOBAL)\s+|@@(?:(?:SESSION|LOCAL|GLOBAL)\.)?)?(?:tx|transaction)_isolation\s*:?=\s*(?:'(?:READ-UNCOMMITTED|READ-COMMITTED|REPEATABLE-READ)'|[012]|DEFAULT)\s*(?:;\s*)?$/i;
const RETURNING = /\bRETURNING\b/i;

/**
 * One pass over a statement that proves none of the checks {@link SessionState.noteStatement}
 * makes can match it, so that almost every statement (`SELECT c FROM t WHERE id = 5`) skips them
 * all: false when none can; true when one may. Any check added there MUST be covered here. Without the `u` flag, a case-insensitive regular expression
 * matches its letters with ASCII letters only (`ſ` is not `s`), and a match of each check is
 * - a whole run of `[A-Za-z_]`, neither preceded nor followed by a letter or `_`: the words of
 *   blockerOf's SCREEN, RETURNING, SERIALIZABLE and ROLE (`\b` is stricter: `\w` holds digits too);
 * - or inside one run: ISOLATION and LOG_BIN (`sql_log_bin`);
 * - or a `:` (SCREEN).
 * So a statement without a `:` none of whose runs is one of those words or holds one of those
 * parts matches none of them. Pinned by test/proxy/session-state.test.ts.
 */
export function needsChecks(sql: string): boolean {
  const n = sql.length;
  let run = -1;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? sql.charCodeAt(i) : 0;
    const l = c | 0x20;
    if ((l >= 97 && l <= 122) || c === 95) {
      if (run < 0) run = i;
      continue;
    }
    if (c === 58 /* : */) return true;
    if (run < 0) continue;
    const len = i - run;
    if (len < SCREEN_WORDS.length) {
      const words = SCREEN_WORDS[len];
      for (let k = 0; k < words.length; k++) if (foldedAt(sql, run, words[k])) return true;
    }
    if (len >= SCREEN_PART_MIN && hasPart(sql, run, i)) return true;
    run = -1;
  }
  return false;
}

/** The whole words of {@link needsChecks}, lower case, by length (index: length; none longer). */
const SCREEN_WORDS: ReadonlyArray<ReadonlyArray<string>> = (() => {
  const words = [...BLOCKER_WORDS, 'returning', 'serializable', 'role'];
  const byLength = Array.from({ length: Math.max(...words.map((w) => w.length)) + 1 }, (): string[] => []);
  for (const w of words) byLength[w.length].push(w);
  return byLength;
})();
/** The parts of words of {@link needsChecks}, lower case. */
const SCREEN_PARTS = ['isolation', 'sql_log_bin'];
const SCREEN_PART_MIN = Math.min(...SCREEN_PARTS.map((p) => p.length));

/** Whether the run `sql.slice(from, to)` holds one of {@link SCREEN_PARTS}. */
function hasPart(sql: string, from: number, to: number): boolean {
  for (const p of SCREEN_PARTS) for (let at = from; at + p.length <= to; at++) if (foldedAt(sql, at, p)) return true;
  return false;
}

/** Whether `sql` at `at` spells `lower` (ASCII letters and `_`) in any case. */
function foldedAt(sql: string, at: number, lower: string): boolean {
  for (let k = 0; k < lower.length; k++) {
    const c = sql.charCodeAt(at + k);
    const w = lower.charCodeAt(k);
    // `c | 0x20` is a lower-case letter only for that letter in either case; never `_`.
    if (c !== w && (c | 0x20) !== w) return false;
  }
  return true;
}
/** Statements kept unexamined for {@link SessionState.transactionBlocker}, at most. */
const TX_PENDING = 16;
/** More unlogged statements than this in one transaction are remembered as "something". */
const MAX_UNLOGGED = 16;

/**
 * Whether `sql` may change rows or tables: undefined when it cannot (a read, a transaction
 * boundary, a SET without a subquery or function call), else the statement (null when the text
 * holds several).
 */
export function writeOf(sql: string): string | null | undefined {
  let starts = 0;
  let word: string | undefined;
  statementStarts(sql, (at) => {
    if (++starts > 1) return false;
    WORD.lastIndex = at;
    word = WORD.exec(sql)?.[0].toUpperCase();
    return true;
  });
  if (starts === 0) return undefined;
  if (starts > 1) return null;
  if (word !== undefined && READS.has(word)) return undefined;
  if (word === 'SET' && !sql.includes('(') && !/^\s*SET\s+STATEMENT\b/i.test(sql)) return undefined;
  return sql;
}

/**
 * [note: transaction-reads] True when a statement may make the session's transactions SERIALIZABLE:
 * it names that level, or it names the isolation in any way but a read of it (`SELECT
 * @@tx_isolation`) or a SET of another level spelled exactly.
 */
export function maySetSerializable(sql: string): boolean {
  if (SERIALIZABLE.test(sql)) return true;
  if (!ISOLATION.test(sql) || OTHER_LEVEL.test(sql) || OTHER_LEVEL_VARIABLE.test(sql)) return false;
  return writeOf(sql) !== undefined || /\bSET\b/i.test(sql);
}

/** True when a statement may change the session's current roles (`SET ROLE`). [note: cached-grants] */
export function mayChangeRoles(sql: string): boolean {
  return ROLE.test(sql);
}

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
