/**
 * γ: the grouped wrapper every aggregate shares. It keeps, per partial key (the parameter columns,
 * always the first group columns), the groups of that key and one state per aggregate rule, and
 * emits `−old, +new` for each group a batch changed (nothing when the row is unchanged). The rules
 * (aggregate.ts: COUNT/SUM/AVG/COUNT DISTINCT; extremum.ts: MIN/MAX) supply only the per-group
 * arithmetic.
 *
 * Without GROUP BY ("scalar" aggregation) MySQL answers one row even for no rows (COUNT 0, SUM
 * NULL): such a group lives as long as its key is present, with a row count that may be zero.
 *
 * When a rule cannot update a group without data it does not have (MIN/MAX losing its extreme), the
 * whole partial key is evicted and reported, never guessed ([note: evict-not-guess]).
 *
 * A group column under a `_ci` collation groups spellings that compare equal ('bob', 'BOB'); the
 * group shows one that its rows still have, as MariaDB does. The spellings are counted; one the
 * counts cannot vouch for (a fill from an aggregate upquery sees only the spelling MariaDB showed)
 * evicts the key rather than show a spelling no row has any more.
 */
import type { StateEntry } from '../dataflow/keyed-entries.js';
import type { Delta, Row } from '../dataflow/delta.js';
import type { Usage } from '../dataflow/keyed-entries.js';
import { Materialized } from '../dataflow/materialized.js';
import { EMPTY_RESULT, type BatchResult, type ColumnSource, type Operator, type StatefulNode } from '../dataflow/operator.js';
import { keyOfRow, keyString, rowBytes, sameRow, type FillQuery, type KeyFold } from '../dataflow/state.js';
import { keyRestriction, renderSelect, withSettings } from '../dataflow/sql.js';
import type { Value } from '../values.js';
import { invariant } from '../errors.js';

/** The per-group arithmetic of one aggregate function. States are mutable objects owned by a group. */
export interface AggregateRule<S extends object = object> {
  /** As written in describe(): `COUNT(*)`, `SUM(x)`. */
  readonly name: string;
  /** What else tells two rules of one name apart in a node's signature (AVG's digits). */
  readonly variant?: string;
  /** Input column the function reads, or null for COUNT(*). */
  readonly arg: number | null;
  /**
   * False when the state cannot be made from input rows: the node MUST fill from an aggregate
   * upquery ([note: group-concat-refill]).
   */
  readonly fromRows?: false;
  /** Session settings the aggregate upquery MUST run with (set for that one statement). */
  readonly settings?: ReadonlyArray<readonly [string, number]>;
  init(): S;
  /** Applies one input value. Returns false when the result is no longer known ([note: evict-not-guess]). */
  apply(state: S, v: Value, sign: 1 | -1): boolean;
  result(state: S): Value;
  /**
   * SQL aggregates whose values give this state for a group, or null when it needs the rows.
   * `column` writes any input column (a rule reading more than its `arg`).
   */
  stateSql(arg: string | null, column: (i: number) => string): ReadonlyArray<string> | null;
  /** The state from the values of `stateSql` in one result row. */
  fromSql(values: ReadonlyArray<Value>): S;
}

interface Group {
  /** The group columns as shown: one spelling its rows have. */
  values: Row;
  /**
   * Rows per exact spelling, when a group column folds case (null otherwise): exact counts, or, in a
   * group filled from an aggregate upquery, counts no greater than the spelling's rows.
   */
  readonly spellings: Map<string, { readonly values: Row; count: number }> | null;
  /** Rows whose spelling is not counted: a group filled from an aggregate upquery knows one of its rows' spelling only. */
  unspelled: number;
  count: number;
  readonly states: object[];
  out: Row | null;
}

interface Entry extends StateEntry {
  readonly groups: Map<string, Group>;
}

export interface AggregateSpec {
  /** Input columns grouped by; the first `keyCount` are the partial key. */
  readonly groupBy: ReadonlyArray<number>;
  readonly keyCount: number;
  readonly rules: ReadonlyArray<AggregateRule>;
  /** No GROUP BY: an empty key still answers one row. */
  readonly scalar: boolean;
  readonly fold: ReadonlyArray<KeyFold>;
}

export class Aggregate extends Materialized<Entry> implements StatefulNode<'aggregate'> {
  readonly kind = 'aggregate' as const;
  readonly columns: ReadonlyArray<string>;
  readonly signature: string;
  readonly #spec: AggregateSpec;
  readonly #groupFold: ReadonlyArray<KeyFold>;
  readonly #spelled: boolean;
  /** Every rule's state can be made from input rows ([note: group-concat-refill]). */
  readonly #rowsFill: boolean;

  constructor(parent: Operator, spec: AggregateSpec) {
    const keyIn = spec.groupBy.slice(0, spec.keyCount);
    super(parent, keyIn, spec.fold.slice(0, spec.keyCount), keyIn.map((_, i) => i));
    this.#spec = spec;
    this.#groupFold = spec.fold;
    this.#spelled = !spec.scalar && spec.fold.some((f) => f !== 'exact');
    this.#rowsFill = spec.rules.every((r) => r.fromRows !== false);
    this.columns = [...spec.groupBy.map((i) => parent.columns[i]), ...spec.rules.map((r) => r.name)];
    this.signature = `aggregate(${parent.signature}|${spec.groupBy.join(',')}|${spec.keyCount}|${spec.scalar}|${spec.rules.map((r) => `${r.name}${r.variant ?? ''}@${r.arg}`).join(',')})`;
  }

  describe(): string {
    const g = this.#spec.groupBy.map((i) => this.parents[0].columns[i]).join(', ');
    return `γ[${g}] ${this.#spec.rules.map((r) => r.name).join(', ')}`;
  }

  override source(column: number): ColumnSource | null {
    return column < this.#spec.groupBy.length ? { parent: 0, column: this.#spec.groupBy[column] } : null;
  }

  protected entryRows(e: Entry): ReadonlyArray<Row> {
    const out: Row[] = [];
    for (const g of e.groups.values()) if (g.out !== null) out.push(g.out);
    return out;
  }

  protected measure(e: Entry, into: Usage): void {
    for (const g of e.groups.values()) {
      into.rows++;
      into.bytes += rowBytes(g.values) + 48 * g.states.length + (g.out ? rowBytes(g.out) : 0);
    }
  }

  #newGroup(values: Row): Group {
    return { values, spellings: this.#spelled ? new Map() : null, unspelled: 0, count: 0, states: this.#spec.rules.map((r) => r.init()), out: null };
  }

  // Counts one input row's spelling in or out; false when the counts cannot say what to show.
  #respell(g: Group, row: Row, sign: 1 | -1): boolean {
    const sp = g.spellings;
    if (sp === null) return true;
    const values = this.#groupValues(row);
    const k = keyString(values);
    const s = sp.get(k);
    // A spelling not counted going out: it was among the rows whose spelling is not known.
    if (s === undefined && sign === -1 && g.unspelled > 0) {
      g.unspelled--;
      return true;
    }
    const n = (s?.count ?? 0) + sign;
    if (n < 0) return false;
    if (n === 0) sp.delete(k);
    else if (s !== undefined) s.count = n;
    else sp.set(k, { values, count: n });
    if (!sp.has(keyString(g.values))) {
      const next = sp.values().next();
      if (next.done === true) return g.count <= 0;
      g.values = next.value.values;
    }
    return true;
  }

  #groupValues(row: Row): Row {
    return this.#spec.groupBy.map((i) => row[i]);
  }

  #output(g: Group): Row | null {
    if (g.count <= 0 && !this.#spec.scalar) return null;
    const out: Value[] = g.values.slice();
    for (let i = 0; i < this.#spec.rules.length; i++) out.push(this.#spec.rules[i].result(g.states[i]));
    return out;
  }

  /**
   * Without GROUP BY the empty key's one group shows its row of no rows from the start: in a
   * complete state a delta creates the entry of a key a reader below may already hold as that row
   * ({@link absentRows}), and its change must retract it. [note: complete-state]
   */
  protected newEntry(keyRow: Row): Entry {
    const e: Entry = { keyRow, used: 0, groups: new Map() };
    if (this.#spec.scalar) {
      const g = this.#newGroup(keyRow);
      g.out = this.#output(g);
      e.groups.set('', g);
    }
    return e;
  }

  /** Without GROUP BY, a key with no rows answers one row (COUNT 0, SUM NULL); grouped, none. */
  absentRows(keyRow: Row): ReadonlyArray<Row> {
    return this.#spec.scalar ? [this.#output(this.#newGroup(keyRow)) as Row] : [];
  }

  protected addRow(e: Entry, row: Row): void {
    const gk = this.#groupKey(row);
    let g = e.groups.get(gk);
    if (g === undefined) e.groups.set(gk, (g = this.#newGroup(this.#groupValues(row))));
    g.count++;
    this.#respell(g, row, 1);
    const rules = this.#spec.rules;
    invariant(this.#rowsFill, `${this.describe()} fills only from an aggregate upquery`);
    for (let i = 0; i < rules.length; i++) rules[i].apply(g.states[i], rules[i].arg === null ? 1 : row[rules[i].arg as number], 1);
  }

  protected override seal(e: Entry): void {
    for (const g of e.groups.values()) g.out = this.#output(g);
  }

  #groupKey(row: Row): string {
    return this.#spec.scalar ? '' : keyOfRow(row, this.#spec.groupBy, this.#groupFold);
  }

  onBatch(_from: number, deltas: ReadonlyArray<Delta>): BatchResult {
    if ((this.entries.size === 0 && !this.complete) || deltas.length === 0) return EMPTY_RESULT;
    const touched = new Map<Group, { old: Row | null; key: string; gk: string }>();
    const rules = this.#spec.rules;
    const broken = this.changeEntries(deltas, (entry, d, pk) => {
      const gk = this.#groupKey(d.row);
      let g = entry.groups.get(gk);
      if (g === undefined) {
        g = this.#newGroup(this.#groupValues(d.row));
        entry.groups.set(gk, g);
      }
      if (!touched.has(g)) touched.set(g, { old: g.out, key: pk, gk });
      g.count += d.sign;
      let held = this.#respell(g, d.row, d.sign);
      for (let i = 0; i < rules.length; i++) {
        const r = rules[i];
        if (!r.apply(g.states[i], r.arg === null ? 1 : d.row[r.arg], d.sign)) held = false;
      }
      return held;
    });
    const output: Delta[] = [];
    const evicted = broken === null ? [] : this.evictKeys(broken);
    for (const [g, t] of touched) {
      if (broken?.has(t.key)) continue;
      const next = this.#output(g);
      if (g.count <= 0 && !this.#spec.scalar) this.entries.get(t.key)?.groups.delete(t.gk);
      g.out = next;
      if (t.old !== null && next !== null && sameRow(t.old, next)) continue;
      if (t.old !== null) output.push({ row: t.old, sign: -1 });
      if (next !== null) output.push({ row: next, sign: 1 });
    }
    return output.length === 0 && evicted.length === 0 ? EMPTY_RESULT : { output, evicted };
  }

  /** Rows `[group values…, COUNT(*), …each rule's stateSql values]` from an aggregate upquery. */
  fillFromAggregates(keys: ReadonlyArray<Row>, rows: ReadonlyArray<Row>): void {
    const ng = this.#spec.groupBy.length;
    const add = (e: Entry, row: Row): void => {
      const values = row.slice(0, ng);
      const g = this.#newGroup(values);
      g.count = Number(row[ng]);
      // MariaDB shows one spelling of the group's rows: that one has a row, the others' are not known.
      if (g.spellings !== null) {
        g.spellings.set(keyString(values), { values, count: 1 });
        g.unspelled = g.count - 1;
      }
      let at = ng + 1;
      for (let i = 0; i < this.#spec.rules.length; i++) {
        const r = this.#spec.rules[i];
        const width = (r.stateSql('x', () => 'x') as ReadonlyArray<string>).length;
        g.states[i] = r.fromSql(row.slice(at, at + width));
        at += width;
      }
      e.groups.set(this.#spec.scalar ? '' : keyString(values, this.#groupFold), g);
    };
    // The partial key leads the group values.
    this.fill(keys, rows, add, this.key);
  }

  /**
   * [note: complete-state] The aggregate upquery of every key, grouped: one row per group (per
   * key without GROUP BY: a key not held then answers {@link absentRows}). Null for one that fills
   * from the rows themselves.
   */
  override wholeQuery(limit: number): string | null {
    const q = this.#aggregateSql(null);
    return q === null ? null : `${q} LIMIT ${Math.floor(limit)}`;
  }

  override fillWhole(rows: ReadonlyArray<Row>): void {
    const keys = new Map<string, Row>();
    for (const row of rows) {
      const k = row.slice(0, this.#spec.keyCount);
      keys.set(keyString(k, this.fold), k);
    }
    this.fillFromAggregates([...keys.values()], rows);
    this.markComplete();
  }

  override fillQuery(keys: ReadonlyArray<Row>): FillQuery {
    const sql = this.#aggregateSql(keys);
    if (sql === null) {
      // A rule that needs the rows themselves (COUNT DISTINCT): fill from the input rows.
      invariant(this.#rowsFill, `${this.describe()} fills only from an aggregate upquery`);
      return super.fillQuery(keys);
    }
    return { sql, install: (rows) => this.fillFromAggregates(keys, rows) };
  }

  /**
   * The aggregate upquery of `keys` (every key: null), rows as {@link fillFromAggregates} takes
   * them; null when a rule needs the rows themselves.
   */
  #aggregateSql(keys: ReadonlyArray<Row> | null): string | null {
    const p = this.parentSql();
    const group = this.#spec.groupBy.map((i) => p.select[i]);
    const restrict = keys === null ? [] : [keyRestriction(group.slice(0, this.#spec.keyCount), keys)];
    const parts: string[] = [];
    const settings: string[] = [];
    for (const r of this.#spec.rules) {
      const s = r.stateSql(r.arg === null ? null : p.select[r.arg], (i) => p.select[i]);
      if (s === null) return null;
      parts.push(...s);
      for (const [name, value] of r.settings ?? []) settings.push(`${name} = ${value}`);
    }
    const sql = renderSelect(p, [...group, 'COUNT(*)', ...parts], restrict, this.#spec.keyCount === 0 && this.#spec.scalar ? [] : group);
    return withSettings(sql, settings);
  }
}
