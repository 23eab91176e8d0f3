/**
 * The planner's one entry: a parsed statement → a plan tagged by its kind (query-plan.ts) →
 * dataflow nodes. In order:
 *
 *   1. the rewrite passes of {@link PASSES}, each an AST → AST function (passes/);
 *   2. planning by the rewritten statement's shape: a UNION (union.ts), a join (join.ts), one table
 *      (plan.ts; with an OR of parameters across columns, or-union.ts), giving a `union`, `join` or
 *      `select` plan; what those refuse, one table with expressions, as MariaDB's answer per key
 *      (answer.ts, an `answer` plan);
 *   3. lowering by the plan's kind through {@link LOWER} (build.ts, build-join.ts, build-union.ts).
 *
 * Whatever a step cannot cache it refuses with unsupported.ts: ERR_CACHE_UNSUPPORTED naming the
 * clause and the construct.
 */
import type { Graph } from '../dataflow/graph.js';
import type { AstNode } from './parse.js';
import { planSelect, tableOf } from './plan.js';
import { isJoin, joinTables, planJoin } from './join.js';
import { planUnion, unionTables } from './union.js';
import { crossColumnOr, planOrUnion } from './or-union.js';
import { isDecisive, planAnswer } from './answer.js';
import { RotorError } from '../errors.js';
import { inlineCtes } from './passes/cte.js';
import { expandViews, NO_VIEWS, type PassContext } from './passes/views.js';
import { mergeDerived } from './passes/derived-merge.js';
import { rightJoins } from './passes/right-join.js';
import { semiJoins } from './passes/semi-join.js';
import { scalarSubqueries } from './passes/scalar-subquery.js';
import { buildCache, type BuiltCache } from './build.js';
import { buildUnion } from './build-union.js';
import { buildAnswer } from './build-answer.js';
import { DEFAULT_BUILD, type BuildOptions } from './build-parts.js';
import type { CachePlan } from './query-plan.js';
import type { TableSchema } from './schema.js';
import { unsupported } from './unsupported.js';

export { releaseCache, type BuiltCache } from './build.js';
export type { CachePlan } from './query-plan.js';
export { DEFAULT_BUILD, type BuildOptions } from './build-parts.js';
export { NO_VIEWS, type PassContext, type ViewDefinition } from './passes/views.js';

/**
 * A rewrite of the parsed statement before planning, given what the planner knows besides it (the
 * views it reads); it returns its input itself when it has nothing to rewrite.
 */
export interface Pass {
  readonly name: string;
  readonly rewrite: (ast: AstNode, ctx: PassContext) => AstNode;
}

/**
 * The rewrite passes, in the order they run. cte comes first: the others see its derived tables as
 * written-out ones (and every name left in a FROM is a table or a view); views makes each view its
 * definition as a derived table; derived-merge then makes a derived table alone one SELECT. right-join rewrites
 * only a FROM clause of two tables, before semi-join and scalar-subquery add derived tables to the FROM clause.
 */
export const PASSES: ReadonlyArray<Pass> = [
  { name: 'cte', rewrite: inlineCtes },
  { name: 'views', rewrite: expandViews },
  { name: 'derived-merge', rewrite: mergeDerived },
  { name: 'right-join', rewrite: rightJoins },
  { name: 'semi-join', rewrite: semiJoins },
  { name: 'scalar-subquery', rewrite: scalarSubqueries },
];

/** The statement as planned: every pass applied, in order. */
function rewritten(statement: AstNode, ctx: PassContext): AstNode {
  return PASSES.reduce((ast, pass) => pass.rewrite(ast, ctx), statement);
}

/** The tables of a rewritten statement: a join's in FROM order, a UNION's branch by branch, else its one table. */
function tablesOf(ast: AstNode): Array<{ db: string | null; table: string }> {
  if (ast._next) return unionTables(ast);
  return isJoin(ast) ? joinTables(ast) : [tableOf(ast)];
}

/**
 * The tables a SELECT reads, in the order {@link planStatement} takes their schemas (a UNION: its
 * branches'); the views of `ctx` read as their tables, any other view as a table.
 */
export function tablesRead(statement: AstNode, ctx: PassContext = NO_VIEWS): Array<{ db: string | null; table: string }> {
  return tablesOf(rewritten(statement, ctx));
}

/**
 * Plans a parsed statement; `schemas` are the tables of {@link tablesRead} (with the same `ctx`), in
 * that order. With the statement's text (`sql`), a single-table SELECT the incremental plans refuse
 * (expressions) is planned as MariaDB's answer per key where it can be ([note: answer-refill],
 * answer.ts): the incremental plans always come first.
 */
export function planStatement(statement: AstNode, schemas: ReadonlyArray<TableSchema>, ctx: PassContext = NO_VIEWS, sql?: string): CachePlan {
  const ast = rewritten(statement, ctx);
  const unqualified = tablesOf(ast).some((t) => t.db === null);
  try {
    return planIncremental(ast, statement, schemas, unqualified);
  } catch (e) {
    // Only a statement no pass rewrote: the fill runs its text as written. An unknown column that
    // is an alias of the select list (`GROUP BY c`) is the answer's to use.
    if (sql === undefined || ast !== statement || ast._next || isJoin(ast) || !(e instanceof RotorError)) throw e;
    if (e.code !== 'ERR_CACHE_UNSUPPORTED' && !(e.code === 'ERR_CACHE_UNKNOWN_COLUMN' && namesAlias(statement, e.message))) throw e;
    try {
      return planAnswer(statement, sql, schemas[0], unqualified);
    } catch (why) {
      // The answer's reason where the incremental plan stopped at an expression, or the answer
      // names a function no cache keeps; else the incremental plan's.
      throw isDecisive(why) || /expression|function/.test(e.message) ? why : e;
    }
  }
}

/** The incremental plans: a UNION, a join, an OR of parameters across columns, one table. */
function planIncremental(ast: AstNode, statement: AstNode, schemas: ReadonlyArray<TableSchema>, unqualified: boolean): CachePlan {
  if (ast._next) return planUnion(ast, schemas, unqualified);
  if (isJoin(ast)) return planJoin(ast, schemas, unqualified, statement);
  const or = crossColumnOr(ast);
  if (or === null) return planSelect(ast, schemas[0], unqualified, undefined, statement);
  // The branches number the literals of the statement as planned: a rewritten one could differ.
  if (ast !== statement) throw unsupported('WHERE', 'an OR of parameters across columns in a CTE or derived table');
  return planOrUnion(ast, or, schemas[0], unqualified);
}

/** Adds the nodes of one kind of plan to the graph (sharing what exists) and returns them. */
type Lower<P extends CachePlan> = (graph: Graph, plan: P, cacheId: string, opts: BuildOptions) => BuiltCache;

/** The builder of each kind of plan: a SELECT over one table or a join by build.ts, a UNION by build-union.ts. */
const LOWER: { readonly [K in CachePlan['kind']]: Lower<Extract<CachePlan, { readonly kind: K }>> } = {
  select: buildCache,
  join: buildCache,
  union: buildUnion,
  answer: buildAnswer,
};

/** Adds the plan's nodes to the graph (sharing what already exists) and returns them; `releaseCache` lets them go. */
export function lowerPlan(graph: Graph, plan: CachePlan, cacheId: string, opts: BuildOptions = DEFAULT_BUILD): BuiltCache {
  // LOWER is indexed by the plan's own kind: the builder found takes this plan.
  return (LOWER[plan.kind] as Lower<CachePlan>)(graph, plan, cacheId, opts);
}

/** True when the unknown column `message` names (ERR_CACHE_UNKNOWN_COLUMN) is an alias of the select list. */
function namesAlias(statement: AstNode, message: string): boolean {
  const name = /'([^']*)'/.exec(message)?.[1]?.toLowerCase();
  const items = Array.isArray(statement.columns) ? (statement.columns as AstNode[]) : [];
  return name !== undefined && items.some((it) => typeof it.as === 'string' && it.as.toLowerCase() === name);
}
