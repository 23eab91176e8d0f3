/**
 * What ties a plan (planner/index.ts) to a registered cache: the fingerprint's literal slots, the
 * statement as run to learn its columns, its normalized text, the tables a definition reads, the
 * schemas the binlog does not describe, and the table and column behind each parameter.
 * Used by the engine at registration, on restart and after DDL.
 */
import { replacePlaceholders, type Fingerprint } from '../planner/fingerprint.js';
import type { CachePlan } from '../planner/index.js';
import type { SlotSpec } from '../planner/query-plan.js';
import type { TableSchema } from '../planner/schema.js';
import { unsupported } from '../planner/unsupported.js';
import { sqlLiteral } from '../dataflow/sql.js';

export function sameSlots(a: Fingerprint, b: Fingerprint): boolean {
  for (let i = 0; i < a.literals.length; i++) if (a.literals[i].kind !== b.literals[i].kind) return false;
  return true;
}

/** The planner's literal slots and the fingerprint's literals MUST line up one to one. */
export function checkSlots(plan: CachePlan, fp: Fingerprint): void {
  const ok = plan.slots.length === fp.literals.length && plan.slots.every((s, i) => {
    const l = fp.literals[i];
    return s.kind === 'param' ? l.kind === 'param' : s.kind === 'const' ? l.kind === 'value' : s.kind === 'limit' ? l.kind !== 'list' : l.kind === 'list';
  });
  if (!ok) throw unsupported('statement', 'literals the fingerprint cannot line up');
}

/**
 * The statement as run to learn its result columns: parameters NULL, its own LIMIT replaced by 0.
 * [note: group-flag] MariaDB marks the columns of a DISTINCT it ran through a temporary table with
 * GROUP_FLAG (an internal flag, 32768), and not when it found the result empty beforehand (as
 * here, or for a key without rows): the flag differs between keys of one statement upstream too.
 */
export function limitZero(sql: string, fp: Fingerprint): string {
  return replacePlaceholders(sql.slice(0, fp.limitStart >= 0 ? fp.limitStart : fp.end), 'NULL') + ' LIMIT 0';
}

/** The fingerprint with constants written back and parameters as `?`. */
export function normalizedSql(fp: Fingerprint, plan: CachePlan): string {
  let i = 0;
  return fp.key.replace(/IN \(\?\+\)|\?/g, (m) => {
    const lit = fp.literals[i];
    const slot = plan.slots[i++];
    if (lit === undefined || slot === undefined) return m;
    if (lit.kind === 'list') return `IN (${lit.items.map((x) => (slot.kind === 'list-param' || x.kind !== 'value' ? '?' : sqlLiteral(x.value))).join(', ')})`;
    return (slot.kind === 'const' || slot.kind === 'limit') && lit.kind === 'value' ? sqlLiteral(lit.value) : '?';
  });
}

/** Schemas whose tables change without row events (DDL, GRANT) or are computed on read. */
export const SYSTEM_SCHEMAS = new Set(['information_schema', 'performance_schema', 'mysql', 'sys']);

/** Every table a cache definition reads: its `tables` for a join, else its one `schema`. */
export function tablesOf(def: { readonly schema: TableSchema; readonly tables?: ReadonlyArray<TableSchema> }): ReadonlyArray<TableSchema> {
  return def.tables ?? [def.schema];
}

/** The table and column a parameter compares with. */
export function parameterOf(plan: CachePlan, column: number): { table: string; column: string } {
  if (plan.kind === 'union' && plan.offsets.some((o) => o > 0)) {
    // [note: union-branches] The branch whose columns hold it, from the last that starts at or before it.
    let b = 0;
    plan.offsets.forEach((o, i) => { if (o <= column) b = i; });
    return parameterOf(plan.branches[b], column - plan.offsets[b]);
  }
  if (plan.kind !== 'join') return { table: plan.schema.table, column: plan.schema.columns[column].name };
  let at = column;
  for (const s of plan.join.sources) {
    if (at < s.columns.length) {
      // The base table column behind it (a derived table's parameter is on a GROUP BY column).
      const c = s.aggregate === null ? s.columns[at] : s.aggregate.groupBy[s.columns[at]];
      return { table: s.schema.table, column: s.schema.columns[c]?.name ?? s.infos[at].name };
    }
    at -= s.columns.length;
  }
  return { table: plan.schema.table, column: plan.schema.columns[column].name };
}

/** A spelling of a cache's statement with other literal slots, keyed as a statement of it is. */
export interface AlternateForm {
  readonly fp: Fingerprint;
  readonly slots: ReadonlyArray<SlotSpec>;
}

/** Parameters whose places are tried in every combination; past it, one at a time. */
const MAX_LISTED_TOGETHER = 3;

/**
 * [note: in-list-union] The spellings of a cache's statement that its reader answers too, as the
 * union of the answers of their keys: each `col = ?` whose parameter is listable spelled
 * `col IN (?+)` (an ORM's `whereIn`, any number of values), and each `col IN (?, …)` spelled
 * `col = ?`. Parameters written `? = col` are not respelled. A DISTINCT across keys compares rows
 * under their columns' collations (src/operators/reader.ts `rowFold`). Pinned by
 * test/views/in-list.test.ts, test/views/in-list-distinct.test.ts and test/logic/in-list.slt.
 */
export function alternateForms(fp: Fingerprint, plan: CachePlan): AlternateForm[] {
  if (plan.kind === 'union' || plan.kind === 'answer') return [];
  const markers = literalMarkers(fp.key);
  if (markers.length !== plan.slots.length) return [];
  const eligible: number[] = [];
  plan.slots.forEach((s, i) => {
    const at = markers[i];
    if (s.kind === 'param' && plan.params[s.param].listable && fp.key.slice(at - 3, at + 1) === ' = ?') eligible.push(i);
    else if (s.kind === 'list-param' && fp.key.startsWith('IN (?+)', at) && fp.key.slice(at - 4, at) !== 'NOT ') eligible.push(i);
  });
  const subsets: number[][] = [];
  if (eligible.length <= MAX_LISTED_TOGETHER) {
    for (let mask = 1; mask < 1 << eligible.length; mask++) subsets.push(eligible.filter((_, b) => (mask & (1 << b)) !== 0));
  } else for (const i of eligible) subsets.push([i]);
  return subsets.map((subset) => {
    let key = fp.key;
    let tables = fp.unqualifiedTables === null ? null : [...fp.unqualifiedTables];
    const literals = [...fp.literals];
    const slots = [...plan.slots];
    // Right to left, so the offsets of the markers to come stay put.
    for (const i of [...subset].reverse()) {
      const s = slots[i] as { kind: 'param' | 'list-param'; param: number };
      const at = markers[i];
      // `= ?` becomes `IN (?+)`; `IN (?+)` becomes `= ?`.
      const [start, end, text] = s.kind === 'param' ? [at - 2, at + 1, 'IN (?+)'] : [at, at + 7, '= ?'];
      key = key.slice(0, start) + text + key.slice(end);
      const shift = text.length - (end - start);
      if (tables !== null) tables = tables.map((t) => (t > start ? t + shift : t));
      literals[i] = s.kind === 'param' ? { kind: 'list', items: [{ kind: 'param' }] } : { kind: 'param' };
      slots[i] = { kind: s.kind === 'param' ? 'list-param' : 'param', param: s.param };
    }
    return { fp: { ...fp, key, literals, unqualifiedTables: tables }, slots };
  });
}

/**
 * Offsets in a fingerprint key of its literal markers, in order: `?`, or `IN (?+)` (a list) at its
 * `I`. Quoted text (kept in the key for introduced strings and quoted identifiers) is skipped.
 */
function literalMarkers(key: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < key.length; i++) {
    const c = key[i];
    if (c === '`' || c === "'") {
      const end = key.indexOf(c, i + 1);
      if (end < 0) return [];
      i = end;
    } else if (key.startsWith('IN (?+)', i) && (i === 0 || key[i - 1] === ' ')) {
      out.push(i);
      i += 6;
    } else if (c === '?') out.push(i);
  }
  return out;
}
