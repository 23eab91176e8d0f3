/**
 * Parameter values for a cache's `?`s: values the column holds, spellings that differ only by
 * case (and, when their gaps are not avoided, by accents or trailing spaces), absent values,
 * numbers written as strings, and now and then NULL (which goes upstream); and values whose SQL
 * type is not their column's ([note: value-types]): a JS number that is not an integer (mysql2
 * binds any number as a DOUBLE, and writes it in a text statement as a decimal literal, `1.5`), a
 * JS Date (a DATETIME parameter; a quoted string in a text statement), a Buffer (a BLOB parameter,
 * `X'…'` in text), a YEAR written as two digits, a SET's members in another order or as its bits.
 */
import type { Gap } from './gaps.js';
import type { Param } from './query-gen.js';
import { pick, unquote, type Col, type Rnd } from './schema-gen.js';

const ACCENTED: Record<string, string> = { e: 'é', a: 'ä', E: 'É', A: 'Ä', s: 'ß' };

function textVariant(rnd: Rnd, c: Col, v: string, avoid: ReadonlySet<Gap>): string {
  const latin1 = c.collation?.startsWith('latin1') ?? false;
  const forms = [v, v.toUpperCase(), v.toLowerCase(), v.length ? v[0].toUpperCase() + v.slice(1) : v, 'nobody'];
  if (!avoid.has('trailing-spaces')) forms.push(`${v} `, `${v}  `);
  const accentsOk = latin1 ? !avoid.has('latin1') : !(c.collation?.endsWith('_ci') && avoid.has('ci-accents'));
  if (accentsOk) forms.push(v.replace(/[eaEAs]/, (m) => ACCENTED[m]), 'ss', 'ß', 'é');
  return pick(rnd, forms);
}

/** A value typed otherwise than the column: a DOUBLE (or decimal literal), a DATETIME, bytes. */
function otherType(rnd: Rnd, raw: string): unknown {
  const n = Number(raw);
  const forms: unknown[] = [1.5, 0.1, 2.25, -1.5, 1e21, new Date(Date.UTC(2024, 0, 1)), new Date(Date.UTC(2024, 0, 1, 12, 34, 56)), Buffer.from(raw)];
  if (raw !== '' && Number.isFinite(n)) forms.push(n + 0.5, n);
  return pick(rnd, forms);
}

function valueFor(rnd: Rnd, p: Param, avoid: ReadonlySet<Gap>): unknown {
  const c = p.col;
  if (rnd() < 0.03) return null;
  if (c.name === 'id') return Math.floor(rnd() * (p.table.nextId + 1));
  const raw = c.pool.length ? unquote(pick(rnd, c.pool)) : '1';
  if (rnd() < 0.12) return otherType(rnd, raw);
  switch (c.kind) {
    case 'int':
    case 'bigint': {
      const n = Number(raw);
      if (rnd() < 0.1) return 99;
      return Number.isSafeInteger(n) && rnd() < 0.7 ? n : raw;
    }
    case 'decimal':
      // Strings: a JS number would be bound as a DOUBLE, which MariaDB compares with the DECIMAL approximately.
      if (rnd() < 0.1) return raw.replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
      return raw;
    case 'varchar':
    case 'char':
      return textVariant(rnd, c, raw, avoid);
    case 'enum':
      return rnd() < 0.3 ? raw.toUpperCase() : raw;
    case 'set':
      return pick(rnd, [raw, raw, raw.toUpperCase(), raw.split(',').reverse().join(','), `${raw},a`, 3, 1]);
    case 'year':
      return pick(rnd, [raw, raw, Number(raw), raw.slice(-2), Number(raw.slice(-2)), '0000', 99]);
    case 'bit':
      return pick(rnd, [5, '5', 0, 1, '0', 48, '1', 'a', Buffer.from([5]), Buffer.from([0, 5])]);
    default:
      return raw;
  }
}

export function paramValues(rnd: Rnd, params: ReadonlyArray<Param>, avoid: ReadonlySet<Gap>): unknown[] {
  return params.map((p) => valueFor(rnd, p, avoid));
}
