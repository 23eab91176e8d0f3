/**
 * What the planner knows of an upstream table: its columns in ordinal order with the type facts
 * that decide how Rotor compares, keys and aggregates their values. Learned from
 * information_schema at registration and persisted with the cache.
 */
import type { KeyFold } from '../dataflow/state.js';
import { collationNamed, type Collation } from '../dataflow/collation.js';
import { unsupported } from './unsupported.js';

export interface ColumnInfo {
  readonly name: string;
  /** information_schema DATA_TYPE, lower case: `int`, `bigint`, `decimal`, `varchar`, `datetime` … */
  readonly dataType: string;
  /** NUMERIC_SCALE for DECIMAL, else 0. */
  readonly scale: number;
  /**
   * NUMERIC_PRECISION for DECIMAL (its digits: whether a DOUBLE compares with it exactly,
   * [note: value-types]). Absent for other types, and in definitions persisted before it was kept.
   */
  readonly precision?: number;
  /** COLLATION_NAME, or null for non-text columns. */
  readonly collation: string | null;
  /** Part of the primary key (top-k breaks ties by it). */
  readonly primary?: boolean;
  /** The only column of a UNIQUE index (information_schema's COLUMN_KEY `UNI`). [note: unique-limit] */
  readonly unique?: boolean;
  /** Declared NOT NULL (`NOT IN (SELECT …)` needs it on both sides: [note: anti-join]). Absent in definitions persisted before it was kept. */
  readonly notNull?: boolean;
  /** INVISIBLE: selected only by name, never by `*`. */
  readonly invisible?: boolean;
  /**
   * ENUM and SET: the members in definition order (ORDER BY sorts an ENUM by its member's index, a
   * SET by its bits). Absent for other types, and in definitions persisted before it was kept: such
   * a cache is planned again against the current schema before it serves.
   */
  readonly members?: ReadonlyArray<string>;
}

export interface TableSchema {
  readonly database: string;
  readonly table: string;
  readonly columns: ReadonlyArray<ColumnInfo>;
}

const INTEGER = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint', 'year']);
const FLOAT = new Set(['float', 'double', 'real']);
const TEMPORAL = new Set(['date', 'datetime', 'timestamp', 'time']);
const TEXT = new Set(['char', 'varchar', 'tinytext', 'text', 'mediumtext', 'longtext', 'enum', 'set']);

export type ColumnClass = 'integer' | 'decimal' | 'float' | 'temporal' | 'text' | 'binary' | 'other';

export function columnClass(c: ColumnInfo): ColumnClass {
  const t = c.dataType.toLowerCase();
  if (INTEGER.has(t)) return 'integer';
  if (t === 'decimal' || t === 'numeric') return 'decimal';
  if (FLOAT.has(t)) return 'float';
  if (TEMPORAL.has(t)) return 'temporal';
  if (TEXT.has(t)) return c.collation !== null && /_bin$|^binary$/.test(c.collation) ? 'binary' : 'text';
  if (t.includes('binary') || t.includes('blob') || t === 'bit') return 'binary';
  return 'other';
}

export function isNumericColumn(c: ColumnInfo): boolean {
  const k = columnClass(c);
  return k === 'integer' || k === 'decimal' || k === 'float';
}

/** True for a column of characters under a collation (not a binary string). */
export function hasCollation(c: ColumnInfo): boolean {
  return TEXT.has(c.dataType.toLowerCase()) && c.collation !== null && c.collation !== 'binary';
}

/**
 * The collation a text column's values compare, group and order under ([note: collations]); null
 * for other columns. Throws ERR_CACHE_UNSUPPORTED when Rotor cannot reproduce the collation.
 */
export function collationOf(c: ColumnInfo): Collation | null {
  if (!hasCollation(c)) return null;
  const name = c.collation as string;
  const e = collationNamed(name);
  if (e === undefined) throw new Error(`collation ${name} of column ${c.name} was not loaded before planning`);
  if ('refused' in e) {
    const detail = `column ${c.name} under collation ${name}: ${e.refused}`;
    throw unsupported('collation', detail, detail);
  }
  return e;
}

/** How a column's values compare as keys: text under its collation, the rest exactly. */
export function keyFoldOf(c: ColumnInfo): KeyFold {
  return collationOf(c) ?? 'exact';
}

/**
 * The members of an ENUM or SET from information_schema's COLUMN_TYPE (`enum('a','it''s')`), as
 * MariaDB writes them there: quotes doubled, `\\`, `\0`, `\n`, `\r` escaped. Null for other types.
 */
export function membersOf(columnType: string): string[] | null {
  const m = /^(?:enum|set)\((.*)\)$/is.exec(columnType.trim());
  if (m === null) return null;
  const body = m[1];
  const out: string[] = [];
  const ESC: Record<string, string> = { '0': '\0', n: '\n', r: '\r' };
  let i = 0;
  while (i < body.length) {
    if (body[i] !== "'") return null;
    let v = '';
    for (i++; ; i++) {
      if (i >= body.length) return null;
      const c = body[i];
      if (c === '\\' && i + 1 < body.length) { i++; v += ESC[body[i]] ?? body[i]; continue; }
      if (c === "'") {
        if (body[i + 1] === "'") { v += "'"; i++; continue; }
        i++;
        break;
      }
      v += c;
    }
    out.push(v);
    if (i < body.length) {
      if (body[i] !== ',') return null;
      i++;
    }
  }
  return out;
}
