/**
 * Rewrite pass: each FROM reference to a view replaced by the view's definition as a derived
 * table (aliased as the reference was, or by the view's name), so the rest of the planner sees
 * what it already plans: derived-merge merges a view read alone into one SELECT over its tables,
 * a view in a join is a derived table there. Views inside views are expanded the same way.
 *
 * The definitions are the upstream's own (information_schema.VIEWS, read by the engine at
 * registration and after DDL: the planner asks nothing). MariaDB writes them with every table
 * and column qualified by its database (`` `d`.`t`.`id` ``), joins in parentheses and `COUNT(*)`
 * as `count(0)`; the body is normalized to the forms the planner reads.
 *
 * [note: view-expansion] A cache over a view is planned over the view's base tables (the binlog
 * carries their rows, never the view's), but everything that decides who may read it and where
 * statements find it keeps the view: the statement as written names the view, so routing finds
 * the cache by the view's name and the grants check prepares the statement naming the view on the
 * reader's own session, where MariaDB applies its own rules (SQL SECURITY DEFINER: the view's
 * grant alone; INVOKER: the reader's grants on the base tables too). The definitions a plan was
 * made from are part of the cache's definition: a DDL that names one of the views (CREATE OR
 * REPLACE, ALTER, DROP, RENAME) plans the cache again from the definitions read anew, or retires
 * it when the name no longer is a view over tables Rotor can keep. The algorithm
 * (MERGE/TEMPTABLE) changes how MariaDB runs a view, never its rows, so both are planned alike.
 * A view whose rows depend on its reader (USER(), CURRENT_ROLE(), …: {@link SESSION_FUNCTIONS})
 * is refused here, whatever the planner can evaluate.
 */
import { parseStatement, type AstNode } from '../parse.js';
import { unsupported } from '../unsupported.js';
import { inlineCtes } from './cte.js';

/** A view as the upstream defines it. */
export interface ViewDefinition {
  readonly database: string;
  readonly name: string;
  /** information_schema.VIEWS.VIEW_DEFINITION: the SELECT, tables and columns qualified. */
  readonly definition: string;
  /** `UNDEFINED`, `MERGE` or `TEMPTABLE`. */
  readonly algorithm: string;
  /** `DEFINER` or `INVOKER`: MariaDB's to apply (the grants check prepares the statement naming the view). */
  readonly security: string;
}

/** What a pass knows besides the statement. */
export interface PassContext {
  /** Every view the statement reads, however deep, as the upstream defines it. */
  readonly views: ReadonlyArray<ViewDefinition>;
  /** The database an unqualified table name of the statement resolves in, or null. */
  readonly database: string | null;
}

export const NO_VIEWS: PassContext = { views: [], database: null };

/** Views within views deeper than this are refused (MariaDB's own limit is higher; none is useful here). */
const MAX_DEPTH = 8;

/** Returns `ast` itself when it reads no view of `ctx`. */
export function expandViews(ast: AstNode, ctx: PassContext): AstNode {
  if (ctx.views.length === 0) return ast;
  return expandIn(ast, ctx, ctx.database, 0);
}

/** `node` with every FROM reference to a view of `ctx` made its derived table, wherever a FROM clause stands. */
function expandIn<T>(node: T, ctx: PassContext, database: string | null, depth: number): T {
  if (Array.isArray(node)) {
    const mapped = node.map((x: unknown) => expandIn(x, ctx, database, depth));
    return (mapped.some((x, i) => x !== node[i]) ? mapped : node) as T;
  }
  if (node === null || typeof node !== 'object') return node;
  // Unchanged nodes are kept as they are: the planner finds a statement's literals by identity.
  let out: Record<string, unknown> | null = null;
  for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
    const w = k === 'from' && Array.isArray(v) ? expandFrom(v as AstNode[], ctx, database, depth) : expandIn(v, ctx, database, depth);
    if (w !== v) (out ??= { ...(node as Record<string, unknown>) })[k] = w;
  }
  return (out ?? node) as T;
}

function expandFrom(from: AstNode[], ctx: PassContext, database: string | null, depth: number): AstNode[] {
  const mapped = from.map((f) => expandRef(f, ctx, database, depth));
  return mapped.some((x, i) => x !== from[i]) ? mapped : from;
}

function expandRef(f: AstNode, ctx: PassContext, database: string | null, depth: number): AstNode {
  if (f.expr || typeof f.table !== 'string') return expandIn(f, ctx, database, depth);
  const db = typeof f.db === 'string' && f.db !== '' ? f.db : database;
  // Names compare exactly, as the upstream's (case-sensitive) table names do.
  const view = db === null ? undefined : ctx.views.find((v) => v.database === db && v.name === f.table);
  if (view === undefined) return expandIn(f, ctx, database, depth);
  if (depth >= MAX_DEPTH) throw unsupported('FROM', `views nested more than ${MAX_DEPTH} deep (${view.database}.${view.name})`);
  const { db: _db, table: _table, ...rest } = f;
  const body = expandIn(viewBody(view), ctx, view.database, depth + 1);
  return { ...expandIn(rest, ctx, database, depth), expr: { ast: body, parentheses: true }, as: typeof f.as === 'string' ? f.as : view.name };
}

/** The view's SELECT as the planner reads a derived table: columns by table name, joins as a list. */
export function viewBody(view: ViewDefinition): AstNode {
  const where = `view ${view.database}.${view.name}`;
  const parsed = parseStatement(flattenJoins(view.definition));
  if (parsed.type !== 'select') throw unsupported('FROM', `${where}: a definition that is not a SELECT`);
  if (parsed._next) throw unsupported('FROM', `${where}: a UNION`);
  const select = inlineCtes(parsed);
  const tables = fromTables(select);
  for (const t of tables) {
    if (tables.some((u) => u.name === t.name && u.db !== t.db)) throw unsupported('FROM', `${where}: two tables named ${t.name}`);
  }
  const session = sessionFunction(select);
  if (session !== null) throw unsupported('FROM', `${where}: ${session}() gives each reader (or each moment) its own rows`);
  return normalize(select) as AstNode;
}

/**
 * Functions whose value depends on who reads, in which session or when: a view that calls one
 * (`WHERE owner = SUBSTRING_INDEX(USER(), '@', 1)`, a row-level security view) answers each
 * reader otherwise, so one cache of it would serve one reader's rows to another. Refused by name,
 * whatever else the planner learns to evaluate.
 */
const SESSION_FUNCTIONS = new Set([
  'USER', 'CURRENT_USER', 'SESSION_USER', 'SYSTEM_USER', 'CURRENT_ROLE', 'DATABASE', 'SCHEMA', 'CONNECTION_ID',
  'LAST_INSERT_ID', 'FOUND_ROWS', 'ROW_COUNT', 'NOW', 'CURRENT_TIMESTAMP', 'CURDATE', 'CURRENT_DATE', 'CURTIME',
  'CURRENT_TIME', 'SYSDATE', 'LOCALTIME', 'LOCALTIMESTAMP', 'UNIX_TIMESTAMP', 'UTC_DATE', 'UTC_TIME', 'UTC_TIMESTAMP',
  'RAND', 'UUID', 'UUID_SHORT', 'SYS_GUID', 'NEXTVAL', 'LASTVAL', 'SETVAL', 'GET_LOCK', 'IS_USED_LOCK', 'IS_FREE_LOCK',
]);

/** The first session-dependent function a node calls (upper case), or null. */
function sessionFunction(node: unknown): string | null {
  if (Array.isArray(node)) {
    for (const x of node) {
      const f = sessionFunction(x);
      if (f !== null) return f;
    }
    return null;
  }
  if (node === null || typeof node !== 'object') return null;
  const n = node as AstNode;
  if (n.type === 'function') {
    const name = n.name as AstNode | string | undefined;
    const parts = typeof name === 'string' ? [name] : ((name as AstNode | undefined)?.name as AstNode[] | undefined)?.map((p) => String(p.value)) ?? [];
    const upper = parts.join('.').toUpperCase();
    if (SESSION_FUNCTIONS.has(upper)) return upper;
  }
  if (n.type === 'var') return '@';
  for (const v of Object.values(n)) {
    const f = sessionFunction(v);
    if (f !== null) return f;
  }
  return null;
}

/** Every FROM entry without an alias, however deep: the tables a qualified column may name. */
function fromTables(node: unknown, out: Array<{ db: string | null; name: string }> = []): Array<{ db: string | null; name: string }> {
  if (Array.isArray(node)) {
    for (const x of node) fromTables(x, out);
    return out;
  }
  if (node === null || typeof node !== 'object') return out;
  const from = (node as AstNode).from;
  for (const f of (Array.isArray(from) ? from : []) as AstNode[]) {
    if (typeof f.table === 'string') out.push({ db: typeof f.db === 'string' ? f.db : null, name: typeof f.as === 'string' ? f.as : f.table });
  }
  for (const v of Object.values(node)) fromTables(v, out);
  return out;
}

/**
 * MariaDB's spelling of a definition as the planner's: `FROM (a join b on(…))` as the list
 * `FROM a JOIN b ON …`, `` `d`.`t`.`c` `` as `t.c` (a view reads no two tables of one name:
 * checked above), `count(0)` as `COUNT(*)`.
 */
function normalize(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(normalize);
  if (node === null || typeof node !== 'object') return node;
  const n = node as Record<string, unknown>;
  if (n.type === 'column_ref' && n.db !== undefined) {
    const { db: _db, ...rest } = n;
    return normalize(rest);
  }
  if (n.type === 'aggr_func' && String(n.name).toUpperCase() === 'COUNT') {
    const args = n.args as AstNode | undefined;
    const e = args?.expr as AstNode | undefined;
    // COUNT of a constant that is not NULL counts every row.
    if (e?.type === 'number' && !args?.distinct) return { ...n, args: { ...args, expr: { type: 'star', value: '*' } } };
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(n)) {
    if (k === 'from' && v !== null && typeof v === 'object' && !Array.isArray(v) && Array.isArray((v as AstNode).expr)) {
      const keys = Object.keys(v).filter((x) => (v as Record<string, unknown>)[x] !== null && (v as Record<string, unknown>)[x] !== undefined);
      if (keys.some((x) => x !== 'expr' && x !== 'parentheses' && !(x === 'joins' && (v as AstNode).joins instanceof Array && ((v as AstNode).joins as unknown[]).length === 0))) throw unsupported('FROM', 'a view whose FROM is this kind of table reference');
      out[k] = normalize((v as AstNode).expr);
    } else out[k] = normalize(v);
  }
  return out;
}

/**
 * MariaDB writes a view's joins in parentheses, left-deep (`from ((a join b on(…)) left join c
 * on(…))`), which the SQL parser reads only one level deep: the parentheses that open right after
 * a FROM (before a table, not a subquery) are removed with the ones that close them, leaving the
 * same joins left to right (`from a join b on(…) left join c on(…)`). Quoted text is skipped.
 */
export function flattenJoins(sql: string): string {
  const drop = new Set<number>();
  const quoted = quotedRanges(sql);
  const inQuote = (i: number): boolean => quoted.some(([a, b]) => i >= a && i < b);
  const from = /\bfrom\s*\(/gi;
  for (let m = from.exec(sql); m !== null; m = from.exec(sql)) {
    if (inQuote(m.index)) continue;
    const opens: number[] = [];
    let i = m.index + m[0].length - 1;
    for (; i < sql.length && (sql[i] === '(' || /\s/.test(sql[i])); i++) if (sql[i] === '(') opens.push(i);
    if (sql[i] !== '`') continue;
    for (const o of opens) {
      const c = matching(sql, o, inQuote);
      if (c < 0) return sql;
      drop.add(o);
      drop.add(c);
    }
  }
  if (drop.size === 0) return sql;
  let out = '';
  for (let i = 0; i < sql.length; i++) if (!drop.has(i)) out += sql[i];
  return out;
}

/** The index of the parenthesis closing the one at `open`, or -1. */
function matching(sql: string, open: number, inQuote: (i: number) => boolean): number {
  let depth = 0;
  for (let i = open; i < sql.length; i++) {
    if (inQuote(i)) continue;
    if (sql[i] === '(') depth++;
    else if (sql[i] === ')' && --depth === 0) return i;
  }
  return -1;
}

/** [start, end) of every quoted string and identifier (backslash and doubled-quote escapes). */
function quotedRanges(sql: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < sql.length; i++) {
    const q = sql[i];
    if (q !== "'" && q !== '"' && q !== '`') continue;
    let j = i + 1;
    for (; j < sql.length; j++) {
      if (q !== '`' && sql[j] === '\\') { j++; continue; }
      if (sql[j] === q) {
        if (sql[j + 1] === q) { j++; continue; }
        break;
      }
    }
    out.push([i, j + 1]);
    i = j;
  }
  return out;
}
