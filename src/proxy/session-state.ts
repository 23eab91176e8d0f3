/**
 * What a session's state machine tracks about its upstream session so the router can decide
 * whether a cached answer is valid for it: current database, transaction state from the status
 * flags, and the session settings that change results (the cache blocker).
 */
import { Status } from './protocol/constants.js';
import type { SessionView } from './read-router.js';

// Session settings that change what a SELECT returns or how its values are encoded: a SET
// statement (at the start of a statement, so `UPDATE t SET names = …` does not count).
const BLOCKING_SET = /(?:^|;)\s*(?:\/\*.*?\*\/\s*)*SET\s[^;]*?\b(time_zone|sql_mode|names|character\s+set|charset|character_set_results|character_set_connection|character_set_client|collation_connection|div_precision_increment|max_sort_length|group_concat_max_len|sql_select_limit)\b/is;
const TEMPORARY_TABLE = /\bCREATE\s+(?:OR\s+REPLACE\s+)?TEMPORARY\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?([`"\w.$]+)/i;
const USE_DATABASE = /^\s*USE\s+(`(?:[^`]|``)+`|[\w$]+)\s*;?\s*$/i;

/** The database a `USE db` statement selects, or null for any other statement. */
export function parseUse(sql: string): string | null {
  const m = USE_DATABASE.exec(sql);
  if (!m) return null;
  const name = m[1];
  return name.startsWith('`') ? name.slice(1, -1).replace(/``/g, '`') : name;
}

/** Why a statement makes this session's cached answers invalid, or null. */
export function blockerOf(sql: string): string | null {
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

  constructor(connectionId: number, user: string, database: string | null) {
    this.connectionId = connectionId;
    this.user = user;
    this.database = database;
  }

  get inTransaction(): boolean {
    return (this.status & Status.IN_TRANS) !== 0 || (this.status & Status.AUTOCOMMIT) === 0;
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
    this.cacheBlocker = null;
  }
}
