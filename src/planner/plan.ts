/**
 * The plan of a cacheable query: the parsed SELECT reduced to what the dataflow needs, or a precise
 * reason why it cannot be cached (ERR_CACHE_UNSUPPORTED naming the clause and the construct).
 *
 * Single-table SELECTs: plain columns (or `*`); WHERE made of ANDed parameter equalities
 * (`col = ?`, `col IN (?, …)`) and constant predicates; COUNT/SUM/AVG/MIN/MAX with GROUP BY and
 * HAVING; ORDER BY of the result, with a constant LIMIT (top-k, see limit.ts); SELECT DISTINCT.
 * The "stage" is the row the result is drawn from: the table's row for plain queries,
 * `[parameters…, GROUP BY columns…, aggregates…]` for aggregate queries.
 * A join is planned the same way over its joined row (planner/join.ts supplies the columns).
 * Conditions become dataflow expressions in conditions.ts (toExpr, conditionMeta, ruleInfo,
 * re-exported here).
 */
import { RotorError } from '../errors.js';
import type { Expr } from '../dataflow/expr.js';
import { columnRef, isPlaceholder, literalOf, type AstNode } from './parse.js';
import { columnClass, isNumericColumn, type ColumnInfo, type TableSchema } from './schema.js';
import { parseLimit, type LimitSpec } from './limit.js';
import { unsupported } from './unsupported.js';
import type { ConcatSpec, ParamSpec, RuleSpec, SelectPlan, SlotSpec } from './query-plan.js';
import { paramRange, rangeParams, rangePlan, type RangeBound } from './range.js';
import { concatRule } from './group-concat.js';
import { conditionMeta, describeNode, ruleInfo, toExpr } from './conditions.js';

export { conditionMeta, ruleInfo, toExpr, type ColumnMeta } from './conditions.js';

/** Resolves column references over a row made of several tables (a join). */
export interface ColumnScope {
  /** Index of the referenced column in the row, or throws ERR_CACHE_UNKNOWN_COLUMN. */
  resolve(ref: { table: string | null; column: string }, clause: string): number;
  /** The columns `*` (table null) or `t.*` expands to, or throws. */
  star(table: string | null): ReadonlyArray<number>;
}

const AGGREGATES = new Set(['COUNT', 'SUM', 'AVG', 'MIN', 'MAX', 'GROUP_CONCAT']);

/** The table a SELECT reads: `{ db, table }`, checked to be a single plain table. */
export function tableOf(ast: AstNode): { db: string | null; table: string; alias: string | null } {
  if (ast.type !== 'select') throw unsupported('statement', `${String(ast.type ?? 'unknown').toUpperCase()} statements`);
  const from = ast.from as AstNode[] | null;
  if (!Array.isArray(from) || from.length === 0) throw unsupported('FROM', 'a SELECT without a table');
  if (from.length > 1 || from[0].join) throw unsupported('FROM', 'joins here (a UNION branch or a derived table must read one table)');
  const f = from[0];
  if (typeof f.table !== 'string' || f.expr) throw unsupported('FROM', 'derived tables');
  return { db: typeof f.db === 'string' ? f.db : null, table: f.table, alias: typeof f.as === 'string' ? f.as : null };
}

/**
 * Plans a parsed SELECT against its table's schema; for a join, against the schema of the joined
 * row, its columns resolved by `scope` (the join's shape comes from planner/join.ts). `statement`
 * is the SELECT as written when `ast` is a rewrite of it: literals are numbered in its order.
 */
export function planSelect(ast: AstNode, schema: TableSchema, unqualified: boolean, scope?: ColumnScope, statement: AstNode = ast): SelectPlan {
  const alias = scope === undefined ? tableOf(ast).alias : null;
  if (ast.with) throw unsupported('WITH', 'common table expressions');
  const distinct = ast.distinct === 'DISTINCT';
  const selectDistinct = distinct;
  if (ast.locking_read) throw unsupported('FOR UPDATE', 'locking reads');
  if (ast.into && (ast.into as AstNode).position) throw unsupported('INTO', 'SELECT … INTO');
  if (ast.window) throw unsupported('WINDOW', 'window functions');

  const cols = schema.columns;
  const colIndex = (ref: { table: string | null; column: string }, clause: string): number => {
    if (scope !== undefined) return scope.resolve(ref, clause);
    if (ref.table !== null && ref.table !== schema.table && ref.table !== alias) throw new RotorError('ERR_CACHE_UNKNOWN_COLUMN', [`${ref.table}.${ref.column}`, clause]);
    const i = cols.findIndex((c) => c.name.toLowerCase() === ref.column.toLowerCase());
    if (i < 0) throw new RotorError('ERR_CACHE_UNKNOWN_COLUMN', [ref.column, clause]);
    return i;
  };

  // WHERE: parameter equalities among the top-level conjuncts, the rest constant predicates.
  const paramNodes = new Map<AstNode, ParamSpec>();
  const constant: Expr[] = [];
  const conjuncts: AstNode[] = [];
  const split = (n: AstNode): void => {
    if (n.type === 'binary_expr' && n.operator === 'AND') { split(n.left as AstNode); split(n.right as AstNode); } else conjuncts.push(n);
  };
  if (ast.where) split(ast.where as AstNode);
  const paramColumns = new Set<number>();
  const rangeBounds: Array<RangeBound & { column: number }> = [];
  for (const c of conjuncts) {
    // `a = ? OR a = ? …` on one column: one parameter of several values, as `a IN (?, ?, …)`.
    const or = paramDisjunction(c);
    if (or !== null) {
      const cols = new Set(or.map((p) => colIndex(p.ref, 'where clause')));
      if (cols.size === 1) {
        const col = [...cols][0];
        if (paramColumns.has(col)) throw unsupported('WHERE', `two parameters on column ${schema.columns[col].name}`);
        paramColumns.add(col);
        const spec = { column: col, multi: true, listable: true };
        for (const p of or) paramNodes.set(p.node, spec);
        continue;
      }
    }
    const bounds = paramRange(c);
    if (bounds !== null) {
      for (const b of bounds) rangeBounds.push({ ...b, column: colIndex(b.ref, 'where clause') });
      continue;
    }
    const p = paramEquality(c);
    if (p !== null) {
      const col = colIndex(p.ref, 'where clause');
      if (paramColumns.has(col)) throw unsupported('WHERE', `two parameters on column ${cols[col].name}`);
      paramColumns.add(col);
      paramNodes.set(p.node, { column: col, multi: p.multi, listable: p.multi });
      continue;
    }
    constant.push(toExpr(c, (ref) => { const i = colIndex(ref, 'where clause'); return { i, name: cols[i].name, ...conditionMeta(cols[i]) }; }, 'WHERE'));
  }
  for (const b of rangeParams(rangeBounds, paramColumns, cols)) paramNodes.set(b.node, { column: b.column, multi: false, listable: false, bound: b.side });
  const where: Expr | null = constant.length === 0 ? null : constant.length === 1 ? constant[0] : { k: 'and', args: constant };

  // [note: unique-limit] A LIMIT needs an ORDER BY to say which rows it keeps, unless the WHERE
  // pins a unique key of the one table: then there is at most one row per key to keep.
  const ordered = Array.isArray(ast.orderby) && ast.orderby.length > 0;
  const oneRow = !ordered && scope === undefined && ast.limit != null && pinsUniqueKey(cols, conjuncts, paramNodes, colIndex);
  const parsedLimit = parseLimit(ast, ordered || oneRow);
  const limitParam = parsedLimit !== null && 'parts' in parsedLimit ? parsedLimit : null;
  const limit: LimitSpec | null = limitParam === null ? parsedLimit as LimitSpec | null : null;
  // The LIMIT's own literals, when they are read from each statement.
  const limitNodes = new Map<AstNode, 'count' | 'offset'>();
  if (limitParam !== null) (((statement.limit ?? ast.limit) as AstNode).value as AstNode[]).forEach((v, i) => limitNodes.set(v, limitParam.parts[i]));

  // Literal slots in textual order, numbering the parameters as they appear.
  const params: ParamSpec[] = [];
  const slots: SlotSpec[] = [];
  // The parameter each spec became (the placeholders of `a = ? OR a = ?` share one).
  const paramAt = new Map<object, number>();
  walkLiterals(statement, (node, kind) => {
    const part = limitNodes.get(node);
    if (part !== undefined) { slots.push({ kind: 'limit', part }); return; }
    const p = paramNodes.get(node);
    if (p !== undefined) {
      let at = paramAt.get(p);
      if (at === undefined) {
        params.push(p);
        at = params.length - 1;
        paramAt.set(p, at);
      }
      slots.push({ kind: kind === 'list' ? 'list-param' : 'param', param: at });
    } else if (kind === 'param') throw unsupported('statement', 'a parameter outside `column = ?` / `column IN (?, …)` conditions ANDed in WHERE');
    else slots.push({ kind: kind === 'list' ? 'list-const' : 'const' });
  });

  // SELECT list.
  const items = ast.columns as AstNode[];
  const hasAggregate = items.some((it) => containsAggregate(it.expr as AstNode)) || !!ast.having;
  const groupNodes = ((ast.groupby as AstNode | null)?.columns ?? []) as AstNode[];
  const isAgg = hasAggregate || groupNodes.length > 0;
  const rules: RuleSpec[] = [];
  const groupBy: number[] = [];
  const stageNames: string[] = [];
  const stageOfColumn = (col: number, clause: string): number => {
    if (!isAgg) return col;
    const p = params.findIndex((x) => x.column === col);
    if (p >= 0) {
      // Without GROUP BY MariaDB shows a row's value of such a column, and NULL where no row
      // matches (`SELECT k, COUNT(*) … WHERE k = 9`: NULL, 0); Rotor's group shows the key.
      if (groupNodes.length === 0 && clause !== 'ORDER BY') throw unsupported(clause, `column ${cols[col].name} beside aggregates without GROUP BY (NULL where no row matches): group by it`);
      return p;
    }
    const g = groupBy.indexOf(col);
    if (g >= 0) return params.length + g;
    throw unsupported(clause, `column ${cols[col].name} is neither grouped nor aggregated`);
  };
  if (isAgg) {
    for (const p of params) stageNames.push(cols[p.column].name);
    for (const g of groupNodes) {
      const ref = columnRef(g);
      if (ref === null) throw unsupported('GROUP BY', 'grouping by an expression');
      const col = colIndex(ref, 'group statement');
      if (!paramColumns.has(col) && !groupBy.includes(col)) groupBy.push(col);
    }
    for (const p of params) {
      if (p.multi && !groupNodes.some((g) => { const r = columnRef(g); return r !== null && colIndex(r, 'group statement') === p.column; })) {
        throw unsupported('WHERE', `\`${cols[p.column].name} IN (?, …)\` with aggregates needs GROUP BY ${cols[p.column].name}`);
      }
    }
    for (const g of groupBy) stageNames.push(cols[g].name);
  } else {
    for (const c of cols) stageNames.push(c.name);
  }
  // [note: in-list-union] Rows of several keys of one parameter are apart; groups are apart when
  // grouped by its column; a total over several keys is not the union of their totals.
  const grouped = new Set(groupNodes.flatMap((g) => { const r = columnRef(g); return r === null ? [] : [colIndex(r, 'group statement')]; }));
  for (let i = 0; i < params.length; i++) {
    const p = params[i];
    params[i] = { ...p, listable: p.bound === undefined && (p.multi || !isAgg || grouped.has(p.column)) };
  }
  const addRule = (spec: RuleSpec, name: string): number => {
    const same = JSON.stringify(spec);
    let i = rules.findIndex((r) => JSON.stringify(r) === same);
    if (i < 0) {
      rules.push(spec);
      i = rules.length - 1;
      stageNames.push(name);
    }
    return params.length + groupBy.length + i;
  };
  const aggregateStage = (n: AstNode, clause: string): number => {
    const fn = String(n.name).toUpperCase();
    if (fn === 'GROUP_CONCAT') {
      if (clause !== 'SELECT') throw unsupported(clause, 'GROUP_CONCAT outside the select list');
      if (selectDistinct) throw unsupported('SELECT', 'SELECT DISTINCT with GROUP_CONCAT');
      // [note: group-concat-refill] The value is MariaDB's aggregate of the table, refilled.
      if (scope !== undefined) throw unsupported(clause, 'GROUP_CONCAT over a join (Rotor takes its value from MariaDB\'s GROUP_CONCAT of one table)');
      if (n.over) throw unsupported(clause, 'window functions');
      const spec = concatRule(n.args as AstNode, (ref, c) => colIndex(ref, c), cols);
      return addRule(spec, `GROUP_CONCAT(${spec.distinct ? 'DISTINCT ' : ''}${(spec.concat as ConcatSpec).args.map((a) => cols[a].name).join(', ')})`);
    }
    const args = n.args as AstNode;
    const distinct = args?.distinct === 'DISTINCT';
    const e = args?.expr as AstNode;
    let arg: number | null = null;
    if (e?.type === 'star') {
      if (fn !== 'COUNT' || distinct) throw unsupported(clause, `${fn}(*)`);
    } else {
      const ref = e ? columnRef(e) : null;
      if (ref === null) throw unsupported(clause, `${fn} of an expression`);
      arg = colIndex(ref, clause.toLowerCase());
    }
    if (distinct && fn !== 'COUNT') throw unsupported(clause, `${fn}(DISTINCT …)`);
    if ((fn === 'SUM' || fn === 'AVG') && arg !== null && !isNumericColumn(cols[arg])) throw unsupported(clause, `${fn} of non-numeric column ${cols[arg].name}`);
    // [note: float-sum] MariaDB adds doubles in the order its join reads the rows; Rotor's join
    // would add them in its own.
    if ((fn === 'SUM' || fn === 'AVG') && arg !== null && scope !== undefined && columnClass(cols[arg]) === 'float') throw unsupported(clause, `${fn} of FLOAT/DOUBLE column ${cols[arg].name} over a join (MariaDB's digits depend on the order its join reads the rows)`);
    // [note: typed-order] MariaDB's MIN/MAX of an ENUM or SET follows its plan: the member order
    // when it reads an index on the column ("Select tables optimized away"), the text otherwise.
    if ((fn === 'MIN' || fn === 'MAX') && arg !== null && (cols[arg].dataType === 'enum' || cols[arg].dataType === 'set')) {
      throw unsupported(clause, `${fn} of ENUM/SET column ${cols[arg].name} (MariaDB picks it by member order or by text, depending on its plan)`);
    }
    if (n.over) throw unsupported(clause, 'window functions');
    return addRule({ fn: fn as RuleSpec['fn'], arg, distinct }, `${fn}(${distinct ? 'DISTINCT ' : ''}${arg === null ? '*' : cols[arg].name})`);
  };
  const select: { name: string; stage: number }[] = [];
  for (const it of items) {
    const e = it.expr as AstNode;
    const ref = columnRef(e);
    if (ref !== null && ref.column === '*') {
      if (isAgg) throw unsupported('SELECT', '* with aggregates');
      if (scope !== undefined) {
        for (const i of scope.star(ref.table)) select.push({ name: cols[i].name, stage: i });
        continue;
      }
      if (ref.table !== null && ref.table !== schema.table && ref.table !== alias) throw new RotorError('ERR_CACHE_UNKNOWN_TABLE', [ref.table]);
      cols.forEach((c, i) => {
        if (c.invisible !== true) select.push({ name: c.name, stage: i });
      });
      continue;
    }
    const name = typeof it.as === 'string' ? it.as : ref?.column ?? String(e.type);
    if (ref !== null) select.push({ name, stage: stageOfColumn(colIndex(ref, 'field list'), 'SELECT') });
    else if (e.type === 'aggr_func' && AGGREGATES.has(String(e.name).toUpperCase())) select.push({ name, stage: aggregateStage(e, 'SELECT') });
    else throw unsupported('SELECT', `the expression ${describeNode(e)} (only columns and aggregates are cached)`);
  }

  const stageRef = (n: AstNode, clause: string): number => {
    const ref = columnRef(n);
    if (ref !== null) {
      const asAlias = ref.table === null ? select.find((s) => s.name.toLowerCase() === ref.column.toLowerCase()) : undefined;
      if (asAlias !== undefined && !cols.some((c) => c.name.toLowerCase() === ref.column.toLowerCase())) return asAlias.stage;
      return stageOfColumn(colIndex(ref, clause.toLowerCase()), clause);
    }
    if (n.type === 'aggr_func') return aggregateStage(n, clause);
    if (n.type === 'number' && typeof n.value === 'number' && clause === 'ORDER BY') {
      const s = select[n.value - 1];
      if (s === undefined) throw new RotorError('ERR_CACHE_UNKNOWN_COLUMN', [String(n.value), 'order clause']);
      return s.stage;
    }
    throw unsupported(clause, `the expression ${describeNode(n)}`);
  };

  let having: Expr | null = null;
  if (ast.having) {
    having = toExpr(ast.having as AstNode, null, 'HAVING', (n) => {
      const s = stageRef(n, 'HAVING');
      if (s >= params.length + groupBy.length && rules[s - params.length - groupBy.length].fn === 'GROUP_CONCAT') throw unsupported('HAVING', 'conditions on a GROUP_CONCAT');
      // An aggregate compares as the type of its result: MAX(name) as its text. [note: typed-order]
      const info = s < params.length + groupBy.length ? cols[stageColumn(s)] : ruleInfo(rules[s - params.length - groupBy.length], cols);
      return { i: s, name: stageNames[s], ...conditionMeta(info) };
    });
  }
  function stageColumn(s: number): number {
    return s < params.length ? params[s].column : groupBy[s - params.length];
  }
  const orderBy = ((ast.orderby ?? []) as AstNode[]).map((o) => ({ stage: stageRef(o.expr as AstNode, 'ORDER BY'), desc: o.type === 'DESC' }));
  const concatStage = (s: number): boolean => s >= params.length + groupBy.length && rules[s - params.length - groupBy.length]?.fn === 'GROUP_CONCAT';
  if (orderBy.some((o) => concatStage(o.stage))) throw unsupported('ORDER BY', 'ordering by a GROUP_CONCAT');
  if (rules.some((r) => r.fn === 'GROUP_CONCAT') && rules.some((r) => r.fn === 'COUNT' && r.distinct)) {
    // [note: group-concat-refill] COUNT(DISTINCT) fills the groups from rows, GROUP_CONCAT cannot.
    throw unsupported('SELECT', 'GROUP_CONCAT beside COUNT(DISTINCT …)');
  }
  if (distinct && orderBy.some((o) => !select.some((s) => s.stage === o.stage))) throw unsupported('ORDER BY', 'ordering SELECT DISTINCT by a column it does not select');
  const range = rangeBounds.length === 0 ? null : rangePlan({ rangeBounds, params, cols, orderBy, limit, limitParam, isAgg, distinct, join: scope !== undefined });
  // [note: in-list-union] One partition per read: `user_id IN (…)` in place of `user_id = ?` goes upstream.
  if (range !== null) for (let i = 0; i < params.length; i++) params[i] = { ...params[i], listable: false };
  // [note: unique-limit] One row per key, but not per list of keys: `id IN (1, 2) LIMIT 1` keeps a
  // row MariaDB chooses. Such a statement goes upstream.
  if (oneRow) for (let i = 0; i < params.length; i++) params[i] = { ...params[i], listable: false };
  if (limit !== null || limitParam !== null) {
    // [note: total-order] Ties beyond the ORDER BY are broken the same way in the top-k node, the
    // reader and the upquery, so all three agree on which rows are the first k.
    const primary = cols.flatMap((c, i) => (c.primary === true ? [i] : []));
    const ties = distinct ? select.map((s) => s.stage)
      : isAgg ? Array.from({ length: params.length + groupBy.length }, (_, i) => i)
        : primary.length > 0 ? primary : cols.map((_, i) => i);
    for (const stage of ties) if (!orderBy.some((o) => o.stage === stage)) orderBy.push({ stage, desc: false });
  }

  return {
    kind: 'select', schema, unqualified, params, where, having, select, orderBy, limit, limitParam, distinct, range, slots, stageNames, join: null,
    aggregate: isAgg ? { groupBy, rules, scalar: groupNodes.length === 0 } : null,
  };
}

/** The equalities of `a = ? OR a IN (?, …) OR …` (placeholders only), or null. */
function paramDisjunction(n: AstNode): Array<NonNullable<ReturnType<typeof paramEquality>>> | null {
  if (n.type !== 'binary_expr' || n.operator !== 'OR') return null;
  const out: Array<NonNullable<ReturnType<typeof paramEquality>>> = [];
  const walk = (x: AstNode): boolean => {
    if (x.type === 'binary_expr' && x.operator === 'OR') return walk(x.left as AstNode) && walk(x.right as AstNode);
    const p = paramEquality(x);
    if (p === null) return false;
    out.push(p);
    return true;
  };
  return walk(n) ? out : null;
}

/**
 * [note: unique-limit] True when the top-level conjuncts bind every column of the primary key, or
 * a column that alone is a UNIQUE index, to one value each (`col = ?`, or `col = constant`): the
 * table has at most one such row (NULL equals nothing, so a UNIQUE column's NULLs never match).
 */
function pinsUniqueKey(
  cols: ReadonlyArray<ColumnInfo>, conjuncts: ReadonlyArray<AstNode>, paramNodes: ReadonlyMap<AstNode, ParamSpec>,
  colIndex: (ref: { table: string | null; column: string }, clause: string) => number,
): boolean {
  const pinned = new Set<number>();
  for (const spec of paramNodes.values()) if (!spec.multi && spec.bound === undefined) pinned.add(spec.column);
  for (const c of conjuncts) {
    if (c.type !== 'binary_expr' || c.operator !== '=') continue;
    const l = c.left as AstNode, r = c.right as AstNode;
    const ref = columnRef(l) ?? columnRef(r);
    const other = columnRef(l) !== null ? r : l;
    if (ref !== null && isConstantLiteral(other)) pinned.add(colIndex(ref, 'where clause'));
  }
  const primary = cols.flatMap((c, i) => (c.primary === true ? [i] : []));
  if (primary.length > 0 && primary.every((i) => pinned.has(i))) return true;
  return cols.some((c, i) => c.unique === true && pinned.has(i));
}

/** A number or a quoted string written in the statement (not NULL, not an expression). */
function isConstantLiteral(n: AstNode): boolean {
  return n.type === 'number' || n.type === 'single_quote_string' || n.type === 'string';
}

function paramEquality(n: AstNode): { ref: { table: string | null; column: string }; node: AstNode; multi: boolean } | null {
  if (n.type !== 'binary_expr') return null;
  const l = n.left as AstNode, r = n.right as AstNode;
  if (n.operator === '=') {
    const lr = columnRef(l), rr = columnRef(r);
    if (lr !== null && isPlaceholder(r)) return { ref: lr, node: r, multi: false };
    if (rr !== null && isPlaceholder(l)) return { ref: rr, node: l, multi: false };
  }
  if (n.operator === 'IN' && r.type === 'expr_list') {
    const ref = columnRef(l);
    const items = r.value as AstNode[];
    if (ref !== null && items.length > 0 && items.every(isPlaceholder)) return { ref, node: r, multi: true };
  }
  return null;
}


function containsAggregate(n: AstNode | null | undefined): boolean {
  if (n === null || n === undefined || typeof n !== 'object') return false;
  if (n.type === 'aggr_func') return true;
  return Object.values(n).some((v) => (Array.isArray(v) ? v.some((x) => containsAggregate(x as AstNode)) : typeof v === 'object' && v !== null && containsAggregate(v as AstNode)));
}

/**
 * Visits the literals of a SELECT in textual order, as the fingerprint lists them: numbers and
 * strings, placeholders, and IN lists made only of those (and NULL) as one list.
 */
function walkLiterals(ast: AstNode, visit: (node: AstNode, kind: 'value' | 'param' | 'list') => void): void {
  const walk = (n: unknown): void => {
    if (n === null || typeof n !== 'object') return;
    if (Array.isArray(n)) { n.forEach(walk); return; }
    const node = n as AstNode;
    if ((node.operator === 'IN' || node.operator === 'NOT IN') && (node.right as AstNode)?.type === 'expr_list') {
      const items = (node.right as AstNode).value as AstNode[];
      if (items.every((x) => isPlaceholder(x) || x.type === 'null' || (literalOf(x) !== null && x.type !== 'bool'))) {
        walk(node.left);
        visit(node.right as AstNode, 'list');
        return;
      }
    }
    if (isPlaceholder(node)) { visit(node, 'param'); return; }
    if (node.type === 'number' || node.type === 'bigint' || node.type === 'single_quote_string' || node.type === 'double_quote_string') { visit(node, 'value'); return; }
    if (node.type === 'binary_expr') { walk(node.left); walk(node.right); return; }
    for (const v of Object.values(node)) walk(v);
  };
  // A WITH's bodies stand first in the text ([note: cte-names]: the passes inlined them).
  walk(ast.with);
  walk(ast.columns);
  walk(ast.from);
  walk(ast.where);
  walk(ast.groupby);
  walk(ast.having);
  walk(ast.orderby);
  walk(ast.limit);
}
