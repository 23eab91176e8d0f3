/**
 * Deltas: the one currency of the dataflow.
 *
 * A delta is a row with a sign: +1 means the row now exists, -1 means it no longer does. An INSERT
 * is one positive delta, a DELETE one negative delta, an UPDATE the pair `-before, +after`. A
 * batch is the deltas of one upstream transaction; every node sees a whole batch at once and no
 * `await` happens while a batch flows, so a reader never observes half a transaction.
 *
 * Rows are positional arrays of {@link Value}s, in the column order of the node that emits them.
 * [note: value-representation] Values from the binlog and from upquery results MUST be normalized
 * to the same representation (see `src/values.ts`), or a row will not compare equal to itself.
 */
import type { Value } from '../values.js';

export type Row = ReadonlyArray<Value>;
export type Sign = 1 | -1;

export interface Delta {
  readonly row: Row;
  readonly sign: Sign;
}

export const plus = (row: Row): Delta => ({ row, sign: 1 });
export const minus = (row: Row): Delta => ({ row, sign: -1 });

/** A stable string identity for a row, used to cancel and count equal rows. */
export function rowKey(row: Row): string {
  let s = '';
  for (let i = 0; i < row.length; i++) {
    const v = row[i];
    if (i > 0) s += '\u0001';
    if (v === null) s += '\u0000N';
    else if (typeof v === 'string') s += 's' + v;
    else if (typeof v === 'number') s += 'n' + String(v);
    else if (typeof v === 'bigint') s += 'n' + v.toString();
    else s += 'b' + v.toString('hex');
  }
  return s;
}

/**
 * Cancels equal `+`/`-` pairs, so that a batch states only its net effect. Rows whose net count is
 * +k or -k come out as k deltas of that sign, in first-seen order (negatives before positives for a
 * row key seen with both signs never happens after consolidation: a key's net is one sign).
 */
export function consolidate(deltas: ReadonlyArray<Delta>): Delta[] {
  if (deltas.length < 2) return deltas.slice();
  const net = new Map<string, { row: Row; count: number }>();
  for (const d of deltas) {
    const k = rowKey(d.row);
    const e = net.get(k);
    if (e) e.count += d.sign;
    else net.set(k, { row: d.row, count: d.sign });
  }
  const out: Delta[] = [];
  for (const { row, count } of net.values()) {
    const sign: Sign = count > 0 ? 1 : -1;
    for (let i = Math.abs(count); i > 0; i--) out.push({ row, sign });
  }
  return out;
}
