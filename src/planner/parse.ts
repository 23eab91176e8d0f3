/**
 * The SQL parser seam: node-sql-parser's MySQL build, with its AST's quirks (as measured) normalized:
 * `` `r`.`id` `` and `r.id` give different shapes for the table qualifier; string literals come
 * back still escaped; decimals come back as strings. Runs only at registration.
 */
import { createRequire } from 'node:module';
import { RotorError } from '../errors.js';
import type { Value } from '../values.js';
import { sqlLiteral } from '../dataflow/sql.js';

const require = createRequire(import.meta.url);
// The MySQL-only build: a fraction of the full bundle's load time.
const { Parser } = require('node-sql-parser/build/mysql') as { Parser: new () => { astify(sql: string, opt?: object): unknown; sqlify(ast: unknown, opt?: object): string } };
const parser = new Parser();

/** A loosely typed AST node: the planner checks every field it reads. */
export type AstNode = { readonly type?: string; readonly [k: string]: unknown };

/** Parses exactly one statement; ERR_CACHE_PARSE otherwise. */
export function parseStatement(sql: string): AstNode {
  let ast: unknown;
  try {
    ast = parser.astify(sql, { database: 'MySQL' });
  } catch (e) {
    throw new RotorError('ERR_CACHE_PARSE', [syntaxError(sql, e)]);
  }
  if (Array.isArray(ast)) {
    if (ast.length !== 1) throw new RotorError('ERR_CACHE_PARSE', ['exactly one statement is expected']);
    ast = ast[0];
  }
  return ast as AstNode;
}

/** A statement with every table qualified, and the tables it reads. */
export interface QualifiedQuery {
  readonly sql: string;
  readonly tables: ReadonlyArray<{ readonly database: string; readonly table: string }>;
}

/**
 * `sql` with every table in every FROM (joins, derived tables, subqueries) qualified by `database`
 * where it named none, identifiers in backticks, `?` kept: the statement means the same tables
 * whatever a session's current database is; with the tables it reads. [note: cached-grants] Null
 * when it does not parse, or names a table without a database and `database` is null.
 */
export function qualifiedQuery(sql: string, database: string | null): QualifiedQuery | null {
  let ast: unknown;
  try {
    ast = parser.astify(sql, { database: 'MySQL' });
  } catch {
    return null;
  }
  if (Array.isArray(ast)) {
    if (ast.length !== 1) return null;
    ast = ast[0];
  }
  let unqualified = false;
  const tables = new Map<string, { database: string; table: string }>();
  // [note: cte-names] A common table expression's name is not a table: left as written.
  const ctes = new Set(((ast as { with?: Array<{ name?: { value?: unknown } }> | null }).with ?? []).map((w) => String(w.name?.value ?? '').toLowerCase()));
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const x of node) walk(x);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const from = (node as { from?: unknown }).from;
    if (Array.isArray(from)) {
      for (const f of from as Array<{ table?: unknown; db?: unknown; type?: unknown }>) {
        if (f === null || typeof f.table !== 'string' || f.type === 'column_ref') continue;
        if (!f.db && ctes.has(f.table.toLowerCase())) continue;
        if (!f.db) {
          if (database === null) unqualified = true;
          else f.db = database;
        }
        if (typeof f.db === 'string') tables.set(`${f.db}\0${f.table}`, { database: f.db, table: f.table });
      }
    }
    for (const v of Object.values(node)) walk(v);
  };
  walk(ast);
  return unqualified ? null : { sql: parser.sqlify(ast, { database: 'MySQL' }), tables: [...tables.values()] };
}

/** The parser's error as MySQL words it: where, not the list of every token it expected. */
function syntaxError(sql: string, e: unknown): string {
  const start = (e as { location?: { start?: { offset: number; line: number; column: number } } }).location?.start;
  if (start === undefined) return e instanceof Error ? e.message.split('\n')[0] : String(e);
  return `syntax error near '${sql.slice(start.offset, start.offset + 40)}' at line ${start.line}, column ${start.column}`;
}

/** A column reference with its qualifier normalized to a plain string (or null). */
export function columnRef(node: AstNode): { table: string | null; column: string } | null {
  if (node.type !== 'column_ref') return null;
  const t = node.table as unknown;
  let table: string | null = null;
  if (typeof t === 'string') table = t;
  else if (t !== null && typeof t === 'object' && typeof (t as AstNode).value === 'string') table = (t as AstNode).value as string;
  let column = node.column as unknown;
  if (column !== null && typeof column === 'object') {
    const c = column as AstNode;
    column = typeof c.expr === 'object' && c.expr !== null ? (c.expr as AstNode).value : c.value;
  }
  return typeof column === 'string' ? { table, column } : null;
}

/** Undoes MySQL string escapes as node-sql-parser leaves them (`it''s`, `a\'b`, `\n`). */
export function unescapeString(raw: string, quote: "'" | '"'): string {
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === '\\' && i + 1 < raw.length) {
      const n = raw[++i];
      out += n === '0' ? '\0' : n === 'n' ? '\n' : n === 'r' ? '\r' : n === 't' ? '\t' : n === 'b' ? '\b' : n === 'Z' ? '\x1a' : n;
    } else if (c === quote && raw[i + 1] === quote) {
      out += c;
      i++;
    } else out += c;
  }
  return out;
}

/** A literal node's value and whether it is numeric; null when the node is not a plain literal. */
export function literalOf(node: AstNode): { value: Value; numeric: boolean; sql: string } | null {
  switch (node.type) {
    case 'number': {
      const v = node.value;
      // Exponent notation is a DOUBLE in MySQL, compared as a floating-point number: not cached.
      const text = typeof v === 'number' || typeof v === 'string' ? String(v) : '';
      if (!/^-?(\d+\.?\d*|\.\d+)$/.test(text) || !exactThroughDouble(text)) return null;
      return { value: v as number | string, numeric: true, sql: text };
    }
    case 'bigint': return typeof node.value === 'string' && /^-?\d+$/.test(node.value) ? { value: BigInt(node.value), numeric: true, sql: node.value } : null;
    case 'bool': return { value: node.value ? 1 : 0, numeric: true, sql: node.value ? 'TRUE' : 'FALSE' };
    case 'null': return { value: null, numeric: false, sql: 'NULL' };
    case 'single_quote_string': case 'double_quote_string': {
      const q = node.type === 'single_quote_string' ? "'" : '"';
      const s = unescapeString(String(node.value), q);
      return { value: s, numeric: false, sql: sqlLiteral(s) };
    }
    default: return null;
  }
}

/**
 * node-sql-parser keeps the digits of a positive integer beyond 2^53 (a `bigint` node) but reads
 * every other number through a double: `-9223372036854775808` arrives as -9223372036854776000 and
 * `1.23456789012345678` as 1.23456789012345669. A number with at most 15 significant digits and
 * below 2^53 survives that round trip, so it is the literal as written; any other may not be.
 */
function exactThroughDouble(text: string): boolean {
  const digits = text.replace(/^-/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return digits.length <= 15 && Math.abs(Number(text)) < 2 ** 53;
}

export function isPlaceholder(node: AstNode): boolean {
  return node.type === 'origin' && node.value === '?';
}
