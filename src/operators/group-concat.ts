/**
 * The per-group rule of GROUP_CONCAT for the grouped wrapper (grouped.ts).
 *
 * [note: group-concat-refill] GROUP_CONCAT's value is MariaDB's own text, never Rotor's: the rule
 * keeps the value an aggregate upquery returned for the group and does not maintain it. A change to
 * a row that takes part (every row whose first argument is not NULL: a row with any NULL argument
 * is skipped by MariaDB, so one with a NULL first argument changes nothing) is reported (apply
 * returns false): the grouped wrapper evicts the key, and the next read (or the background refill)
 * takes MariaDB's GROUP_CONCAT again, as for SUM over doubles ([note: float-sum]). So how each
 * type prints (DOUBLE, DECIMAL, DATETIME(3), BIT…), which spelling DISTINCT keeps under a `_ci`
 * collation, how the separator converts to the column's character set and where a value is cut at
 * `group_concat_max_len` bytes (to the longest well-formed prefix: a multibyte character is never
 * split, a binary string is cut at the byte) are MariaDB's by construction. The upquery runs with
 * the upstream's global `group_concat_max_len` ({@link GroupConcatSpec.maxLength}, set for that
 * one statement: `settings`), the value a session that has not set its own computes with (one that
 * has goes upstream: proxy/session-state.ts). The state cannot be made from input rows: the node
 * holding it MUST fill from an aggregate upquery (`fromRows: false`; the planner refuses the
 * shapes that would fill it otherwise: over a join, beside COUNT(DISTINCT)). Pinned by
 * test/operators/group-concat.test.ts and test/logic/group-concat.slt.
 */
import { sqlLiteral } from '../dataflow/sql.js';
import type { AggregateRule } from './grouped.js';
import type { Value } from '../values.js';

export interface GroupConcatSpec {
  readonly distinct: boolean;
  /** Input columns concatenated; the first is the rule's `arg`. */
  readonly args: ReadonlyArray<number>;
  /** Input columns it orders by. */
  readonly orderBy: ReadonlyArray<{ readonly column: number; readonly desc: boolean }>;
  readonly separator: string;
  /** The upstream's global `group_concat_max_len`, in bytes. */
  readonly maxLength: number;
}

interface Concat { v: Value }

/** `names`: the input columns' names, for describe(). */
export function groupConcat(spec: GroupConcatSpec, names: ReadonlyArray<string>): AggregateRule<Concat> {
  const text = (column: (i: number) => string): string => {
    const order = spec.orderBy.map((o) => `${column(o.column)}${o.desc ? ' DESC' : ''}`).join(', ');
    return `GROUP_CONCAT(${spec.distinct ? 'DISTINCT ' : ''}${spec.args.map(column).join(', ')} ORDER BY ${order} SEPARATOR ${sqlLiteral(spec.separator)})`;
  };
  return {
    name: text((i) => names[i]),
    // Two caches that differ in the limit (built before and after a change) never share the node.
    variant: `/${spec.maxLength}`,
    arg: spec.args[0],
    fromRows: false,
    settings: [['group_concat_max_len', spec.maxLength]],
    init: () => ({ v: null }),
    // [note: group-concat-refill] A row that takes part changed: MariaDB's text is asked again.
    apply: (_s, v) => v === null,
    result: (s) => s.v,
    stateSql: (_a, column) => [text(column)],
    fromSql: (v) => ({ v: v[0] }),
  };
}
