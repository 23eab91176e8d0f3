/**
 * The table `d.t (id INT, g INT)` of the dataflow unit tests that fill states whole
 * (test/dataflow/complete-state.test.ts, test/dataflow/memory-fill.test.ts): its schema, binlog
 * positions, batches of its rows, and a whole-fill limit no test reaches.
 */
import type { TableSchema } from '../../src/planner/schema.js';
import type { Batch } from '../../src/dataflow/batch.js';
import type { Row } from '../../src/dataflow/delta.js';

export const schema: TableSchema = {
  database: 'd', table: 't',
  columns: [{ name: 'id', dataType: 'int', scale: 0, collation: null }, { name: 'g', dataType: 'int', scale: 0, collation: null }],
};
export const at = (position: number) => ({ file: 'bin.000001', position });
export const batch = (position: number, deltas: Array<[1 | -1, Row]>): Batch => ({
  gtid: null, position: at(position), timestamp: 0,
  changes: [{ database: 'd', table: 't', columns: ['id', 'g'], deltas: deltas.map(([sign, row]) => ({ sign, row })) }],
});
export const LIMIT = { rows: 1000, bytes: 1 << 30 };
