/**
 * σ: keeps the rows for which a predicate is true (SQL truth: NULL is not true). Stateless; its
 * output columns are its parent's.
 */
import type { Delta } from '../dataflow/delta.js';
import { EMPTY_RESULT, OperatorBase, type BatchResult, type Operator, type SqlShape, type StatelessNode } from '../dataflow/operator.js';
import { evaluate, renderExpr, type Expr } from '../dataflow/expr.js';
import { invariant } from '../errors.js';

export class Filter extends OperatorBase implements StatelessNode {
  readonly kind = 'filter' as const;
  readonly parents: ReadonlyArray<Operator>;
  readonly columns: ReadonlyArray<string>;
  readonly state = null;
  readonly signature: string;

  constructor(parent: Operator, readonly predicate: Expr) {
    super();
    this.parents = [parent];
    this.columns = parent.columns;
    this.signature = `filter(${parent.signature}|${renderExpr(predicate, parent.columns.map((_, i) => `#${i}`))})`;
  }

  describe(): string {
    return `σ[${renderExpr(this.predicate, this.columns)}]`;
  }

  onBatch(_from: number, deltas: ReadonlyArray<Delta>): BatchResult {
    const output: Delta[] = [];
    for (const d of deltas) if (evaluate(this.predicate, d.row) === true) output.push(d);
    return output.length === 0 ? EMPTY_RESULT : { output, evicted: [] };
  }

  override sql(): SqlShape {
    const p = this.parents[0].sql();
    invariant(p !== null, 'a filter above a stateful node has no SQL');
    return { select: p.select, from: p.from, where: [...p.where, renderExpr(this.predicate, p.select)] };
  }
}
