/**
 * What ties a plan (planner/index.ts) to a registered cache: the fingerprint's literal slots, the
 * statement as run to learn its columns, its normalized text, the tables a definition reads, the
 * schemas the binlog does not describe, and the table and column behind each parameter.
 * Used by the engine at registration, on restart and after DDL.
 */
import { replacePlaceholders, type Fingerprint } from '../planner/fingerprint.js';
import type { CachePlan } from '../planner/index.js';
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
