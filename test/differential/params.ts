/**
 * Parameter values for a cache's `?`s: values the column holds, spellings that differ only by
 * case (and, when their gaps are not avoided, by accents or trailing spaces), absent values,
 * numbers written as strings, and now and then NULL (which goes upstream).
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

function valueFor(rnd: Rnd, p: Param, avoid: ReadonlySet<Gap>): unknown {
  const c = p.col;
  if (rnd() < 0.03) return null;
  if (c.name === 'id') return Math.floor(rnd() * (p.table.nextId + 1));
  const raw = c.pool.length ? unquote(pick(rnd, c.pool)) : '1';
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
    default:
      return raw;
  }
}

export function paramValues(rnd: Rnd, params: ReadonlyArray<Param>, avoid: ReadonlySet<Gap>): unknown[] {
  return params.map((p) => valueFor(rnd, p, avoid));
}
