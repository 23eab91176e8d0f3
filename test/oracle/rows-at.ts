/** What the oracle tests of a single-table plan share. */
import { positives, type Operator } from '../../src/dataflow/operator.js';
import type { Row } from '../../src/dataflow/delta.js';

/** The rows a stateless node emits for the whole table. */
export function rowsAt(op: Operator, table: ReadonlyArray<Row>): Row[] {
  if (op.parents.length === 0) return table.slice();
  const input = rowsAt(op.parents[0], table);
  return op.onBatch(0, positives(input), { position: null }).output.map((d) => d.row);
}
