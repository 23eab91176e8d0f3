/**
 * The binlog path's half of [note: value-representation]: turns the values zongji decodes from a
 * row event into Rotor's {@link Value}s, positionally, in table column order.
 *
 * zongji is created with the same mysql2 options as the upquery path (dates as strings, JSON as
 * text, DECIMAL as exact strings), so only a few types need work here: integers (zongji gives a
 * string above 2^53), YEAR, ENUM's error value and negative TIMEs (zongji's negation drops a
 * carry). FLOAT arrives as the float32's exact double, which is what Rotor keeps ([note: float-exact]).
 */
import { intValue, type Value } from '../values.js';

/** The mysql2 options zongji MUST be created with so that its values match the upquery path. */
export const binlogConnectionOptions = {
  timezone: 'Z',
  dateStrings: true,
  supportBigNumbers: true,
  bigNumberStrings: true,
  decimalNumbers: false,
  jsonStrings: true,
} as const;

// MySQL column type codes (include/mysql_com.h: enum_field_types).
const TYPE_FLOAT = 4;
const TYPE_YEAR = 13;
const TYPE_TIME = 11;
const TYPE_TIME2 = 19;
const INTEGER_TYPES = new Set([1, 2, 3, 8, 9]); // TINY, SHORT, LONG, LONGLONG, INT24

type Convert = (v: unknown) => Value;

/** [note: float-exact] FLOAT is kept as its float32's exact double, never as the 6 digits MariaDB prints. */
function floatValue(v: unknown): Value {
  if (typeof v !== 'number' || !Number.isFinite(v)) return plainValue(v);
  return Math.fround(v);
}

function integerValue(v: unknown): Value {
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'string') return intValue(v);
  return plainValue(v);
}

/** YEAR is stored as years since 1900 and 0 means the zero year `0000`; 1900 itself is not a YEAR. */
function yearValue(v: unknown): Value {
  return v === 1900 ? 0 : integerValue(v);
}

/**
 * A negative TIME with no fraction (`-01:00:00`, `-838:00:00.00`): zongji negates the packed
 * value as "flip the bits, then add one to the seconds" without carrying, so a value whose
 * seconds are 0 arrives as `-00:63:64` (TIME2; the old decimal TIME as `-00:99:100`). Adding the
 * one back with its carry: the packed value is hour·4096 + minute·64 + second (TIME2) or
 * hour·10000 + minute·100 + second (TIME). Values zongji got right are unchanged by this.
 */
function negativeTime(radix: 64 | 100): Convert {
  return (v) => {
    if (typeof v !== 'string') return plainValue(v);
    const m = /^-(\d+):(\d+):(\d+)(\.0*)?$/.exec(v);
    if (m === null) return v;
    const packed = (Number(m[1]) * radix + Number(m[2])) * radix + Number(m[3]);
    const hour = Math.floor(packed / (radix * radix)), minute = Math.floor(packed / radix) % radix, second = packed % radix;
    const two = (n: number) => String(n).padStart(2, '0');
    return `-${two(hour)}:${two(minute)}:${two(second)}${m[4] ?? ''}`;
  };
}

function plainValue(v: unknown): Value {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint' || Buffer.isBuffer(v)) return v;
  // Nothing else is expected with binlogConnectionOptions; keep a stable text rather than an object.
  return typeof v === 'object' ? JSON.stringify(v) : String(v as boolean);
}

/**
 * ENUM: the value a non-strict write stores for a string not in the list is the empty string at
 * index 0, which zongji has no choice for (it gives undefined, not NULL: NULLs come as null).
 */
function enumValue(v: unknown): Value {
  return v === undefined ? '' : plainValue(v);
}

/** True for a column the table map's metadata describes as an ENUM. */
export function isEnumColumn(schema: { readonly COLUMN_TYPE?: string } | undefined): boolean {
  return /^enum\(/i.test(schema?.COLUMN_TYPE ?? '');
}

function converterFor(type: number, isEnum: boolean): Convert {
  if (isEnum) return enumValue;
  if (INTEGER_TYPES.has(type)) return integerValue;
  if (type === TYPE_FLOAT) return floatValue;
  if (type === TYPE_YEAR) return yearValue;
  if (type === TYPE_TIME2) return negativeTime(64);
  if (type === TYPE_TIME) return negativeTime(100);
  return plainValue;
}

/** A table as one TableMap event describes it: names and value converters in column order. */
export class RowShape {
  readonly database: string;
  readonly table: string;
  readonly columns: ReadonlyArray<string>;
  readonly #convert: ReadonlyArray<Convert>;
  readonly #types: ReadonlyArray<number>;
  readonly #enums: ReadonlyArray<boolean>;

  constructor(database: string, table: string, columns: ReadonlyArray<string>, types: ReadonlyArray<number>, enums: ReadonlyArray<boolean> = []) {
    this.database = database;
    this.table = table;
    this.columns = columns;
    this.#types = types.slice();
    this.#enums = types.map((_, i) => enums[i] === true);
    this.#convert = types.map((t, i) => converterFor(t, this.#enums[i]));
  }

  /** True when a TableMap with these names and types describes exactly this shape. */
  describes(database: string, table: string, schemas: ReadonlyArray<{ COLUMN_NAME: string; COLUMN_TYPE?: string }> | undefined, types: ReadonlyArray<number>): boolean {
    if (database !== this.database || table !== this.table || !schemas) return false;
    const cols = this.columns, mine = this.#types;
    if (schemas.length !== cols.length || types.length !== mine.length) return false;
    for (let i = 0; i < cols.length; i++) {
      if (schemas[i].COLUMN_NAME !== cols[i] || types[i] !== mine[i] || isEnumColumn(schemas[i]) !== this.#enums[i]) return false;
    }
    return true;
  }

  /** The positional row for one zongji row object (keyed by column name). */
  toRow(obj: Readonly<Record<string, unknown>>): Value[] {
    const cols = this.columns, conv = this.#convert;
    const row = new Array<Value>(cols.length);
    for (let i = 0; i < cols.length; i++) row[i] = conv[i](obj[cols[i]]);
    return row;
  }
}
