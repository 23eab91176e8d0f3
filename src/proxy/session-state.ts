/**
 * What a session's state machine tracks about its upstream session so the router can decide
 * whether a cached answer is valid for it: current database, transaction state from the status
 * flags, and the session settings that change results (the cache blocker).
 */
import { Status } from './protocol/constants.js';
import type { SessionView } from './read-router.js';

// Session settings that change what a SELECT returns or how its values are encoded, named in a SET
// statement (at the start of a statement, so `UPDATE t SET names = …` does not count).
const BLOCKING_SETTING = /\b(time_zone|sql_mode|names|character\s+set|charset|character_set_results|character_set_connection|character_set_client|collation_connection|div_precision_increment|max_sort_length|group_concat_max_len|sql_select_limit)\b/i;
const SET_WORD = /set\s/iy;
const SPACES = /\s*/y;
const EXECUTABLE_COMMENT = /\/\*M?!\d*/y;
const TEMPORARY_TABLE = /\bCREATE\s+(?:OR\s+REPLACE\s+)?TEMPORARY\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?([`"\w.$]+)/i;
const USE_DATABASE = /^\s*USE\s+(`(?:[^`]|``)+`|[\w$]+)\s*;?\s*$/i;
const KILL = /^\s*KILL\s+(?:(?:HARD|SOFT)\s+)?(?:(?:CONNECTION|QUERY)\s+)?(\d+)\s*;?\s*$/i;
const LOAD_LOCAL = /^\s*LOAD\s+(?:DATA|XML)\b[^;]*?\bLOCAL\s+INFILE\b/i;

/** The id in a `KILL [CONNECTION|QUERY] n` statement, with the means to rewrite it, or null. */
export function parseKill(sql: string): { id: number; rewrite(to: number): string } | null {
  const m = KILL.exec(sql);
  if (!m) return null;
  const start = m.index + m[0].lastIndexOf(m[1]);
  return { id: Number(m[1]), rewrite: (to) => sql.slice(0, start) + String(to) + sql.slice(start + m[1].length) };
}

export function isLoadDataLocal(sql: string): boolean {
  return LOAD_LOCAL.test(sql);
}

/** The database a `USE db` statement selects, or null for any other statement. */
export function parseUse(sql: string): string | null {
  const m = USE_DATABASE.exec(sql);
  if (!m) return null;
  const name = m[1];
  return name.startsWith('`') ? name.slice(1, -1).replace(/``/g, '`') : name;
}

/**
 * The blocking setting a SET statement in `sql` names, or null. One pass, linear in the length of
 * `sql`: it runs on every statement a client sends, and the regular expression it replaces
 * backtracked exponentially on a `;` followed by a few dozen empty comments (a few hundred bytes
 * froze the process; test/proxy/fuzz.test.ts sends such SQL). An executable comment (`/*!40101 SET
 * NAMES utf8` … or `/*M!` …) runs its contents, so they count; other comments before a statement
 * are skipped.
 */
function blockingSet(sql: string): string | null {
  let i = 0;
  for (;;) {
    // At the start of a statement: whitespace and comments.
    for (;;) {
      SPACES.lastIndex = i;
      SPACES.exec(sql);
      i = SPACES.lastIndex;
      EXECUTABLE_COMMENT.lastIndex = i;
      if (EXECUTABLE_COMMENT.exec(sql)) {
        i = EXECUTABLE_COMMENT.lastIndex;
        continue;
      }
      if (!sql.startsWith('/*', i)) break;
      const end = sql.indexOf('*/', i + 2);
      if (end < 0) return null;
      i = end + 2;
    }
    const next = sql.indexOf(';', i);
    SET_WORD.lastIndex = i;
    if (SET_WORD.test(sql)) {
      const m = BLOCKING_SETTING.exec(sql.slice(i + 4, next < 0 ? sql.length : next));
      if (m) return m[1];
    }
    if (next < 0) return null;
    i = next + 1;
  }
}

/** Why a statement makes this session's cached answers invalid, or null. */
export function blockerOf(sql: string): string | null {
  // Cheap screen first: almost every statement contains neither word.
  if (!/set|temporary/i.test(sql)) return null;
  const t = TEMPORARY_TABLE.exec(sql);
  if (t) return `temporary table ${t[1].replace(/[`"]/g, '')}`;
  const s = blockingSet(sql);
  if (s) return `${s.toLowerCase().replace(/\s+/g, ' ')} changed`;
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
