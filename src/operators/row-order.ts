/**
 * The order of a query's rows: ORDER BY columns, each ascending or descending, compared as the
 * column's collation would ({@link ValueOrder}). Shared by the reader, which sorts answers, and the
 * top-k node, which keeps the first rows of that order per key.
 */
import type { Row } from '../dataflow/delta.js';
import type { ValueOrder } from './extremum.js';

export interface SortKey {
  readonly column: number;
  readonly desc: boolean;
  readonly order: ValueOrder;
}

/** A comparator of rows by `keys` (0 when every key compares equal). */
export function rowComparator(keys: ReadonlyArray<SortKey>): (a: Row, b: Row) => number {
  return (a, b) => {
    for (const k of keys) {
      const c = k.order(a[k.column], b[k.column]);
      if (c !== 0) return k.desc ? -c : c;
    }
    return 0;
  };
}
