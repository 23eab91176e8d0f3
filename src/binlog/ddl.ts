/**
 * Recognizes the DDL statements a binlog Query event carries and names the tables they touch, so
 * the engine can invalidate what reads them. Conservative by design: a statement it cannot
 * attribute comes back as kind `other` with no tables, and the engine treats that as "anything in
 * this database may have changed".
 */
import type { SchemaChange } from './sink.js';

export type SchemaChangeKind = SchemaChange['kind'];

/** A table a statement names, with the database it resolves to. */
export interface TableRef {
  readonly database: string;
  readonly table: string;
}

export interface ClassifiedDdl {
  readonly kind: SchemaChangeKind;
  readonly tables: ReadonlyArray<TableRef>;
}

type Token = { readonly word: string; readonly quoted: boolean };

// Strips comments (keeping the bodies of `/*!` and `/*M!` version comments, as the server executes them) and
// splits into identifiers/keywords and single punctuation characters.
function tokenize(sql: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    if (/\s/.test(c)) { i++; continue; }
    if (c === '/' && sql[i + 1] === '*') {
      if (sql[i + 2] === '!' || (sql[i + 2] === 'M' && sql[i + 3] === '!')) {
        i += sql[i + 2] === '!' ? 3 : 4;
        while (i < sql.length && /\d/.test(sql[i])) i++;
        continue;
      }
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? sql.length : end + 2;
      continue;
    }
    if (c === '*' && sql[i + 1] === '/') { i += 2; continue; }
    if (c === '#' || (c === '-' && sql[i + 1] === '-')) {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? sql.length : end + 1;
      continue;
    }
    if (c === '`') {
      let word = '';
      i++;
      while (i < sql.length) {
        if (sql[i] === '`') {
          if (sql[i + 1] === '`') { word += '`'; i += 2; continue; }
          i++;
          break;
        }
        word += sql[i++];
      }
      out.push({ word, quoted: true });
      continue;
    }
    if (c === "'" || c === '"') {
      // A string literal: never a table name; skip it whole.
      i++;
      while (i < sql.length && sql[i] !== c) i += sql[i] === '\\' ? 2 : 1;
      i++;
      out.push({ word: '', quoted: true });
      continue;
    }
    const m = /^[\p{L}\p{N}_$]+/u.exec(sql.slice(i, i + 256));
    if (m) { out.push({ word: m[0], quoted: false }); i += m[0].length; continue; }
    out.push({ word: c, quoted: false });
    i++;
  }
  return out;
}

class Cursor {
  #i = 0;
  readonly #tokens: Token[];
  readonly #database: string;

  constructor(tokens: Token[], database: string) {
    this.#tokens = tokens;
    this.#database = database;
  }

  /** True (and advances) when the next tokens are these keywords. */
  accept(...words: string[]): boolean {
    for (let k = 0; k < words.length; k++) {
      const t = this.#tokens[this.#i + k];
      if (!t || t.quoted || t.word.toUpperCase() !== words[k]) return false;
    }
    this.#i += words.length;
    return true;
  }

  /** True when no token is left. */
  atEnd(): boolean {
    return this.#i >= this.#tokens.length || (this.#tokens[this.#i].word === ';' && !this.#tokens[this.#i].quoted);
  }

  /** Skips any of these single keywords, in any order. */
  skip(...words: string[]): void {
    while (words.some((w) => this.accept(w))) { /* keep skipping */ }
  }

  /** Reads `name` or `db`.`name`; null when the next token is not an identifier. */
  tableRef(): TableRef | null {
    const a = this.#tokens[this.#i];
    if (!a || (!a.quoted && !/^[\p{L}\p{N}_$]+$/u.test(a.word))) return null;
    this.#i++;
    if (this.#tokens[this.#i]?.word === '.' && !this.#tokens[this.#i].quoted) {
      const b = this.#tokens[this.#i + 1];
      if (b) {
        this.#i += 2;
        return { database: a.word, table: b.word };
      }
    }
    return { database: this.#database, table: a.word };
  }

  /** Advances past the next unquoted occurrence of a keyword; false when there is none. */
  seek(word: string): boolean {
    for (let j = this.#i; j < this.#tokens.length; j++) {
      const t = this.#tokens[j];
      if (!t.quoted && t.word.toUpperCase() === word) { this.#i = j + 1; return true; }
    }
    return false;
  }

  comma(): boolean {
    return this.accept(',');
  }
}

function list(c: Cursor): TableRef[] {
  const out: TableRef[] = [];
  for (let t = c.tableRef(); t; t = c.comma() ? c.tableRef() : null) out.push(t);
  return out;
}

/**
 * Account management: what a user may read can change. [note: cached-grants] Checked before the
 * DDL forms (`CREATE USER`, `DROP ROLE` are not table DDL). The cursor is left where it was when
 * the answer is false.
 */
function changesPrivileges(c: Cursor): boolean {
  if (c.accept('GRANT') || c.accept('REVOKE')) return true;
  for (const verb of ['CREATE', 'DROP', 'ALTER', 'RENAME']) {
    for (const noun of ['USER', 'ROLE']) if (c.accept(verb, noun) || c.accept(verb, 'OR', 'REPLACE', noun)) return true;
  }
  if (c.accept('SET', 'DEFAULT', 'ROLE')) return true;
  // A password change ends the logins HTTP reads remember ([note: http-principals]); MariaDB logs
  // `SET PASSWORD FOR 'u'@'h'='*…'`, with none of the other words.
  if (c.accept('SET', 'PASSWORD')) return true;
  return c.accept('FLUSH', 'PRIVILEGES') || c.accept('FLUSH', 'NO_WRITE_TO_BINLOG', 'PRIVILEGES') || c.accept('FLUSH', 'LOCAL', 'PRIVILEGES');
}

/**
 * Classifies one statement from a Query event. `database` is the event's default schema.
 * Returns null for statements that are not DDL on tables or databases (BEGIN, SAVEPOINT, GRANT …).
 */
export function classifyDdl(sql: string, database: string): ClassifiedDdl | null {
  const ddl = classify(sql, database);
  // Any other statement that names privileges may change them in a way the cursor did not follow
  // (a comment placed to confuse it, a form it does not know): every check is made again.
  return ddl === null && PRIVILEGE_WORDS.test(sql) ? { kind: 'privileges', tables: [] } : ddl;
}

/** Words of the statements that change what a user may read. [note: cached-grants] */
export const PRIVILEGE_WORDS = /\b(?:GRANT|REVOKE|ROLE|PRIVILEGES|USER|PASSWORD)\b/i;

function classify(sql: string, database: string): ClassifiedDdl | null {
  const c = new Cursor(tokenize(sql), database);
  if (changesPrivileges(c)) return { kind: 'privileges', tables: [] };
  if (c.accept('ALTER')) {
    c.skip('ONLINE', 'IGNORE');
    if (!c.accept('TABLE')) return c.accept('DATABASE') || c.accept('SCHEMA') ? { kind: 'other', tables: [] } : viewDdl(c, sql);
    c.skip('IF', 'EXISTS');
    const t = c.tableRef();
    if (!t) return { kind: 'other', tables: [] };
    const tables = [t];
    // ALTER TABLE a RENAME [TO|AS] b: both names lose their old meaning.
    if (c.seek('RENAME')) {
      c.skip('TO', 'AS');
      const to = c.tableRef();
      if (to && !['COLUMN', 'INDEX', 'KEY'].includes(to.table.toUpperCase())) tables.push(to);
    }
    return { kind: 'alter', tables };
  }
  if (c.accept('RENAME')) {
    if (!c.accept('TABLE') && !c.accept('TABLES')) return null;
    const tables: TableRef[] = [];
    do {
      const from = c.tableRef();
      if (!from || !c.accept('TO')) break;
      const to = c.tableRef();
      tables.push(from);
      if (to) tables.push(to);
    } while (c.comma());
    return { kind: 'rename', tables };
  }
  if (c.accept('TRUNCATE')) {
    c.skip('TABLE');
    const t = c.tableRef();
    return { kind: 'truncate', tables: t ? [t] : [] };
  }
  if (c.accept('DROP')) {
    c.skip('TEMPORARY');
    if (c.accept('TABLE') || c.accept('TABLES')) {
      c.skip('IF', 'EXISTS');
      return { kind: 'drop', tables: list(c) };
    }
    if (c.accept('INDEX')) {
      c.skip('IF', 'EXISTS');
      c.tableRef();
      if (!c.accept('ON')) return { kind: 'other', tables: [] };
      const t = c.tableRef();
      return { kind: 'alter', tables: t ? [t] : [] };
    }
    return c.accept('DATABASE') || c.accept('SCHEMA') ? { kind: 'other', tables: [] } : viewDdl(c, sql);
  }
  if (c.accept('CREATE')) {
    c.skip('OR', 'REPLACE', 'TEMPORARY', 'UNIQUE', 'FULLTEXT', 'SPATIAL', 'ONLINE', 'OFFLINE');
    if (c.accept('TABLE')) {
      c.skip('IF', 'NOT', 'EXISTS');
      const t = c.tableRef();
      return { kind: 'create', tables: t ? [t] : [] };
    }
    if (c.accept('INDEX')) {
      c.skip('IF', 'NOT', 'EXISTS');
      c.tableRef();
      if (!c.accept('ON')) return { kind: 'other', tables: [] };
      const t = c.tableRef();
      return { kind: 'alter', tables: t ? [t] : [] };
    }
    return c.accept('DATABASE') || c.accept('SCHEMA') ? { kind: 'other', tables: [] } : viewDdl(c, sql);
  }
  // [note: statement-dml] Rows changed by a statement logged as a statement (a session with
  // binlog_format=STATEMENT or MIXED) have no row events: the tables' caches must forget them.
  if (c.accept('INSERT') || c.accept('REPLACE')) {
    c.skip('LOW_PRIORITY', 'DELAYED', 'HIGH_PRIORITY', 'IGNORE', 'INTO');
    const t = c.tableRef();
    return { kind: 'dml', tables: t ? [t] : [] };
  }
  if (c.accept('UPDATE')) {
    c.skip('LOW_PRIORITY', 'IGNORE');
    const t = c.tableRef();
    return { kind: 'dml', tables: t && c.accept('SET') ? [t] : [] };
  }
  if (c.accept('DELETE')) {
    c.skip('LOW_PRIORITY', 'QUICK', 'IGNORE');
    const t = c.accept('FROM') ? c.tableRef() : null;
    return { kind: 'dml', tables: t && (c.accept('WHERE') || c.atEnd()) ? [t] : [] };
  }
  if (c.accept('LOAD')) return { kind: 'dml', tables: [] };
  return viewDdl(null, sql);
}

/**
 * CREATE [OR REPLACE] … VIEW, ALTER … VIEW, DROP VIEW: kind `view`, naming the views where the
 * cursor (after the verb) finds them. [note: view-expansion] The engine checks every cache that
 * reads a view again on any of them, named or not: a view's name is no table of the caches.
 */
function viewDdl(c: Cursor | null, sql: string): ClassifiedDdl | null {
  if (c !== null && c.seek('VIEW')) {
    c.skip('IF', 'NOT', 'EXISTS');
    return { kind: 'view', tables: list(c) };
  }
  return /^\s*(CREATE|ALTER|DROP)\b[^;]{0,300}?\bVIEW\b/i.test(sql) ? { kind: 'view', tables: [] } : null;
}
