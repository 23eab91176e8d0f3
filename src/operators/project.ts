/**
 * π: picks and reorders its parent's columns. Stateless; every output column is a parent column,
 * so keys pass through it for fills and evictions.
 */
import type { Delta, Row } from '../dataflow/delta.js';
import { EMPTY_RESULT, type BatchResult, type ColumnSource, type Operator, type SqlShape, type StatelessNode } from '../dataflow/operator.js';
import { invariant } from '../errors.js';
import type { Value } from '../values.js';

export class Project implements StatelessNode {
  readonly kind = 'project' as const;
  readonly parents: ReadonlyArray<Operator>;
  readonly columns: ReadonlyArray<string>;
  readonly state = null;
  readonly signature: string;

  constructor(parent: Operator, readonly picks: ReadonlyArray<number>) {
    this.parents = [parent];
    this.columns = picks.map((i) => parent.columns[i]);
    this.signature = `project(${parent.signature}|${picks.join(',')})`;
  }

  describe(): string {
    return `π[${this.columns.join(', ')}]`;
  }

  source(column: number): ColumnSource {
    return { parent: 0, column: this.picks[column] };
  }

  project(row: Row): Row {
    const out: Value[] = new Array(this.picks.length);
    for (let i = 0; i < out.length; i++) out[i] = row[this.picks[i]];
    return out;
  }

  onBatch(_from: number, deltas: ReadonlyArray<Delta>): BatchResult {
    if (deltas.length === 0) return EMPTY_RESULT;
    return { output: deltas.map((d) => ({ row: this.project(d.row), sign: d.sign })), evicted: [] };
  }

  sql(): SqlShape {
    const p = this.parents[0].sql();
    invariant(p !== null, 'a projection above a stateful node has no SQL');
    return { select: this.picks.map((i) => p.select[i]), from: p.from, where: p.where };
  }
}
