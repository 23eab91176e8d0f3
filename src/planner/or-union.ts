/**
 * `WHERE a = ? OR b = ? [AND …]` over one table, the OR across two or more columns, planned as the
 * union of one lookup per column ([note: or-union]):
 *
 *   SELECT title FROM article WHERE (author = ? OR editor = ?) AND live = 1
 *     = branch 1: … WHERE author = ? AND live = 1     branch 2: … WHERE editor = ? AND live = 1
 *
 * OR keeps the table's rows, not distinct values: a row that matches both branches is one row, two
 * rows that show the same values are two. So each branch carries the table's primary key beside
 * the selected columns, the union removes duplicates by those (UNION over the key: a row is once
 * in the answer however many branches hold it, and leaves it with the last), and the reader shows
 * only the selected columns. The statement's own parameters, in textual order, key the cache; each
 * branch is keyed by the ones it has (the other ANDed parameters and its own column's).
 *
 * Refused, with the reason: an OR with another kind of term (`a = ? OR b = 1`), a column twice in
 * it, `IN (?, …)` anywhere in the statement (the answer of several values would repeat the rows
 * of the other branches), aggregates, DISTINCT, `LIMIT ?`, a table without a primary key, and more
 * than one such OR.
 */
import { columnRef, isPlaceholder, type AstNode } from './parse.js';
import { planSelect } from './plan.js';
import { andAll, conjuncts } from './join.js';
import type { SelectPlan, UnionPlan } from './query-plan.js';
import type { TableSchema } from './schema.js';
import { unsupported } from './unsupported.js';

/** The `col = ?` terms of a top-level `… OR …` conjunct of WHERE over two columns or more, or null. */
export function crossColumnOr(ast: AstNode): AstNode[] | null {
  if (ast.type !== 'select' || !ast.where || ast._next) return null;
  let found: AstNode[] | null = null;
  for (const c of conjuncts(ast.where as AstNode)) {
    const terms = orTerms(c);
    // Anything but `col = ?` terms (`a = ? OR a IN (?, ?)` is one parameter of one column, plan.ts;
    // `a = ? OR b > 3` is refused there) is left to planSelect.
    if (terms === null || terms.some((t) => equality(t) === null)) continue;
    const cols = new Set(terms.map((t) => equality(t)?.column.toLowerCase()));
    if (cols.size < 2) continue;
    if (found !== null) throw unsupported('WHERE', 'two ORs of parameters across columns');
    found = terms;
  }
  return found;
}

function orTerms(n: AstNode): AstNode[] | null {
  if (n.type !== 'binary_expr' || n.operator !== 'OR') return null;
  const out: AstNode[] = [];
  const walk = (x: AstNode): void => {
    if (x.type === 'binary_expr' && x.operator === 'OR') { walk(x.left as AstNode); walk(x.right as AstNode); } else out.push(x);
  };
  walk(n);
  return out.some((t) => hasPlaceholder(t)) ? out : null;
}

/** `col = ?` or `? = col`: the column, else null. */
function equality(n: AstNode): { table: string | null; column: string } | null {
  if (n.type !== 'binary_expr' || n.operator !== '=') return null;
  const l = n.left as AstNode, r = n.right as AstNode;
  if (isPlaceholder(r)) return columnRef(l);
  if (isPlaceholder(l)) return columnRef(r);
  return null;
}

function hasPlaceholder(n: unknown): boolean {
  if (n === null || typeof n !== 'object') return false;
  if (isPlaceholder(n as AstNode)) return true;
  return Object.values(n as AstNode).some(hasPlaceholder);
}

/** The SELECT with the OR conjunct `or` replaced by `by` (its conjuncts in place, in order). */
function replaceOr(ast: AstNode, terms: ReadonlyArray<AstNode>, by: ReadonlyArray<AstNode>): AstNode {
  const where = conjuncts(ast.where as AstNode).flatMap((c) => (orTerms(c) !== null && orTerms(c)?.[0] === terms[0] ? by : [c]));
  return { ...ast, where: andAll(where) };
}

/** Plans a single-table SELECT whose WHERE holds an OR of parameters across columns ({@link crossColumnOr}). */
export function planOrUnion(ast: AstNode, terms: ReadonlyArray<AstNode>, schema: TableSchema, unqualified: boolean): UnionPlan {
  const names = terms.map((t) => equality(t)?.column.toLowerCase());
  if (new Set(names).size !== names.length) throw unsupported('WHERE', 'a column twice in an OR of parameters across columns');
  // The OR's terms ANDed: every parameter of the statement in textual order, and its literal slots
  // (the same nodes in the same order as the statement's).
  const whole = planSelect(replaceOr(ast, terms, terms), schema, unqualified);
  if (whole.aggregate !== null) throw unsupported('WHERE', 'an OR of parameters across columns with aggregates (a total over the rows of either is not the union of totals)');
  if (whole.distinct) throw unsupported('WHERE', 'an OR of parameters across columns with SELECT DISTINCT');
  if (whole.limitParam !== null) throw unsupported('LIMIT', 'LIMIT ? with an OR of parameters across columns');
  if (whole.params.some((p) => p.multi)) throw unsupported('WHERE', '`IN (?, …)` with an OR of parameters across columns (the answer of several values would repeat the other branches\' rows)');
  const cols = schema.columns;
  const primary = cols.flatMap((c, i) => (c.primary === true ? [i] : []));
  if (primary.length === 0) throw unsupported('WHERE', `an OR of parameters across columns of ${schema.table}, which has no primary key (OR keeps rows that show equal values apart)`);
  const branches: SelectPlan[] = [];
  const branchParams: number[][] = [];
  for (const t of terms) {
    const b = planSelect(replaceOr(ast, terms, [t]), schema, unqualified);
    branches.push({ ...b, params: b.params.map((p) => ({ ...p, listable: false })) });
    branchParams.push(b.params.map((p) => whole.params.findIndex((w) => w.column === p.column)));
  }
  // The row's identity (the primary key) and the ORDER BY columns it does not show ride beside it.
  const select = whole.select;
  const hidden: number[] = [];
  for (const c of [...primary, ...whole.orderBy.map((o) => o.stage)]) if (!hidden.includes(c)) hidden.push(c);
  const columnOf = (stage: number): number => {
    const s = select.findIndex((x) => x.stage === stage);
    return s >= 0 ? s : select.length + hidden.indexOf(stage);
  };
  return {
    kind: 'union', schema, unqualified, all: false, branches, branchParams, offsets: branches.map(() => 0),
    params: whole.params.map((p) => ({ ...p, listable: false })), slots: whole.slots,
    orderBy: whole.orderBy.map((o) => ({ column: columnOf(o.stage), desc: o.desc })), limit: whole.limit,
    identity: hidden,
  };
}
