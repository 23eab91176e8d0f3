/**
 * Random tables for the differential test: many column types, each with a small pool of values
 * that hits the edges (NULL, '', case variants, accents, big DECIMALs, negative TIME, ENUM members,
 * 0.1 as a FLOAT) and repeats often enough to make groups, ties and join matches.
 */
import type { Gap } from './gaps.js';

export type Kind = 'int' | 'bigint' | 'decimal' | 'varchar' | 'char' | 'date' | 'datetime' | 'time' | 'enum' | 'set' | 'float' | 'double' | 'year' | 'bit';

export interface Col {
  readonly name: string;
  readonly kind: Kind;
  readonly sqlType: string;
  readonly nullable: boolean;
  /** utf8mb4_general_ci … latin1_bin for text and ENUM, else null. */
  readonly collation: string | null;
  /** Values as SQL literals (already quoted where needed), NULL excluded. */
  readonly pool: ReadonlyArray<string>;
  /** A DECIMAL whose pool holds values beyond 2^53. */
  readonly big: boolean;
}

export interface Table {
  readonly name: string;
  /** `id` (INT primary key) first, then `k` (INT, the join column), then the random ones. */
  readonly cols: ReadonlyArray<Col>;
  nextId: number;
}

export type Rnd = () => number;
export const pick = <T>(rnd: Rnd, xs: ReadonlyArray<T>): T => xs[Math.floor(rnd() * xs.length)];
export const int = (rnd: Rnd, lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));

export function quote(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/** A SQL literal back to the value a client would bind (numbers of text-less kinds as strings too). */
export function unquote(lit: string): string {
  return lit.startsWith("'") ? lit.slice(1, -1).replace(/''/g, "'").replace(/\\\\/g, '\\') : lit;
}

export const isText = (c: Col): boolean => c.kind === 'varchar' || c.kind === 'char';
export const isCi = (c: Col): boolean => (isText(c) || c.kind === 'enum' || c.kind === 'set') && c.collation !== null && /_ci$/.test(c.collation);
/** Values MariaDB may show in any of several spellings equal under the collation (case, accents, or trailing spaces under PAD SPACE). */
export const hasSpellings = (c: Col): boolean => (isText(c) || c.kind === 'enum' || c.kind === 'set') && c.collation !== null && (isCi(c) || !/nopad/.test(c.collation));
export const isNumeric = (c: Col): boolean => ['int', 'bigint', 'decimal', 'float', 'double'].includes(c.kind);
export const isTemporal = (c: Col): boolean => c.kind === 'date' || c.kind === 'datetime' || c.kind === 'time';

const COLLATIONS = ['utf8mb4_general_ci', 'utf8mb4_bin', 'utf8mb4_unicode_ci', 'utf8mb4_unicode_520_ci', 'latin1_swedish_ci', 'latin1_bin', 'utf8mb4_general_nopad_ci', 'utf8mb4_nopad_bin'];
const ASCII = ['bob', 'BOB', 'Bob', 'alice', 'ALICE', '', 'a', 'b', 'zed', 'x y', 'B'];
const ACCENTS = ['é', 'e', 'É', 'E', 'ä', 'a', 'ß', 's', 'ss', 'résumé', 'resume', 'Ä'];
const TRAILING = ['bob ', 'a ', ' ', 'BOB  '];
const PUNCT = ['-a', 'a-b', 'a.b', '#'];
const UNDERSCORE = ['_b', 'a_'];
const LATIN1 = ['é', 'ä', 'ß', 'Ä', 'e', 'a', 'ss', 'z'];
const ENUM_MEMBERS = ['medium', 'small', 'large', 'x'];
const SET_MEMBERS = ['a', 'b', 'c'];

function decimalPool(rnd: Rnd, p: number, s: number, big: boolean): string[] {
  const frac = (d: string) => (s === 0 ? '' : '.' + d.padEnd(s, '0').slice(0, s));
  const out = new Set<string>();
  for (const i of ['0', '1', '-1', '2', '12', '-3', '7']) out.add(i + frac(pick(rnd, ['0', '5', '25', '1', '99'])));
  out.add('0.1'.slice(0, s === 0 ? 1 : 3) + (s === 0 ? '' : '0'.repeat(s - 1)));
  const intDigits = p - s;
  out.add('9'.repeat(Math.min(intDigits, 6)) + frac('9'));
  if (big) {
    const huge = '9007199254740993'.padEnd(intDigits, '1').slice(0, intDigits);
    out.add(huge + frac('5'));
    out.add('-' + huge + frac('0'));
    out.add('9'.repeat(intDigits) + frac('9999'));
    out.add('9007199254740992' + frac('0'));
  }
  return [...out].map((v) => (s === 0 ? v.replace(/\..*$/, '') : v));
}

function textPool(rnd: Rnd, collation: string, avoid: ReadonlySet<Gap>): string[] {
  const latin1 = collation.startsWith('latin1');
  const ci = /_ci$/.test(collation);
  let all = [...ASCII];
  if (latin1) {
    if (!avoid.has('latin1')) all.push(...LATIN1);
  } else if (!ci || !avoid.has('ci-accents')) all.push(...ACCENTS);
  if (!avoid.has('trailing-spaces')) all.push(...TRAILING);
  if (collation !== 'utf8mb4_unicode_ci' || !avoid.has('unicode-ci-punctuation')) all.push(...PUNCT);
  if (!ci || (!avoid.has('ci-underscore') && !avoid.has('unicode-ci-punctuation'))) all.push(...UNDERSCORE);
  all = all.sort(() => rnd() - 0.5);
  // Always a case pair, so _ci keys, groups and DISTINCT see two spellings of one value.
  return [...new Set(['bob', 'BOB', ...all.slice(0, int(rnd, 5, 9))])].map(quote);
}

function column(rnd: Rnd, name: string, kind: Kind, avoid: ReadonlySet<Gap>): Col {
  const nullable = rnd() < 0.6;
  let sqlType = kind.toUpperCase();
  let collation: string | null = null;
  let pool: string[] = [];
  let big = false;
  switch (kind) {
    case 'int':
    case 'bigint': {
      const unsigned = rnd() < 0.3;
      sqlType += unsigned ? ' UNSIGNED' : '';
      const small = unsigned ? ['0', '1', '2', '3', '42'] : ['0', '1', '2', '-1', '-7', '42'];
      const edges = kind === 'int'
        ? (unsigned ? ['4294967295'] : ['2147483647', '-2147483648'])
        : (unsigned ? ['9007199254740993', '18446744073709551615'] : ['9007199254740993', '-9007199254740993', '9223372036854775807', '-9223372036854775808']);
      pool = [...small, ...edges.filter(() => rnd() < 0.6)];
      break;
    }
    case 'decimal': {
      const p = pick(rnd, [5, 10, 20, 30]);
      const s = Math.min(pick(rnd, [0, 2, 2, 4]), p - 3);
      big = p - s > 16 && rnd() < 0.7;
      sqlType = `DECIMAL(${p},${s})`;
      pool = decimalPool(rnd, p, s, big);
      break;
    }
    case 'varchar':
    case 'char': {
      collation = pick(rnd, COLLATIONS);
      sqlType = `${kind === 'char' ? 'CHAR(12)' : 'VARCHAR(16)'} CHARACTER SET ${collation.split('_')[0]} COLLATE ${collation}`;
      pool = textPool(rnd, collation, avoid);
      break;
    }
    case 'enum': {
      collation = pick(rnd, ['utf8mb4_general_ci', 'utf8mb4_bin']);
      sqlType = `ENUM(${ENUM_MEMBERS.map(quote).join(',')}) CHARACTER SET utf8mb4 COLLATE ${collation}`;
      pool = [...ENUM_MEMBERS, ...(collation.endsWith('_ci') ? ['SMALL'] : [])].map(quote);
      break;
    }
    case 'date':
      pool = ['2024-01-01', '2024-02-29', '1970-01-01', '1999-12-31', '9999-12-31', '1000-01-01'].map(quote);
      break;
    case 'datetime': {
      const fsp = pick(rnd, [0, 0, 3, 6]);
      sqlType = fsp ? `DATETIME(${fsp})` : 'DATETIME';
      pool = ['2024-01-01 00:00:00', '2024-01-01 12:34:56', '1999-12-31 23:59:59', '2038-01-19 03:14:08', ...(fsp ? ['2024-01-01 12:34:56.5', '2024-01-01 12:34:56.123'] : [])].map(quote);
      break;
    }
    case 'time': {
      const fsp = pick(rnd, [0, 0, 2]);
      sqlType = fsp ? `TIME(${fsp})` : 'TIME';
      pool = ['00:00:00', '12:30:00', '-01:00:00', '838:59:59', '-838:59:59', '-00:00:01', '100:00:00', '02:00:00', ...(fsp ? ['-00:00:00.5', '00:00:00.25'] : [])].map(quote);
      break;
    }
    case 'set': {
      collation = pick(rnd, ['utf8mb4_general_ci', 'utf8mb4_bin']);
      sqlType = `SET(${SET_MEMBERS.map(quote).join(',')}) CHARACTER SET utf8mb4 COLLATE ${collation}`;
      pool = ['', 'a', 'b', 'a,b', 'a,c', 'b,c', 'a,b,c', ...(collation.endsWith('_ci') ? ['A,b'] : [])].map(quote);
      break;
    }
    case 'year':
      // 69 is stored as 2069, '0' as 2000, 0 as 0000.
      pool = ['2024', '1999', '2000', '2155', '1901', '69', "'0'", ...(avoid.has('year-zero') ? [] : ['0'])];
      break;
    case 'bit': {
      const width = pick(rnd, [1, 8, 16]);
      sqlType = `BIT(${width})`;
      pool = width === 1 ? ["b'0'", "b'1'", '0', '1'] : ["b'101'", "b'0'", "b'11111111'", '5', '48', '97'];
      break;
    }
    case 'float':
      pool = ['0.1', '0.5', '1', '-1.5', '2.25', '1234.5', '0.3', '0'];
      break;
    case 'double':
      pool = ['0.1', '0.5', '1', '-1.5', '2.25', '0.30000000000000004', '1e300', '-2.5e-10', '0'];
      break;
  }
  return { name, kind, sqlType, nullable, collation, pool, big };
}

const KINDS: Kind[] = ['int', 'bigint', 'decimal', 'varchar', 'char', 'date', 'datetime', 'time', 'enum', 'set', 'float', 'double', 'varchar', 'decimal', 'year', 'bit'];

/** Table `name`: id, k, a text column `s` of the given collation (shared with the other table for text joins), and 2–5 random ones. */
export function randomTable(rnd: Rnd, name: string, sCollation: string, avoid: ReadonlySet<Gap>): Table {
  const id: Col = { name: 'id', kind: 'int', sqlType: 'INT', nullable: false, collation: null, pool: [], big: false };
  const k: Col = { name: 'k', kind: 'int', sqlType: 'INT', nullable: true, collation: null, pool: ['0', '1', '2', '3', '4'], big: false };
  const s = column(rnd, 's', 'varchar', avoid);
  const sFixed: Col = { ...s, collation: sCollation, sqlType: `VARCHAR(16) CHARACTER SET ${sCollation.split('_')[0]} COLLATE ${sCollation}`, pool: textPool(rnd, sCollation, avoid) };
  const cols = [id, k, sFixed];
  const n = int(rnd, 2, 5);
  for (let i = 0; i < n; i++) cols.push(column(rnd, `c${i}`, pick(rnd, KINDS), avoid));
  return { name, cols, nextId: 1 };
}

export function randomCollation(rnd: Rnd): string {
  return pick(rnd, COLLATIONS);
}

export function createTableSql(t: Table): string {
  const defs = t.cols.map((c) => `\`${c.name}\` ${c.sqlType}${c.name === 'id' ? ' NOT NULL PRIMARY KEY' : c.nullable ? ' NULL' : ' NOT NULL'}`);
  const keys = t.cols.filter((c) => c.name !== 'id' && c.kind !== 'float' && c.kind !== 'double').slice(0, 4).map((c) => `KEY (\`${c.name}\`)`);
  return `CREATE TABLE \`${t.name}\` (${[...defs, ...keys].join(', ')}) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`;
}

/** A value for a column: NULL sometimes (when nullable), else from its pool. */
export function valueOf(rnd: Rnd, c: Col): string {
  if (c.nullable && rnd() < 0.12) return 'NULL';
  return pick(rnd, c.pool);
}

export function insertSql(rnd: Rnd, t: Table, rows: number): string {
  const tuples: string[] = [];
  for (let i = 0; i < rows; i++) tuples.push(`(${t.cols.map((c) => (c.name === 'id' ? String(t.nextId++) : valueOf(rnd, c))).join(', ')})`);
  return `INSERT INTO \`${t.name}\` (${t.cols.map((c) => `\`${c.name}\``).join(', ')}) VALUES ${tuples.join(', ')}`;
}

/** One random write statement on `t`. */
export function writeSql(rnd: Rnd, t: Table): string {
  const r = rnd();
  const someId = () => String(int(rnd, 1, Math.max(1, t.nextId - 1)));
  const other = t.cols.filter((c) => c.name !== 'id');
  if (r < 0.4) return insertSql(rnd, t, int(rnd, 1, 3));
  if (r < 0.75) {
    const set = [pick(rnd, other), pick(rnd, other)].filter((c, i, a) => a.indexOf(c) === i).map((c) => `\`${c.name}\` = ${valueOf(rnd, c)}`);
    const where = rnd() < 0.7 ? `id = ${someId()}` : rnd() < 0.5 ? `id IN (${someId()}, ${someId()})` : whereValue(rnd, pick(rnd, other));
    if (rnd() < 0.05 && where.startsWith('id =')) set.push(`id = ${t.nextId++}`);
    return `UPDATE \`${t.name}\` SET ${set.join(', ')} WHERE ${where}`;
  }
  const where = rnd() < 0.75 ? `id = ${someId()}` : whereValue(rnd, pick(rnd, other));
  return `DELETE FROM \`${t.name}\` WHERE ${where}`;
}

function whereValue(rnd: Rnd, c: Col): string {
  const v = valueOf(rnd, c);
  return v === 'NULL' ? `\`${c.name}\` IS NULL` : `\`${c.name}\` = ${v}`;
}
