/**
 * Exact decimal arithmetic for SUM and AVG over integer and DECIMAL columns, so a cached SUM prints
 * the digits MariaDB prints (`SUM` of integers is a DECIMAL, `AVG` adds four decimals, rounded half
 * away from zero). A decimal is a scaled bigint: `{ m: 1230n, s: 2 }` is 12.30.
 */
import type { Value } from '../values.js';

export interface Decimal {
  readonly m: bigint;
  readonly s: number;
}

export const ZERO: Decimal = { m: 0n, s: 0 };

/** Parses an integer or DECIMAL value; null for anything else. */
export function toDecimal(v: Value): Decimal | null {
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return { m: BigInt(v), s: 0 };
    return toDecimal(String(v));
  }
  if (typeof v === 'bigint') return { m: v, s: 0 };
  if (typeof v !== 'string') return null;
  const m = /^\s*([-+]?)(\d*)(?:\.(\d*))?\s*$/.exec(v);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return null;
  const frac = m[3] ?? '';
  const digits = BigInt((m[2] || '0') + frac);
  return { m: m[1] === '-' ? -digits : digits, s: frac.length };
}

function rescale(d: Decimal, s: number): bigint {
  return s === d.s ? d.m : d.m * 10n ** BigInt(s - d.s);
}

export function addDecimal(a: Decimal, b: Decimal, sign: 1 | -1 = 1): Decimal {
  const s = Math.max(a.s, b.s);
  const bm = rescale(b, s);
  return { m: rescale(a, s) + (sign === 1 ? bm : -bm), s };
}

export function compareDecimal(a: Decimal, b: Decimal): number {
  const s = Math.max(a.s, b.s);
  const x = rescale(a, s), y = rescale(b, s);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** `a / n` rounded half away from zero to `scale` digits. */
export function divideDecimal(a: Decimal, n: bigint, scale: number): Decimal {
  const num = scale >= a.s ? a.m * 10n ** BigInt(scale - a.s) : a.m / 10n ** BigInt(a.s - scale);
  const neg = num < 0n !== n < 0n;
  const an = num < 0n ? -num : num;
  const ad = n < 0n ? -n : n;
  const q = (an * 2n + ad) / (ad * 2n);
  return { m: neg ? -q : q, s: scale };
}

/** MySQL's text for a decimal: `-12.30`, `0.05`, `15`. */
export function formatDecimal(d: Decimal, scale: number = d.s): string {
  const m = scale === d.s ? d.m : rescale(d, scale);
  const neg = m < 0n;
  let digits = (neg ? -m : m).toString();
  if (scale === 0) return (neg ? '-' : '') + digits;
  if (digits.length <= scale) digits = '0'.repeat(scale - digits.length + 1) + digits;
  return (neg ? '-' : '') + digits.slice(0, digits.length - scale) + '.' + digits.slice(digits.length - scale);
}
