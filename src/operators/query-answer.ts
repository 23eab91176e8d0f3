/**
 * ▣ (a query's answer): per key, the rows MariaDB answered for the cached statement itself with
 * the key's values in its placeholders, in MariaDB's order, refilled rather than maintained.
 *
 * [note: answer-refill] A statement whose expressions Rotor does not evaluate (arithmetic, CASE,
 * string and date functions, CAST…) is cached by keeping MariaDB's own answer per key, as
 * GROUP_CONCAT keeps MariaDB's value per group ([note: group-concat-refill]): each parameter is
 * `column = ?` on a plain column of the one table read, ANDed in WHERE, so the answer of a key
 * depends only on the rows whose parameter columns equal it (under the columns' collations, as the
 * key folds). A change to a row whose before or after image holds a present key evicts that key
 * (and the reader's rows below it, which the engine refills in the background); nothing is
 * computed here. A fill runs the statement's own text for one key (`template`, its tables
 * qualified; the upstream's sql_mode, div_precision_increment and group_concat_max_len set for it,
 * `settings`) at a binlog position ([note: fill-position]): the replay of a later change to the key
 * evicts it again, and the key is read with locks, as for a MIN losing its extreme. So every
 * value, type, NULL, overflow, rounding, collation and row order is MariaDB's, run in a session
 * equal to the reading session in what the planner lets the answer depend on (planner/answer.ts:
 * deterministic functions only; sql_mode without parse-changing flags, time_zone UTC, the
 * connection's collation: views/cache-reads.ts `notServing`, views/read-refusals.ts). The node's
 * rows are `[the statement's columns…, the key's values…, position in MariaDB's answer]`. Pinned by
 * test/operators/query-answer.test.ts, test/logic/expressions.slt and test/e2e/expressions.test.ts.
 */
import type { StateEntry, Usage } from '../dataflow/keyed-entries.js';
import { measureRows } from '../dataflow/keyed-entries.js';
import type { Delta, Row } from '../dataflow/delta.js';
import { Materialized } from '../dataflow/materialized.js';
import { EMPTY_RESULT, type BatchResult, type ColumnSource, type Operator, type StatefulNode } from '../dataflow/operator.js';
import { keyOfRow, type FillQuery, type KeyFold } from '../dataflow/state.js';
import { sqlLiteral, withSettings } from '../dataflow/sql.js';
import { invariant } from '../errors.js';

export interface AnswerSpec {
  /** The statement's text around its placeholders: `template[i]`, key value i, …, `template[n]`. */
  readonly template: ReadonlyArray<string>;
  /** The parent's (the table's) columns each placeholder compares with. */
  readonly keyColumns: ReadonlyArray<number>;
  readonly fold: ReadonlyArray<KeyFold>;
  /** Names of the statement's result columns. */
  readonly names: ReadonlyArray<string>;
  /** Session settings the fill MUST run with, set for that one statement. */
  readonly settings: ReadonlyArray<readonly [string, number | string]>;
}

interface Entry extends StateEntry {
  readonly rows: Row[];
}

export class QueryAnswer extends Materialized<Entry> implements StatefulNode<'answer'> {
  readonly kind = 'answer' as const;
  readonly columns: ReadonlyArray<string>;
  readonly signature: string;
  /** A fill asks for one key: the statement is the client's own, for one value of each parameter. */
  readonly keysPerFill = 1;
  readonly #spec: AnswerSpec;
  readonly #visible: number;

  constructor(parent: Operator, spec: AnswerSpec) {
    const visible = spec.names.length;
    super(parent, spec.keyColumns, spec.fold, spec.keyColumns.map((_, i) => visible + i));
    invariant(spec.template.length === spec.keyColumns.length + 1, 'one placeholder per key column');
    this.#spec = spec;
    this.#visible = visible;
    this.columns = [...spec.names, ...spec.keyColumns.map((c) => parent.columns[c]), '#'];
    this.signature = `answer(${parent.signature}|${JSON.stringify(spec.template)}|${spec.keyColumns.join(',')}|${JSON.stringify(spec.settings)})`;
  }

  describe(): string {
    return `▣[${this.#spec.names.join(', ')}] by ${this.#spec.keyColumns.map((c) => `${this.parents[0].columns[c]} = ?`).join(' AND ')}`;
  }

  /** The key's columns come from the table; every other column is MariaDB's. */
  override source(column: number): ColumnSource | null {
    const i = column - this.#visible;
    return i >= 0 && i < this.#spec.keyColumns.length ? { parent: 0, column: this.#spec.keyColumns[i] } : null;
  }

  protected entryRows(e: Entry): ReadonlyArray<Row> {
    return e.rows;
  }

  protected measure(e: Entry, into: Usage): void {
    measureRows(e.rows, into);
  }

  protected newEntry(keyRow: Row): Entry {
    return { keyRow, used: 0, rows: [] };
  }

  protected addRow(e: Entry, row: Row): void {
    e.rows.push(row);
  }

  /** Never filled from input rows: the node's parent is a table, and its rows are MariaDB's answer. */
  override fillFromInput(): void {
    invariant(false, `${this.describe()} fills only from the statement's own upquery`);
  }

  /** [note: answer-refill] A change to a row of a present key evicts the key: MariaDB is asked again. */
  onBatch(_from: number, deltas: ReadonlyArray<Delta>): BatchResult {
    if (this.entries.size === 0) return EMPTY_RESULT;
    let gone: Set<string> | null = null;
    for (const d of deltas) {
      const k = keyOfRow(d.row, this.#spec.keyColumns, this.fold);
      if (this.entries.has(k)) (gone ??= new Set()).add(k);
    }
    return gone === null ? EMPTY_RESULT : { output: [], evicted: this.evictKeys(gone) };
  }

  /** The statement for one key (the upqueries ask one at a time: {@link keysPerFill}). */
  override fillQuery(keys: ReadonlyArray<Row>): FillQuery {
    invariant(keys.length === 1, `${this.describe()} fills one key per statement`);
    const key = keys[0];
    const t = this.#spec.template;
    let sql = t[0];
    for (let i = 0; i < key.length; i++) sql += sqlLiteral(key[i]) + t[i + 1];
    const settings = this.#spec.settings.map(([name, value]) => `${name} = ${typeof value === 'string' ? sqlLiteral(value) : value}`);
    return {
      sql: withSettings(sql, settings),
      install: (rows) => this.fill(keys, rows.map((r, i) => [...r, ...key, i]), undefined, this.key),
    };
  }
}
