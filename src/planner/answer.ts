/**
 * Statements with expressions Rotor does not evaluate itself: planned as MariaDB's own answer per
 * key ([note: answer-refill], operators/query-answer.ts), the fallback for what the incremental
 * paths (plan.ts, join.ts, union.ts) refuse. What the planner decides here is that the answer of
 * a key is a function of the rows whose parameter columns equal it, and of nothing a read could
 * see differently from the fill:
 *
 * - one table, read by name; each parameter `column = ?` (or `? = column`) ANDed at the top of
 *   WHERE, on a distinct column; no other placeholder (not in the select list, not in LIMIT);
 * - every function deterministic and known ({@link FUNCTIONS}): a function that reads the clock,
 *   a random source, the session (user, connection, last insert id, variables) or other tables
 *   (stored functions, subqueries) is refused by name ({@link REFUSED}), as is every function the
 *   list does not name; so are functions whose value depends on session settings Rotor does not
 *   compare (`lc_time_names`: month and day names; `default_week_format`: WEEK without a mode),
 *   and CONVERT_TZ with a named zone (the upstream's time zone tables are not in the binlog);
 * - the session settings it may depend on are those the router compares: time_zone UTC, the
 *   global sql_mode (without flags that change how text parses, which the fill connection drops:
 *   such caches do not answer while the upstream has one), div_precision_increment and
 *   group_concat_max_len (all three set for the fill: build-answer.ts, views/schema-refresh.ts),
 *   the connection's collation (views/read-refusals.ts).
 *
 * The statement's text is the fill's: split at its placeholders, its table qualified by its
 * database. Its literal slots come from the fingerprint of the same text (each constant must be
 * read again as written, [note: upquery-literals] for the key values).
 */
import type { AstNode } from './parse.js';
import { columnRef, isPlaceholder } from './parse.js';
import { tableOf } from './plan.js';
import { fingerprint } from './fingerprint.js';
import { tokenize } from './tokenizer.js';
import { unsupported } from './unsupported.js';
import type { AnswerPlan, ParamSpec, SlotSpec } from './query-plan.js';
import type { TableSchema } from './schema.js';
import { quoteId } from '../dataflow/sql.js';

/** Deterministic functions whose value depends only on their arguments (and the settings above). */
const FUNCTIONS = new Set([
  // control flow, NULLs, comparison
  'IF', 'IFNULL', 'NULLIF', 'COALESCE', 'ISNULL', 'GREATEST', 'LEAST', 'INTERVAL', 'STRCMP', 'FIELD', 'ELT', 'FIND_IN_SET',
  // strings
  'CONCAT', 'CONCAT_WS', 'LOWER', 'LCASE', 'UPPER', 'UCASE', 'LENGTH', 'OCTET_LENGTH', 'CHAR_LENGTH', 'CHARACTER_LENGTH', 'BIT_LENGTH',
  'SUBSTRING', 'SUBSTR', 'MID', 'LEFT', 'RIGHT', 'TRIM', 'LTRIM', 'RTRIM', 'REPLACE', 'REVERSE', 'LPAD', 'RPAD', 'REPEAT', 'SPACE',
  'LOCATE', 'INSTR', 'POSITION', 'SUBSTRING_INDEX', 'INSERT', 'ASCII', 'ORD', 'HEX', 'UNHEX', 'BIN', 'OCT', 'CONV', 'QUOTE',
  'MD5', 'SHA1', 'SHA', 'SHA2', 'CRC32', 'TO_BASE64', 'FROM_BASE64', 'CHAR', 'CONVERT',
  // numbers
  'ROUND', 'FLOOR', 'CEIL', 'CEILING', 'ABS', 'SIGN', 'MOD', 'TRUNCATE', 'POW', 'POWER', 'SQRT', 'EXP', 'LN', 'LOG', 'LOG2', 'LOG10',
  'PI', 'DEGREES', 'RADIANS', 'SIN', 'COS', 'TAN', 'ASIN', 'ACOS', 'ATAN', 'ATAN2', 'COT', 'BIT_COUNT', 'FORMAT',
  // dates and times (the session's time_zone is UTC, as the fill's)
  'DATE', 'TIME', 'YEAR', 'MONTH', 'DAY', 'DAYOFMONTH', 'DAYOFWEEK', 'DAYOFYEAR', 'WEEKDAY', 'HOUR', 'MINUTE', 'SECOND', 'MICROSECOND',
  'QUARTER', 'DATE_FORMAT', 'TIME_FORMAT', 'TIMESTAMPDIFF', 'TIMESTAMPADD', 'DATEDIFF', 'TIMEDIFF', 'ADDTIME', 'SUBTIME', 'DATE_ADD',
  'DATE_SUB', 'ADDDATE', 'SUBDATE', 'LAST_DAY', 'MAKEDATE', 'MAKETIME', 'TO_DAYS', 'FROM_DAYS', 'TO_SECONDS', 'TIME_TO_SEC', 'SEC_TO_TIME',
  'PERIOD_ADD', 'PERIOD_DIFF', 'CONVERT_TZ', 'UNIX_TIMESTAMP', 'FROM_UNIXTIME', 'WEEK', 'YEARWEEK', 'WEEKOFYEAR', 'TIMESTAMP',
]);

/** Why a function is refused by name: it is not deterministic, or reads what a fill cannot see as the reader does. */
const REFUSED: Record<string, string> = {
  ...Object.fromEntries(['NOW', 'CURRENT_TIMESTAMP', 'LOCALTIME', 'LOCALTIMESTAMP', 'SYSDATE', 'CURDATE', 'CURRENT_DATE', 'CURTIME', 'CURRENT_TIME', 'UTC_DATE', 'UTC_TIME', 'UTC_TIMESTAMP']
    .map((f) => [f, 'reads the clock'])),
  ...Object.fromEntries(['RAND', 'UUID', 'UUID_SHORT', 'SYS_GUID', 'RANDOM_BYTES'].map((f) => [f, 'is random'])),
  ...Object.fromEntries(['CURRENT_USER', 'USER', 'SESSION_USER', 'SYSTEM_USER', 'CURRENT_ROLE', 'DATABASE', 'SCHEMA', 'CONNECTION_ID', 'LAST_INSERT_ID', 'ROW_COUNT', 'FOUND_ROWS', 'LAST_VALUE', 'VERSION', 'BENCHMARK', 'SLEEP', 'GET_LOCK', 'RELEASE_LOCK', 'IS_FREE_LOCK', 'IS_USED_LOCK', 'MASTER_POS_WAIT', 'MASTER_GTID_WAIT', 'NEXTVAL', 'LASTVAL', 'SETVAL', 'LOAD_FILE', 'VALUES', 'VALUE', 'DEFAULT', 'ENCRYPT', 'PASSWORD', 'COLUMN_GET', 'BINLOG_GTID_POS']
    .map((f) => [f, 'reads the session or the server, not the row'])),
  DAYNAME: 'depends on the session\'s lc_time_names', MONTHNAME: 'depends on the session\'s lc_time_names',
};

/** Aggregates evaluated by MariaDB for the key's rows. */
const AGGREGATES = new Set(['COUNT', 'SUM', 'AVG', 'MIN', 'MAX', 'GROUP_CONCAT', 'BIT_AND', 'BIT_OR', 'BIT_XOR', 'STD', 'STDDEV', 'STDDEV_POP', 'STDDEV_SAMP', 'VARIANCE', 'VAR_POP', 'VAR_SAMP']);

const OPERATORS = new Set(['+', '-', '*', '/', 'DIV', '%', 'MOD', '=', '!=', '<>', '<', '>', '<=', '>=', 'AND', 'OR', 'XOR', '&&', 'IS', 'IS NOT', 'IN', 'NOT IN', 'BETWEEN', 'NOT BETWEEN', 'LIKE', 'NOT LIKE', '&', '|', '^', '<<', '>>']);
const UNARY = new Set(['-', '+', 'NOT', '!', '~']);
const LITERALS = new Set(['number', 'bigint', 'bool', 'null', 'single_quote_string', 'natural_string', 'hex_string', 'full_hex_string', 'bit_string', 'date', 'time', 'timestamp', 'datetime']);
/** Keywords the parser leaves as `origin` nodes among a function's arguments (units, TRIM's sides). */
const KEYWORDS = new Set(['MICROSECOND', 'SECOND', 'MINUTE', 'HOUR', 'DAY', 'WEEK', 'MONTH', 'QUARTER', 'YEAR', 'SECOND_MICROSECOND', 'MINUTE_MICROSECOND', 'MINUTE_SECOND', 'HOUR_MICROSECOND', 'HOUR_SECOND', 'HOUR_MINUTE', 'DAY_MICROSECOND', 'DAY_SECOND', 'DAY_MINUTE', 'DAY_HOUR', 'YEAR_MONTH', 'LEADING', 'TRAILING', 'BOTH', 'FROM']);
/** A time zone CONVERT_TZ may name: an offset, which needs no time zone table. */
const OFFSET_ZONE = /^[+-]\d{1,2}:\d{2}$/;

/** Refusals of what no cache keeps (a clock, a random source, the session): they name the reason. */
const decisive = new WeakSet<Error>();

/** True when `e` refuses a function no plan would keep, rather than a shape another plan might. */
export function isDecisive(e: unknown): boolean {
  return e instanceof Error && decisive.has(e);
}

function never(clause: string, detail: string): Error {
  const e = unsupported(clause, detail);
  decisive.add(e);
  return e;
}

/**
 * Plans `statement` (as parsed from `sql`, whose table has `schema`) as MariaDB's answer per key,
 * or throws why it cannot be.
 */
export function planAnswer(statement: AstNode, sql: string, schema: TableSchema, unqualified: boolean): AnswerPlan {
  const ast = statement;
  if (ast.type !== 'select' || ast._next) throw unsupported('statement', 'a UNION with expressions');
  if (ast.with) throw unsupported('WITH', 'common table expressions with expressions');
  tableOf(ast);
  if (ast.options !== null && ast.options !== undefined && (ast.options as unknown[]).length > 0) throw unsupported('SELECT', 'SELECT options (SQL_CALC_FOUND_ROWS, SQL_NO_CACHE, …) with expressions');
  if (ast.locking_read) throw unsupported('FOR UPDATE', 'locking reads');
  if (ast.into && (ast.into as AstNode).position) throw unsupported('INTO', 'SELECT … INTO');
  if (ast.window) throw unsupported('WINDOW', 'window functions');
  const cols = schema.columns;
  const colIndex = (column: string): number => {
    const i = cols.findIndex((c) => c.name.toLowerCase() === column.toLowerCase());
    if (i < 0) throw unsupported('WHERE', `column ${column}, which the table does not have, as a parameter`);
    return i;
  };

  // WHERE: the parameters, and conditions evaluated by MariaDB.
  const params: ParamSpec[] = [];
  const conjuncts: AstNode[] = [];
  const split = (n: AstNode): void => {
    if (n.type === 'binary_expr' && n.operator === 'AND') { split(n.left as AstNode); split(n.right as AstNode); } else conjuncts.push(n);
  };
  if (ast.where) split(ast.where as AstNode);
  for (const c of conjuncts) {
    const l = c.left as AstNode | undefined, r = c.right as AstNode | undefined;
    const ref = c.type === 'binary_expr' && c.operator === '=' && l !== undefined && r !== undefined
      ? (isPlaceholder(r) ? columnRef(l) : isPlaceholder(l) ? columnRef(r) : null) : null;
    if (ref !== null) {
      const column = colIndex(ref.column);
      if (params.some((p) => p.column === column)) throw unsupported('WHERE', `two parameters on column ${cols[column].name}`);
      params.push({ column, multi: false, listable: false });
    } else checkExpr(c, 'WHERE');
  }
  const names: string[] = [];
  for (const it of ast.columns as AstNode[]) {
    const e = it.expr as AstNode;
    const ref = columnRef(e);
    if (ref !== null && ref.column === '*') {
      names.push(...cols.filter((c) => c.invisible !== true).map((c) => c.name));
      continue;
    }
    checkExpr(e, 'SELECT');
    names.push(typeof it.as === 'string' ? it.as : ref?.column ?? 'expr');
  }
  for (const g of ((ast.groupby as AstNode | null)?.columns ?? []) as AstNode[]) checkExpr(g, 'GROUP BY');
  if (ast.having) checkExpr(ast.having as AstNode, 'HAVING');
  for (const o of (ast.orderby ?? []) as AstNode[]) checkExpr(o.expr as AstNode, 'ORDER BY');
  const limit = ((ast.limit as AstNode | null)?.value ?? []) as AstNode[];
  for (const v of limit) {
    if (v.type !== 'number') throw unsupported('LIMIT', 'a LIMIT that is not a number, with expressions');
  }
  // As for every cache (limit.ts): which rows a LIMIT keeps is MariaDB's to pick otherwise.
  if (limit.length > 0 && !(Array.isArray(ast.orderby) && ast.orderby.length > 0)) throw unsupported('LIMIT', 'LIMIT without ORDER BY (which rows MariaDB returns is not defined)');
  // Placeholders in textual order are the parameters' (every other place refused one).
  const template = templateOf(sql, schema.database, params.length);
  const fp = fingerprint(sql);
  if (fp === null) throw unsupported('statement', 'a statement the fingerprint cannot read');
  let p = 0;
  const slots: SlotSpec[] = fp.literals.map((l) => {
    if (l.kind === 'param') return { kind: 'param', param: p++ };
    if (l.kind === 'list') {
      if (l.items.some((x) => x.kind !== 'value')) throw unsupported('WHERE', 'a parameter inside a list, with expressions');
      return { kind: 'list-const' };
    }
    return { kind: 'const' };
  });
  if (p !== params.length) throw unsupported('statement', 'placeholders the parser and the fingerprint do not count alike');
  return { kind: 'answer', schema, unqualified, params, slots, template, names };
}

/**
 * The text split at its `?` placeholders, the table after the top-level FROM qualified by
 * `database`; throws when the text has other than `expected` placeholders or a `||` (OR, or
 * CONCAT under PIPES_AS_CONCAT: the fill connection reads it as OR).
 */
function templateOf(sql: string, database: string, expected: number): string[] {
  const toks = tokenize(sql, 0);
  if (toks === null) throw unsupported('statement', 'a statement the fingerprint cannot read');
  const parts: string[] = [];
  let out = '';
  let at = 0;
  let depth = 0;
  let qualified = false;
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    if (t.text === '(') depth++;
    else if (t.text === ')') depth--;
    else if (t.text === '||') throw unsupported('SELECT', '`||` (OR, or CONCAT under PIPES_AS_CONCAT), with expressions: write OR or CONCAT()');
    if (t.t === 'word' && t.text === 'FROM' && depth === 0 && !qualified) {
      qualified = true;
      const table = toks[i + 1];
      if (table?.t === 'word' && toks[i + 2]?.text !== '.') {
        out += sql.slice(at, table.start) + quoteId(database) + '.';
        at = table.start;
      }
    }
    if (t.t === 'param') {
      parts.push(out + sql.slice(at, t.start));
      out = '';
      at = t.end;
    }
  }
  parts.push(out + sql.slice(at));
  if (parts.length !== expected + 1) throw unsupported('statement', 'a placeholder outside `column = ?` conditions ANDed in WHERE');
  return parts;
}

/** Checks that `n` is an expression MariaDB evaluates the same for the fill as for the reader. */
function checkExpr(n: AstNode, clause: string): void {
  const rec = (x: unknown): void => {
    if (x === null || x === undefined) return;
    if (Array.isArray(x)) { x.forEach(rec); return; }
    if (typeof x === 'object') checkExpr(x as AstNode, clause);
  };
  if (n.ast !== undefined || n.type === 'select') throw unsupported(clause, 'a subquery, with expressions');
  if (n.over) throw unsupported(clause, 'window functions');
  switch (n.type) {
    case 'column_ref': case 'star': case 'datatype': return;
    case 'origin':
      if (isPlaceholder(n)) throw unsupported(clause, 'a parameter outside `column = ?` conditions ANDed in WHERE');
      if (typeof n.value === 'string' && KEYWORDS.has(n.value.toUpperCase())) return;
      throw unsupported(clause, `${String(n.value)}`);
    case 'var': throw never(clause, `variable ${String(n.prefix ?? '@')}${String(n.name)} (its value is the session's)`);
    case 'expr_list': rec(n.value); return;
    case 'binary_expr':
      if (!OPERATORS.has(String(n.operator).toUpperCase())) throw unsupported(clause, `the operator ${String(n.operator)}`);
      rec(n.left); rec(n.right); return;
    case 'unary_expr':
      if (!UNARY.has(String(n.operator).toUpperCase())) throw unsupported(clause, `the operator ${String(n.operator)}`);
      rec(n.expr); return;
    case 'case': rec(n.expr); rec(n.args); return;
    case 'when': rec(n.cond); rec(n.result); return;
    case 'else': rec(n.result); return;
    case 'cast': rec(n.expr); return;
    case 'interval': rec(n.expr); return;
    case 'extract': rec((n.args as AstNode | undefined)?.source); return;
    case 'collate': return;
    case 'aggr_func': {
      const fn = String(n.name).toUpperCase();
      if (!AGGREGATES.has(fn)) throw unsupported(clause, `aggregate ${fn}()`);
      const args = n.args as AstNode | null;
      rec(args?.expr);
      for (const o of (args?.orderby ?? []) as AstNode[]) rec(o.expr);
      return;
    }
    case 'function': return checkFunction(n, clause, rec);
    default:
      if (typeof n.type === 'string' && LITERALS.has(n.type)) return;
      throw unsupported(clause, String(n.type ?? 'an expression').replace(/_/g, ' '));
  }
}

function checkFunction(n: AstNode, clause: string, rec: (x: unknown) => void): void {
  const parts = ((n.name as AstNode | undefined)?.name ?? []) as AstNode[];
  const fn = parts.map((p) => String(p.value)).join('.').toUpperCase();
  if ((n.name as AstNode | undefined)?.schema || parts.length !== 1) throw never(clause, `function ${fn}() of a database (a stored function may read other tables or the session)`);
  const args = (((n.args as AstNode | null)?.value ?? []) as AstNode[]);
  const refused = REFUSED[fn];
  if (refused !== undefined) throw never(clause, `${fn}() (it ${refused}, so its value is not the cache's to keep)`);
  if (!FUNCTIONS.has(fn)) throw unsupported(clause, `function ${fn}() (not among the functions Rotor knows to be deterministic)`);
  if ((fn === 'WEEK' || fn === 'YEARWEEK') && args.length < 2) throw never(clause, `${fn}() without a mode (it depends on the session's default_week_format)`);
  if ((fn === 'DATE_FORMAT' || fn === 'TIME_FORMAT') && args.length === 2) {
    const f = args[1];
    if (f.type !== 'single_quote_string' || /%[WMabpr]/.test(String(f.value))) throw never(clause, `${fn}() with day or month names or a format that is not a constant (they depend on the session's lc_time_names)`);
  }
  if ((fn === 'DATE_FORMAT' || fn === 'TIME_FORMAT') && args.length > 2) throw never(clause, `${fn}() with a locale`);
  if (fn === 'FORMAT' && args.length > 2) throw unsupported(clause, 'FORMAT() with a locale');
  if (fn === 'UNIX_TIMESTAMP' && args.length === 0) throw never(clause, 'UNIX_TIMESTAMP() (it reads the clock, so its value is not the cache\'s to keep)');
  if (fn === 'CONVERT_TZ') {
    for (const z of args.slice(1)) {
      if (z.type !== 'single_quote_string' || !OFFSET_ZONE.test(String(z.value))) throw never(clause, 'CONVERT_TZ() with a named time zone (the upstream\'s time zone tables do not reach the binlog): write offsets such as \'+05:30\'');
    }
  }
  rec(args);
}
