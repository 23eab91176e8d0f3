/**
 * Join planning: `FROM a [LEFT] JOIN b ON … [JOIN c …]`, `USING (…)`, `FROM a, b WHERE a.x = b.y`,
 * and derived tables `(SELECT … GROUP BY …) AS d`, reduced to a {@link JoinPlan}: the sources, the
 * equi-join steps (left-deep), and which columns key each side's state.
 *
 * The joined row is the sources' columns side by side; the rest of the query (parameters, constant
 * WHERE, aggregates, ORDER BY) is planned over that row by planSelect with a {@link ColumnScope}.
 *
 * Keys are chosen top-down from the parameters ([note: join-fill]): at each step the side holding
 * every parameter column (directly, or through the join equality) is the driving side, keyed by
 * those columns, with an index by its join columns when they differ; the other side is keyed by
 * its join columns. A left join drives from its left side.
 */
import { RotorError } from '../errors.js';
import type { CompareOp, Expr } from '../dataflow/expr.js';
import { columnRef, type AstNode } from './parse.js';
import { conditionMeta, planSelect, ruleInfo, toExpr, type ColumnMeta, type ColumnScope } from './plan.js';
import type { JoinPlan, JoinSelectPlan, JoinSource, JoinStep } from './query-plan.js';
import { collationOf, columnClass, hasCollation, isNumericColumn, type ColumnInfo, type TableSchema } from './schema.js';
import { unsupported } from './unsupported.js';

/** Name prefix of derived tables added by a rewrite (passes/semi-join.ts): hidden from `SELECT *`. */
export const SEMI_JOIN_PREFIX = '__in';
/** Name prefix of the derived tables of `NOT IN (SELECT …)`: kept only over NOT NULL columns ([note: anti-join]). */
export const NOT_IN_PREFIX = `${SEMI_JOIN_PREFIX}_not`;
/** Name prefix of the derived tables of scalar subqueries ([note: scalar-subquery]). */
export const SCALAR_PREFIX = `${SEMI_JOIN_PREFIX}_scalar`;

/** Mutable while planning. */
interface Draft {
  name: string;
  schema: TableSchema;
  where: Expr | null;
  aggregate: JoinSource['aggregate'];
  columns: number[];
  names: string[];
  infos: ColumnInfo[];
  offset: number;
  key: number[];
  index: number[] | null;
  kind: 'inner' | 'left' | 'comma';
  on: Array<[number, number]>;
  using: Set<string>;
}

const JOIN_KINDS: Record<string, 'inner' | 'left'> = { 'JOIN': 'inner', 'INNER JOIN': 'inner', 'LEFT JOIN': 'left', 'LEFT OUTER JOIN': 'left' };

/** True when the SELECT reads more than one table, or a derived table. */
export function isJoin(ast: AstNode): boolean {
  const from = ast.from as AstNode[] | null;
  return Array.isArray(from) && (from.length > 1 || from.some((f) => !!f.join || !!f.expr));
}

/** The base tables a join reads, in FROM order (a derived table's inside its place). */
export function joinTables(ast: AstNode): Array<{ db: string | null; table: string }> {
  return (ast.from as AstNode[]).map((f) => {
    const inner = f.expr ? derivedFrom(f) : f;
    if (typeof inner.table !== 'string') throw unsupported('FROM', 'this kind of table reference');
    return { db: typeof inner.db === 'string' ? inner.db : null, table: inner.table };
  });
}

function derivedFrom(f: AstNode): AstNode {
  const sub = (f.expr as AstNode).ast as AstNode | undefined;
  if (sub === undefined || sub.type !== 'select') throw unsupported('FROM', 'a derived table that is not a SELECT');
  const from = sub.from as AstNode[] | null;
  if (!Array.isArray(from) || from.length !== 1 || from[0].join || from[0].expr || typeof from[0].table !== 'string') {
    throw unsupported('FROM', 'a derived table over anything but one table');
  }
  return from[0];
}

/**
 * Plans a join SELECT; `schemas` are the tables of {@link joinTables}, in that order. `statement`
 * is the SELECT as written when `ast` is a rewrite of it (passes/semi-join.ts).
 */
export function planJoin(ast: AstNode, schemas: ReadonlyArray<TableSchema>, unqualified: boolean, statement: AstNode = ast): JoinSelectPlan {
  if (ast.type !== 'select') throw unsupported('statement', `${String(ast.type ?? 'unknown').toUpperCase()} statements`);
  const from = ast.from as AstNode[];
  if (from.length === 1) throw unsupported('FROM', 'a derived table alone (cache the SELECT inside it instead)');
  if (hasPlaceholder(from)) throw unsupported('FROM', 'parameters in ON or inside a derived table');
  const drafts: Draft[] = [];
  let width = 0;
  from.forEach((f, i) => {
    const d = f.expr ? derivedDraft(f, schemas[i]) : tableDraft(f, schemas[i]);
    if (drafts.some((x) => x.name === d.name)) throw unsupported('FROM', `the table name ${d.name} used twice (self-joins)`);
    // [note: self-join] A table read twice is two sources over one base node; only two equal
    // grouped derived tables would be one shared state, which a join cannot tell apart.
    if (d.aggregate !== null && drafts.some((x) => x.aggregate !== null && sameSource(x, d))) throw unsupported('FROM', `derived table ${d.name} equal to ${drafts.find((x) => sameSource(x, d))?.name ?? ''} (the same grouped table twice)`);
    if (i === 0) {
      if (f.join) throw unsupported('FROM', String(f.join));
      d.kind = 'inner';
    } else if (f.join) {
      const k = JOIN_KINDS[String(f.join).toUpperCase()];
      if (k === undefined) throw unsupported('FROM', `${String(f.join)} (inner, left and two-table right joins are cached)`);
      d.kind = k;
    } else d.kind = 'comma';
    d.offset = width;
    width += d.columns.length;
    drafts.push(d);
  });
  const infos = drafts.flatMap((d) => d.infos);
  const scope = scopeOf(drafts);
  const residual: Expr[] = [];

  // ON and USING: equalities with earlier sources become join columns; a condition on one source
  // alone filters that source's rows (unless NULL-extended rows of an earlier LEFT JOIN would
  // see it); the rest is not cached.
  from.forEach((f, i) => {
    if (i === 0) return;
    const d = drafts[i];
    if (Array.isArray(f.using)) {
      for (const u of f.using as AstNode[]) {
        const name = String(u.value ?? u.column ?? '');
        const left = scope.resolveIn(drafts.slice(0, i), name, 'from clause');
        const right = d.names.findIndex((n) => n.toLowerCase() === name.toLowerCase());
        if (right < 0) throw new RotorError('ERR_CACHE_UNKNOWN_COLUMN', [name, 'from clause']);
        addPair(d, left, right, infos);
        d.using.add(name.toLowerCase());
      }
    }
    if (f.on) {
      for (const c of conjuncts(f.on as AstNode)) {
        if (pairOf(c, drafts, i, scope, infos)) continue;
        const owners = new Set(columnsOf(c).map((r) => sourceAt(drafts, scope.resolve(r, 'on clause'))));
        // [note: join-residual] Beside the equality, a comparison across the tables of an inner
        // join filters the joined rows, as it would in WHERE.
        if (owners.size > 1 && [...owners].every((o) => o <= i) && d.kind !== 'left') {
          residual.push(crossComparison(c, scope, infos));
          continue;
        }
        const [s] = owners;
        if (owners.size !== 1 || s > i || (s < i && (d.kind === 'left' || drafts[s].kind === 'left'))) {
          throw unsupported('ON', owners.size > 1 && d.kind === 'left'
            ? 'a condition across the tables of a LEFT JOIN other than an equality (it decides which rows are NULL-extended)'
            : 'a condition that is not an equality between the tables (non-equi joins)');
        }
        const t = drafts[s];
        if (t.aggregate !== null) throw unsupported('ON', 'conditions on a derived table with aggregates');
        const e = toExpr(c, (ref) => metaOf(t, scope.resolve(ref, 'on clause') - t.offset), 'ON');
        t.where = t.where === null ? e : { k: 'and', args: [t.where, e] };
      }
    }
  });

  // [note: anti-join] NOT IN is an anti-join only where neither side can be NULL.
  for (const d of drafts) {
    if (!d.name.startsWith(NOT_IN_PREFIX)) continue;
    for (const [left, right] of d.on) {
      if (infos[left].notNull !== true || d.infos[right].notNull !== true || drafts[sourceAt(drafts, left)].kind === 'left') {
        throw unsupported('WHERE', `NOT IN (SELECT …) where ${infos[left].name} or ${d.infos[right].name} may be NULL (NOT IN is then unknown for rows the subquery does not name): write NOT EXISTS, or declare both columns NOT NULL`);
      }
    }
  }

  // [note: scalar-subquery] A scalar subquery that does not aggregate finds at most one row only
  // when its correlation covers its table's whole primary key.
  for (const d of drafts) {
    if (!d.name.startsWith(SCALAR_PREFIX) || d.aggregate !== null) continue;
    const keyed = new Set(d.on.map(([, right]) => d.columns[right]));
    const primary = d.schema.columns.flatMap((c, i) => (c.primary === true ? [i] : []));
    if (primary.length === 0 || primary.some((i) => !keyed.has(i))) {
      throw unsupported('SELECT', `a scalar subquery over ${d.schema.table} that may find more than one row (MariaDB's error 1242): correlate it on the whole primary key, or aggregate`);
    }
  }

  // WHERE: `a.x = b.y` between an earlier source and a comma- or inner-joined one is a join column.
  const whereRest: AstNode[] = [];
  if (ast.where) {
    for (const c of conjuncts(ast.where as AstNode)) {
      const last = lastSourceOf(c, drafts, scope);
      if (last > 0 && drafts[last].kind !== 'left' && pairOf(c, drafts, last, scope, infos)) continue;
      whereRest.push(c);
    }
  }
  for (let i = 1; i < drafts.length; i++) {
    if (drafts[i].on.length === 0) throw unsupported('FROM', `joining ${drafts[i].name} without an equality with the tables before it (cross joins)`);
  }
  if (drafts.some((d) => d.using.size > 0) && (ast.columns as AstNode[]).some((c) => columnRef(c.expr as AstNode)?.column === '*')) {
    throw unsupported('SELECT', '* over a join with USING');
  }

  const outer: AstNode = { ...ast, where: andAll(whereRest) };
  const schema: TableSchema = { database: drafts[0].schema.database, table: drafts.map((d) => d.name).join(' ⋈ '), columns: infos };
  const pre = planSelect(outer, schema, unqualified, scope, statement);
  const steps = chooseKeys(drafts, pre.params.map((p) => p.column), infos);
  const join: JoinPlan = {
    sources: drafts.map((d) => ({ name: d.name, schema: d.schema, where: d.where, aggregate: d.aggregate, columns: d.columns, infos: d.infos, key: d.key, index: d.index })),
    steps,
  };
  const terms = pre.where === null ? residual : [pre.where, ...residual];
  const where: Expr | null = terms.length === 0 ? null : terms.length === 1 ? terms[0] : { k: 'and', args: terms };
  return { ...pre, where, kind: 'join', join };
}

const COMPARE_OPS: Record<string, CompareOp> = { '=': '=', '<>': '<>', '!=': '<>', '<': '<', '>': '>', '<=': '<=', '>=': '>=' };
/** Temporal types whose values (one fixed text form per type and scale) order as their text. */
const TEXT_ORDERED_TEMPORAL = new Set(['date', 'datetime', 'timestamp']);

/**
 * `x op y` between columns of two sources, over the joined row, where Rotor compares exactly as
 * MariaDB does ([note: join-residual]): numbers with numbers (as doubles when either is a
 * FLOAT/DOUBLE), text under one collation, binary strings by byte, DATE/DATETIME/TIMESTAMP with
 * the same type and scale by their text. Anything else is refused, naming both types.
 */
function crossComparison(c: AstNode, scope: ColumnScope, infos: ReadonlyArray<ColumnInfo>): Expr {
  const l = c.type === 'binary_expr' ? columnRef(c.left as AstNode) : null;
  const r = c.type === 'binary_expr' ? columnRef(c.right as AstNode) : null;
  const op = c.type === 'binary_expr' ? COMPARE_OPS[String(c.operator)] : undefined;
  if (l === null || r === null || op === undefined) throw unsupported('ON', 'a condition across the tables other than a comparison of two columns (=, <>, <, >, <=, >=)');
  const ia = scope.resolve(l, 'on clause'), ib = scope.resolve(r, 'on clause');
  const a = infos[ia], b = infos[ib];
  const ca = columnClass(a), cb = columnClass(b);
  const numeric = isNumericColumn(a) && isNumericColumn(b);
  const real = numeric && (ca === 'float' || cb === 'float');
  const text = hasCollation(a) && hasCollation(b) && a.collation === b.collation;
  const bytes = ca === 'binary' && cb === 'binary' && !hasCollation(a) && !hasCollation(b);
  const temporal = ca === 'temporal' && a.dataType === b.dataType && a.scale === b.scale && TEXT_ORDERED_TEMPORAL.has(a.dataType.toLowerCase());
  if (!numeric && !text && !bytes && !temporal) {
    throw unsupported('ON', `comparing ${a.name} (${a.dataType}${a.collation === null ? '' : ` ${a.collation}`}) with ${b.name} (${b.dataType}${b.collation === null ? '' : ` ${b.collation}`}): only numbers, text of one collation, binary strings and dates of one type are compared across the tables`);
  }
  const col = (i: number, x: ColumnInfo): Expr => ({ k: 'col', i, name: x.name, numeric, collation: text ? collationOf(x) : null, ...(real ? { real } : {}) });
  return { k: 'cmp', op, a: col(ia, a), b: col(ib, b) };
}

function sameSource(a: Draft, b: Draft): boolean {
  return a.schema.database === b.schema.database && a.schema.table === b.schema.table
    && JSON.stringify([a.where, a.aggregate, a.columns], bigintText) === JSON.stringify([b.where, b.aggregate, b.columns], bigintText);
}

/** JSON for values that may hold bigints (literals beyond 2^53). */
function bigintText(_key: string, v: unknown): unknown {
  return typeof v === 'bigint' ? `${v}n` : v;
}

function tableDraft(f: AstNode, schema: TableSchema): Draft {
  const name = typeof f.as === 'string' ? f.as : String(f.table);
  return {
    name, schema, where: null, aggregate: null, columns: schema.columns.map((_, i) => i), names: schema.columns.map((c) => c.name),
    infos: schema.columns.slice(), offset: 0, key: [], index: null, kind: 'inner', on: [], using: new Set(),
  };
}

function derivedDraft(f: AstNode, schema: TableSchema): Draft {
  if (typeof f.as !== 'string') throw unsupported('FROM', 'a derived table without an alias');
  const sub = (f.expr as AstNode).ast as AstNode;
  if (sub.orderby || (sub.limit && Array.isArray((sub.limit as AstNode).value) && ((sub.limit as AstNode).value as unknown[]).length > 0)) {
    throw unsupported('FROM', 'ORDER BY or LIMIT inside a derived table');
  }
  const p = planSelect(sub, schema, true);
  if (p.params.length > 0) throw unsupported('FROM', 'parameters inside a derived table');
  if (p.having !== null) throw unsupported('FROM', 'HAVING inside a derived table');
  if (p.aggregate !== null && p.aggregate.scalar) throw unsupported('FROM', 'a derived table with aggregates and no GROUP BY');
  const cols = schema.columns;
  const agg = p.aggregate;
  const infos = p.select.map((s): ColumnInfo => {
    if (agg === null) return { ...cols[s.stage], name: s.name };
    if (s.stage < agg.groupBy.length) return { ...cols[agg.groupBy[s.stage]], name: s.name };
    return { ...ruleInfo(agg.rules[s.stage - agg.groupBy.length], cols), name: s.name };
  });
  return {
    name: f.as, schema, where: p.where, aggregate: agg === null ? null : { groupBy: agg.groupBy, rules: agg.rules },
    columns: p.select.map((s) => s.stage), names: p.select.map((s) => s.name), infos,
    offset: 0, key: [], index: null, kind: 'inner', on: [], using: new Set(),
  };
}

function scopeOf(drafts: ReadonlyArray<Draft>): ColumnScope & { resolveIn(ds: ReadonlyArray<Draft>, column: string, clause: string): number } {
  const resolveIn = (ds: ReadonlyArray<Draft>, column: string, clause: string): number => {
    const hits: number[] = [];
    for (const d of ds) {
      const i = d.names.findIndex((n) => n.toLowerCase() === column.toLowerCase());
      if (i >= 0) hits.push(d.offset + i);
    }
    if (hits.length === 0) throw new RotorError('ERR_CACHE_UNKNOWN_COLUMN', [column, clause]);
    // A USING column unqualified is the left one (equal, or the only non-NULL one).
    if (hits.length > 1 && !ds.some((d) => d.using.has(column.toLowerCase()))) throw unsupported(clause, `the ambiguous column ${column}`);
    return hits[0];
  };
  return {
    resolveIn,
    resolve(ref, clause) {
      if (ref.table === null) return resolveIn(drafts, ref.column, clause);
      const d = drafts.find((x) => x.name === ref.table);
      if (d === undefined) throw new RotorError('ERR_CACHE_UNKNOWN_COLUMN', [`${ref.table}.${ref.column}`, clause]);
      const i = d.names.findIndex((n) => n.toLowerCase() === ref.column.toLowerCase());
      if (i < 0) throw new RotorError('ERR_CACHE_UNKNOWN_COLUMN', [`${ref.table}.${ref.column}`, clause]);
      return d.offset + i;
    },
    star(table) {
      const ds = table === null ? drafts.filter((x) => !x.name.startsWith(SEMI_JOIN_PREFIX)) : drafts.filter((x) => x.name === table);
      if (ds.length === 0) throw new RotorError('ERR_CACHE_UNKNOWN_TABLE', [table ?? '*']);
      return ds.flatMap((d) => d.columns.flatMap((_, i) => (d.infos[i].invisible === true ? [] : [d.offset + i])));
    },
  };
}

function metaOf(d: Draft, i: number): ColumnMeta {
  const c = d.infos[i];
  return { i: d.columns[i], name: c.name, ...conditionMeta(c) };
}

function sourceAt(drafts: ReadonlyArray<Draft>, x: number): number {
  return drafts.findIndex((d) => x >= d.offset && x < d.offset + d.columns.length);
}

function hasPlaceholder(n: unknown): boolean {
  if (n === null || typeof n !== 'object') return false;
  if ((n as AstNode).type === 'origin' && (n as AstNode).value === '?') return true;
  return Object.values(n as AstNode).some(hasPlaceholder);
}

/** The top-level AND terms of a condition. */
export function conjuncts(n: AstNode): AstNode[] {
  if (n.type === 'binary_expr' && n.operator === 'AND') return [...conjuncts(n.left as AstNode), ...conjuncts(n.right as AstNode)];
  return [n];
}

/** The AND of conditions (null for none). */
export function andAll(cs: ReadonlyArray<AstNode>): AstNode | null {
  if (cs.length === 0) return null;
  return cs.reduce((a, b) => ({ type: 'binary_expr', operator: 'AND', left: a, right: b }));
}

/** Every column reference inside a node. */
export function columnsOf(n: unknown): Array<{ table: string | null; column: string }> {
  if (n === null || typeof n !== 'object') return [];
  if (Array.isArray(n)) return n.flatMap(columnsOf);
  const ref = columnRef(n as AstNode);
  if (ref !== null) return [ref];
  return Object.values(n as AstNode).flatMap(columnsOf);
}

/** The last source a condition refers to (-1 when it refers to none). */
function lastSourceOf(c: AstNode, drafts: ReadonlyArray<Draft>, scope: ColumnScope): number {
  let last = -1;
  for (const r of columnsOf(c)) {
    last = Math.max(last, sourceAt(drafts, scope.resolve(r, 'where clause')));
  }
  return last;
}

/** If `c` is `col = col` between source `i` and an earlier one, records the pair; else false. */
function pairOf(c: AstNode, drafts: ReadonlyArray<Draft>, i: number, scope: ColumnScope, infos: ReadonlyArray<ColumnInfo>): boolean {
  if (c.type !== 'binary_expr' || c.operator !== '=') return false;
  const l = columnRef(c.left as AstNode), r = columnRef(c.right as AstNode);
  if (l === null || r === null) return false;
  const a = scope.resolve(l, 'on clause'), b = scope.resolve(r, 'on clause');
  const d = drafts[i];
  const inD = (x: number) => x >= d.offset && x < d.offset + d.columns.length;
  if (inD(a) === inD(b) || Math.min(a, b) >= d.offset) return false;
  const [left, right] = inD(b) ? [a, b] : [b, a];
  addPair(d, left, right - d.offset, infos);
  return true;
}

function addPair(d: Draft, left: number, right: number, infos: ReadonlyArray<ColumnInfo>): void {
  const a = infos[left], b = d.infos[right];
  const ca = columnClass(a), cb = columnClass(b);
  const same = ca === cb && ca !== 'float' && ca !== 'other'
    && (ca !== 'decimal' || a.scale === b.scale)
    && (ca !== 'text' || a.collation === b.collation)
    && (ca !== 'temporal' || a.dataType === b.dataType);
  if (!same) throw unsupported('ON', `joining ${a.name} (${a.dataType}) with ${b.name} (${b.dataType}): only columns of one type and collation are joined`);
  if (d.aggregate !== null && !(d.columns[right] < d.aggregate.groupBy.length)) throw unsupported('ON', `joining on the aggregate ${b.name} of a derived table`);
  d.on.push([left, right]);
}

/**
 * Chooses, top-down from the parameters, the key (and index) of every state: see the header.
 * `params` are columns of the joined row.
 */
function chooseKeys(drafts: Draft[], params: ReadonlyArray<number>, infos: ReadonlyArray<ColumnInfo>): JoinStep[] {
  const steps: JoinStep[] = new Array(drafts.length - 1);
  let need = [...new Set(params)];
  for (let i = drafts.length - 1; i >= 1; i--) {
    const d = drafts[i];
    const kind = d.kind === 'left' ? 'left' : 'inner';
    const leftCols = d.on.map((p) => p[0]);
    const rightCols = d.on.map((p) => p[1]);
    const toLeft = need.map((k) => (k < d.offset ? k : (() => { const p = d.on.find((x) => x[1] === k - d.offset); return p === undefined ? -1 : p[0]; })()));
    const toRight = need.map((k) => (k >= d.offset ? k - d.offset : (() => { const p = d.on.find((x) => x[0] === k); return p === undefined ? -1 : p[1]; })()));
    let leftKey: number[], leftIndex: number[] | null;
    if (toLeft.every((x) => x >= 0)) {
      leftKey = [...new Set(toLeft)];
      leftIndex = same(leftKey, leftCols) ? null : leftCols;
      d.key = rightCols;
      d.index = null;
    } else if (kind === 'inner' && toRight.every((x) => x >= 0)) {
      d.key = [...new Set(toRight)];
      d.index = same(d.key, rightCols) ? null : rightCols;
      leftKey = leftCols;
      leftIndex = null;
    } else {
      throw unsupported('WHERE', kind === 'left'
        ? `a parameter on ${d.name}, the right side of a LEFT JOIN, other than its join column`
        : 'parameters on both sides of a join (other than the join columns)');
    }
    checkSide(d);
    steps[i - 1] = { kind, on: d.on, leftKey, leftIndex };
    if (i === 1) {
      drafts[0].key = leftKey;
      drafts[0].index = leftIndex;
      checkSide(drafts[0]);
    }
    need = leftKey;
  }
  for (const k of need) if (columnClass(infos[k]) === 'float') throw unsupported('WHERE', `a key on FLOAT/DOUBLE column ${infos[k].name}`);
  return steps;
}

function same(a: ReadonlyArray<number>, b: ReadonlyArray<number>): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function checkSide(d: Draft): void {
  if (d.aggregate === null) return;
  const groups = d.aggregate.groupBy.length;
  if (d.index !== null || d.key.some((k) => d.columns[k] >= groups)) {
    throw unsupported('FROM', `derived table ${d.name} with aggregates is looked up only by its GROUP BY columns it is joined on`);
  }
}
