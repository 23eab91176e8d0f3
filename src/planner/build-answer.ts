/**
 * An `answer` plan → dataflow nodes: the table's base node, the answer node keyed by the
 * parameters ([note: answer-refill], operators/query-answer.ts), and a reader that shows the
 * statement's columns in MariaDB's order (by the answer's position column) and nothing else: the
 * ORDER BY, LIMIT, DISTINCT and aggregates are inside MariaDB's answer.
 */
import type { Graph } from '../dataflow/graph.js';
import type { Operator } from '../dataflow/operator.js';
import { QueryAnswer } from '../operators/query-answer.js';
import { Reader } from '../operators/reader.js';
import { binaryOrder } from '../operators/extremum.js';
import { baseTableOf, DEFAULT_BUILD, type BuildOptions } from './build-parts.js';
import { keyFoldOf } from './schema.js';
import type { AnswerPlan } from './query-plan.js';
import type { BuiltCache } from './build.js';

export function buildAnswer(graph: Graph, plan: AnswerPlan, cacheId: string, opts: BuildOptions = DEFAULT_BUILD): BuiltCache {
  const cols = plan.schema.columns;
  const nodes: Operator[] = [];
  const add = <T extends Operator>(op: T): T => { const n = graph.add(op); nodes.push(n); return n; };
  const base = add(baseTableOf(plan.schema));
  const paramFold = plan.params.map((p) => keyFoldOf(cols[p.column]));
  const answer = add(new QueryAnswer(base, {
    template: plan.template,
    keyColumns: plan.params.map((p) => p.column),
    fold: paramFold,
    names: plan.names,
    // What the statement computes with that a session takes from the upstream's global value
    // (views/schema-refresh.ts plans the cache again when one changes).
    settings: [
      ['div_precision_increment', opts.divPrecisionIncrement], ['group_concat_max_len', opts.groupConcatMaxLen],
      ...(opts.sqlMode === undefined ? [] : [['sql_mode', opts.sqlMode] as const]),
    ],
  }));
  const visible = plan.names.length;
  const key = plan.params.map((_, i) => visible + i);
  const position = visible + plan.params.length;
  const reader = new Reader(answer, { key, fold: paramFold, visible, orderBy: [{ column: position, desc: false, order: binaryOrder }], limit: null, distinct: false }, cacheId);
  graph.add(reader);
  graph.retain(reader);
  nodes.push(reader);
  return { nodes, reader, paramFold, limitNode: null };
}
