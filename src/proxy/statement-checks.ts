/**
 * What the text of a statement a session sends tells its state (session-state.ts), read without
 * the parser, on every statement a client sends: whether it makes the session's cached answers
 * invalid ({@link blockerOf}: a setting that changes results, a temporary table, statements Rotor
 * does not see), the database a `USE` selects, whether it may write ({@link writeOf}), make
 * transactions SERIALIZABLE or change roles, and the one pass ({@link needsChecks}) that lets almost
 * every statement skip all of these.
 */

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

/** The database a `USE db` statement selects, or null for any other statement. */
export function parseUse(sql: string): string | null {
  const m = USE_DATABASE.exec(sql);
  if (!m) return null;
  const name = m[1];
  return name.startsWith('`') ? name.slice(1, -1).replace(/``/g, '`') : name;
}

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

/**
 * One pass over a statement that proves none of the checks SessionState.noteStatement
 * (session-state.ts) makes can match it, so that almost every statement (`SELECT c FROM t WHERE id = 5`) skips them
 * all: false when none can; true when one may. Any check added there MUST be covered here. Without the `u` flag, a case-insensitive regular expression
 * matches its letters with ASCII letters only (`ſ` is not `s`), and a match of each check is
 * - a whole run of `[A-Za-z_]`, neither preceded nor followed by a letter or `_`: the words of
 *   blockerOf's SCREEN, RETURNING (session-state.ts), SERIALIZABLE and ROLE (`\b` is stricter: `\w`
 *   holds digits too);
 * - or inside one run: ISOLATION and LOG_BIN (`sql_log_bin`, session-state.ts);
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
