/**
 * What a session's state machine tracks about its upstream session so the router can decide
 * whether a cached answer is valid for it: current database, transaction state from the status
 * flags, and the session settings that change results (the cache blocker).
 */
import { Status } from './protocol/constants.js';
import type { ProbeError, SessionView } from './read-router.js';

// Session settings that change what a SELECT returns or how its values are encoded: a SET
// statement (at the start of a statement, so `UPDATE t SET names = …` does not count).
const BLOCKING_SET = /(?:^|;)\s*(?:\/\*.*?\*\/\s*)*SET\s[^;]*?\b(time_zone|sql_mode|names|character\s+set|charset|character_set_results|character_set_connection|character_set_client|collation_connection|div_precision_increment|max_sort_length|group_concat_max_len|sql_select_limit)\b/is;
const TEMPORARY_TABLE = /\bCREATE\s+(?:OR\s+REPLACE\s+)?TEMPORARY\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?([`"\w.$]+)/i;
const USE_DATABASE = /^\s*USE\s+(`(?:[^`]|``)+`|[\w$]+)\s*;?\s*$/i;
const USE_ANYWHERE = /(?:^|;)\s*(?:\/\*.*?\*\/\s*|#[^\n]*\n\s*|--\s[^\n]*\n\s*)*USE[\s`]/is;
const SET_ROLE = /(?:^|;)\s*(?:\/\*.*?\*\/\s*)*SET\s+ROLE\s+([^;]*)/is;

/** The roles a statement sets (`SET ROLE r`, `SET ROLE NONE`), as written, or null. [note: cached-grants] */
export function parseSetRole(sql: string): string | null {
  if (!/role/i.test(sql)) return null;
  const m = SET_ROLE.exec(sql);
  return m ? m[1].trim().replace(/\s+/g, ' ') : null;
}

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

/** Why a statement makes this session's cached answers invalid, or null. */
export function blockerOf(sql: string): string | null {
  // A USE that parseUse cannot follow (after a comment, inside several statements) leaves the
  // tracked database wrong, and an unqualified cached query would name another table than the
  // session's. [note: cached-grants]
  if (/use/i.test(sql) && USE_ANYWHERE.test(sql) && parseUse(sql) === null) return 'a USE Rotor could not follow';
  // Cheap screen first: almost every statement contains neither word.
  if (!/set|temporary/i.test(sql)) return null;
  const t = TEMPORARY_TABLE.exec(sql);
  if (t) return `temporary table ${t[1].replace(/[`"]/g, '')}`;
  const s = BLOCKING_SET.exec(sql);
  if (s) return `${s[1].toLowerCase().replace(/\s+/g, ' ')} changed`;
  return null;
}

export class SessionState implements SessionView {
  readonly connectionId: number;
  user: string;
  database: string | null;
  /** The last status flags upstream reported. */
  status = Status.AUTOCOMMIT as number;
  cacheBlocker: string | null = null;
  writes = 0;
  role = '';
  loginAt = performance.now();
  probe?: (sql: string, kind: 'query' | 'prepare') => Promise<ProbeError | null>;
  /** Set while the connection's character set keeps every statement from the caches. */
  #charsetBlocker: string | null = null;

  constructor(connectionId: number, user: string, database: string | null, collation: number) {
    this.connectionId = connectionId;
    this.user = user;
    this.database = database;
    this.setCharset(collation);
  }

  /** The client's collation from the handshake or COM_CHANGE_USER. */
  setCharset(collation: number): void {
    this.#charsetBlocker = charsetBlocker(collation);
    this.cacheBlocker ??= this.#charsetBlocker;
  }

  /** COM_CHANGE_USER: a new login, with the defaults of a new session. */
  relogin(user: string, database: string | null, collation: number): void {
    this.user = user;
    this.database = database;
    this.loginAt = performance.now();
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

  /** Notes a statement being sent upstream (conservatively, before knowing it succeeded). */
  noteStatement(sql: string): void {
    if (this.cacheBlocker !== null) return;
    this.cacheBlocker = blockerOf(sql);
  }

  /** After COM_RESET_CONNECTION or COM_CHANGE_USER: settings and temporary tables are gone. */
  reset(): void {
    this.cacheBlocker = this.#charsetBlocker;
    this.role = '';
  }
}
