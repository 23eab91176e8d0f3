/**
 * Conditions (WHERE, HAVING, a join's ON) as dataflow expressions ({@link toExpr}), refused where
 * Rotor cannot compare as MariaDB does; how a column or an aggregate's result compares and orders
 * ({@link conditionMeta}, {@link ruleInfo}); and how a construct the planner refuses is named in
 * the reason ({@link describeNode}). Used by the plans (plan.ts, join.ts, union.ts) and build.ts,
 * through plan.ts, which re-exports them.
 */
import type { Collation } from '../dataflow/collation.js';
import type { Expr } from '../dataflow/expr.js';
import { columnRef, isPlaceholder, literalOf, type AstNode } from './parse.js';
import type { RuleSpec } from './query-plan.js';
import { collationOf, columnClass, isNumericColumn, type ColumnInfo } from './schema.js';
import { unsupported } from './unsupported.js';

const COMPARE: Record<string, '=' | '<>' | '<' | '>' | '<=' | '>='> = { '=': '=', '<>': '<>', '!=': '<>', '<': '<', '>': '>', '<=': '<=', '>=': '>=' };

/**
 * `converts`: the column's type when MariaDB compares it not with a constant but with what it
 * would store for it (a YEAR: `yr = 24` is `yr = 2024`, `yr > 50` is `yr > 2050`) or as another
 * type than its values' (a BIT with a string: as an integer, or as bytes through an index); such
 * comparisons are refused, as the planner cannot write them as comparisons of values.
 */
export type ColumnMeta = { i: number; name: string; numeric: boolean; collation: Collation | null; temporal: boolean; real?: boolean; notNull?: boolean; converts?: string };

/** How a condition compares a column of this type (numerically, as `_ci` text; temporal ones are refused). */
/**
 * How a column (or an aggregate's result, {@link ruleInfo}) compares with constants: as a number, as
 * text under its collation ([note: collations]), as a double when FLOAT/DOUBLE ([note: float-exact]).
 */
export function conditionMeta(c: ColumnInfo): Omit<ColumnMeta, 'i' | 'name'> {
  const real = columnClass(c) === 'float';
  const converts = CONVERTING[c.dataType];
  return { numeric: isNumericColumn(c), collation: collationOf(c), temporal: columnClass(c) === 'temporal', ...(real ? { real } : {}), ...(c.notNull === true ? { notNull: true } : {}), ...(converts !== undefined ? { converts } : {}) };
}

/** Column types whose comparisons with constants MariaDB converts ({@link ColumnMeta} `converts`). */
const CONVERTING: Readonly<Record<string, string>> = { year: 'YEAR', bit: 'BIT' };

/**
 * The type an aggregate's result has, so it orders and compares as MariaDB's does: COUNT a BIGINT,
 * SUM/AVG a DECIMAL (a DOUBLE over FLOAT/DOUBLE), MIN/MAX their argument's (an ENUM's MAX still
 * sorts by index). [note: typed-order]
 */
export function ruleInfo(r: RuleSpec, cols: ReadonlyArray<ColumnInfo>): ColumnInfo {
  const arg = r.arg === null ? null : cols[r.arg];
  if (r.fn === 'COUNT') return { name: '', dataType: 'bigint', scale: 0, collation: null };
  // Never compared nor ordered: the planner refuses GROUP_CONCAT in HAVING, ORDER BY and DISTINCT.
  if (r.fn === 'GROUP_CONCAT') return { name: '', dataType: 'longtext', scale: 0, collation: null };
  if (r.fn === 'MIN' || r.fn === 'MAX') return arg as ColumnInfo;
  const a = arg as ColumnInfo;
  if (columnClass(a) === 'float') return { name: '', dataType: 'double', scale: 0, collation: null };
  const scale = columnClass(a) === 'decimal' ? a.scale : 0;
  return { name: '', dataType: 'decimal', scale: r.fn === 'AVG' ? scale + 4 : scale, collation: null };
}

export function toExpr(n: AstNode, column: ((ref: { table: string | null; column: string }) => ColumnMeta) | null, clause: string, other?: (n: AstNode) => ColumnMeta): Expr {
  const rec = (x: AstNode): Expr => toExpr(x, column, clause, other);
  const ref = columnRef(n);
  if (ref !== null || n.type === 'aggr_func') {
    const m = ref !== null && column !== null ? column(ref) : other ? other(n) : null;
    if (m === null) throw unsupported(clause, describeNode(n));
    if (m.temporal) throw unsupported(clause, `comparisons with DATE/TIME column ${m.name}`);
    if (m.converts !== undefined) throw unsupported(clause, `comparisons with ${m.converts} column ${m.name} (MariaDB converts what it is compared with)`);
    return { k: 'col', i: m.i, name: m.name, numeric: m.numeric, collation: m.collation, ...(m.real === true ? { real: true } : {}) };
  }
  const lit = literalOf(n);
  if (lit !== null) return { k: 'lit', v: lit.value, sql: lit.sql, numeric: lit.numeric };
  if (isPlaceholder(n)) throw unsupported(clause, 'a parameter inside OR/NOT or a non-equality condition');
  if (n.type === 'unary_expr' && n.operator === 'NOT') return { k: 'not', a: rec(n.expr as AstNode) };
  if (n.type === 'function' && fnName(n) === 'NOT') {
    const args = ((n.args as AstNode)?.value ?? []) as AstNode[];
    if (args.length === 1) return { k: 'not', a: rec(args[0]) };
  }
  if (n.type === 'binary_expr') {
    const op = String(n.operator);
    const l = n.left as AstNode, r = n.right as AstNode;
    if (op === 'AND' || op === 'OR') return { k: op === 'AND' ? 'and' : 'or', args: [rec(l), rec(r)] };
    if (op in COMPARE) {
      const e: Expr = { k: 'cmp', op: COMPARE[op], a: rec(l), b: rec(r) };
      checkComparable(e.a, e.b, clause);
      return e;
    }
    if (op === 'IS' || op === 'IS NOT') {
      if (r.type !== 'null') throw unsupported(clause, `${op} ${describeNode(r)}`);
      // A nullable DATE/TIME column is NULL or not like any other (soft deletes' `deleted_at IS
      // NULL`); a NOT NULL DATE/DATETIME one IS NULL where it holds a zero date, in MariaDB: refused.
      // A YEAR or BIT column is NULL or not like any other.
      const lref = columnRef(l);
      const m = lref !== null && column !== null ? column(lref) : null;
      if (m !== null && ((m.temporal && m.notNull !== true) || m.converts !== undefined)) {
        return { k: 'isnull', a: { k: 'col', i: m.i, name: m.name, numeric: false, collation: null }, neg: op === 'IS NOT' };
      }
      return { k: 'isnull', a: rec(l), neg: op === 'IS NOT' };
    }
    if ((op === 'IN' || op === 'NOT IN') && r.type === 'expr_list') {
      const a = rec(l);
      const list = (r.value as AstNode[]).map(rec);
      for (const x of list) checkComparable(a, x, clause);
      return { k: 'in', a, list, neg: op === 'NOT IN' };
    }
    if ((op === 'BETWEEN' || op === 'NOT BETWEEN') && r.type === 'expr_list') {
      const [lo, hi] = (r.value as AstNode[]).map(rec);
      const a = rec(l);
      checkComparable(a, lo, clause);
      checkComparable(a, hi, clause);
      return { k: 'between', a, lo, hi, neg: op === 'NOT BETWEEN' };
    }
    throw unsupported(clause, `the operator ${op}`);
  }
  throw unsupported(clause, describeNode(n));
}

// MySQL compares a string column with a number numerically, with its own string-to-number rules.
function checkComparable(a: Expr, b: Expr, clause: string): void {
  const textCol = (x: Expr) => x.k === 'col' && !x.numeric;
  const numLit = (x: Expr) => x.k === 'lit' && x.numeric;
  if ((textCol(a) && numLit(b)) || (textCol(b) && numLit(a))) throw unsupported(clause, 'comparing a text column with a number');
}

function fnName(n: AstNode): string {
  const name = n.name as AstNode | string;
  if (typeof name === 'string') return name.toUpperCase();
  const parts = (name as AstNode)?.name as AstNode[] | undefined;
  return parts?.map((p) => String(p.value)).join('.').toUpperCase() ?? '';
}

/** How a node of the parser reads in a reason given to a user. */
export function describeNode(n: AstNode): string {
  if (n.ast !== undefined) return 'a subquery (IN (SELECT …), EXISTS, scalar subqueries)';
  if (n.type === 'function') return `function ${fnName(n)}()`;
  if (n.type === 'aggr_func') return `aggregate ${String(n.name)}()`;
  if (n.type === 'binary_expr') return `operator ${String(n.operator)}`;
  return NODE_NAMES[String(n.type)]?.(n) ?? String(n.type ?? 'expression').replace(/_/g, ' ');
}

/** How the parser's node types read in a reason given to a user. */
const NODE_NAMES: Record<string, (n: AstNode) => string> = {
  unary_expr: (n) => `unary operator ${String(n.operator)}`,
  var: (n) => `variable ${String(n.prefix ?? '@')}${String(n.name)}`,
  param: (n) => `named parameter :${String(n.value)}`,
  hex_string: () => 'a hexadecimal literal',
  full_hex_string: () => 'a hexadecimal literal',
  bit_string: () => 'a bit literal',
  natural_string: () => 'a national string literal',
  single_quote_string: () => 'a string literal',
  double_quote_string: () => 'a string literal',
  number: (n) => `the number ${String(n.value)}`,
  bigint: (n) => `the number ${String(n.value)}`,
  cast: () => 'CAST()',
  case: () => 'CASE',
  interval: () => 'INTERVAL',
  column_ref: (n) => `column ${String(n.column)}`,
  expr_list: () => 'a list',
};
