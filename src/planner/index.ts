/**
 * The planner's one entry: a parsed statement → a plan tagged by its kind (query-plan.ts) →
 * dataflow nodes. In order:
 *
 *   1. the rewrite passes of {@link PASSES}, each an AST → AST function (passes/);
 *   2. planning by the rewritten statement's shape: a UNION (union.ts), a join (join.ts), one table
 *      (plan.ts), giving a `union`, `join` or `select` plan;
 *   3. lowering by the plan's kind through {@link LOWER} (build.ts, build-join.ts, build-union.ts).
 *
 * Whatever a step cannot cache it refuses with unsupported.ts: ERR_CACHE_UNSUPPORTED naming the
 * clause and the construct.
 */
import type { Graph } from '../dataflow/graph.js';
import type { AstNode } from './parse.js';
import { planSelect, tableOf } from './plan.js';
import { isJoin, joinTables, planJoin } from './join.js';
import { planUnion } from './union.js';
import { inlineCtes } from './passes/cte.js';
import { expandViews, NO_VIEWS, type PassContext } from './passes/views.js';
import { mergeDerived } from './passes/derived-merge.js';
import { rightJoins } from './passes/right-join.js';
import { semiJoins } from './passes/semi-join.js';
import { scalarSubqueries } from './passes/scalar-subquery.js';
import { buildCache, type BuiltCache } from './build.js';
import { buildUnion } from './build-union.js';
import { DEFAULT_BUILD, type BuildOptions } from './build-parts.js';
import type { CachePlan } from './query-plan.js';
import type { TableSchema } from './schema.js';

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

/** The tables of a rewritten statement: a join's in FROM order, else its (first branch's) one table. */
function tablesOf(ast: AstNode): Array<{ db: string | null; table: string }> {
  return isJoin(ast) ? joinTables(ast) : [tableOf(ast)];
}

/**
 * The tables a SELECT reads, in the order {@link planStatement} takes their schemas (a UNION: its
 * first branch's); the views of `ctx` read as their tables, any other view as a table.
 */
export function tablesRead(statement: AstNode, ctx: PassContext = NO_VIEWS): Array<{ db: string | null; table: string }> {
  return tablesOf(rewritten(statement, ctx));
}

/** Plans a parsed statement; `schemas` are the tables of {@link tablesRead} (with the same `ctx`), in that order. */
export function planStatement(statement: AstNode, schemas: ReadonlyArray<TableSchema>, ctx: PassContext = NO_VIEWS): CachePlan {
  const ast = rewritten(statement, ctx);
  const unqualified = tablesOf(ast).some((t) => t.db === null);
  if (ast._next) return planUnion(ast, schemas[0], unqualified);
  return isJoin(ast) ? planJoin(ast, schemas, unqualified, statement) : planSelect(ast, schemas[0], unqualified, undefined, statement);
}

/** Adds the nodes of one kind of plan to the graph (sharing what exists) and returns them. */
type Lower<P extends CachePlan> = (graph: Graph, plan: P, cacheId: string, opts: BuildOptions) => BuiltCache;

/** The builder of each kind of plan: a SELECT over one table or a join by build.ts, a UNION by build-union.ts. */
const LOWER: { readonly [K in CachePlan['kind']]: Lower<Extract<CachePlan, { readonly kind: K }>> } = {
  select: buildCache,
  join: buildCache,
  union: buildUnion,
};

/** Adds the plan's nodes to the graph (sharing what already exists) and returns them; `releaseCache` lets them go. */
export function lowerPlan(graph: Graph, plan: CachePlan, cacheId: string, opts: BuildOptions = DEFAULT_BUILD): BuiltCache {
  // LOWER is indexed by the plan's own kind: the builder found takes this plan.
  return (LOWER[plan.kind] as Lower<CachePlan>)(graph, plan, cacheId, opts);
}
