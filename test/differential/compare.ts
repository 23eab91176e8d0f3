/**
 * Comparing a cached answer with MariaDB's own, on what the query determines: rows as multisets,
 * or, under ORDER BY, the sequence of ORDER BY values exactly and the rows of each run of equal
 * values as a multiset (MariaDB leaves the order of ties open); with LIMIT, the runs cut by the
 * window's ends only by their ORDER BY values. Values compare by their text form, except where
 * MariaDB may show any of several spellings equal under a `_ci` collation.
 */
import type { Query } from './query-gen.js';

export type Cell = string | null;
export type Answer = ReadonlyArray<ReadonlyArray<Cell>>;

/**
 * A fold coarser than every collation used (case, accents, ß/ss, trailing spaces): two values it
 * keeps apart are apart under every collation, so comparing folded values never reports a tie
 * MariaDB broke either way.
 */
export function coarseFold(v: string): string {
  return v.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().replace(/ß/g, 's').replace(/s+/g, 's').replace(/ +$/, '');
}

function canonRow(q: Query, r: ReadonlyArray<Cell>): string {
  return JSON.stringify(r.map((v, i) => (q.fold[i] && v !== null ? coarseFold(v) : v)));
}

function orderKey(order: ReadonlyArray<number>, r: ReadonlyArray<Cell>): string {
  return JSON.stringify(order.map((i) => (r[i] === null ? null : coarseFold(r[i]!))));
}

const sorted = (xs: string[]): string => xs.sort().join('\n');

/** Null when `got` agrees with `want` on everything `q` determines, else what differs. */
export function difference(q: Query, got: Answer, want: Answer): string | null {
  if (got.length !== want.length) return `${got.length} rows instead of ${want.length}`;
  if (q.order === null) {
    return sorted(got.map((r) => canonRow(q, r))) === sorted(want.map((r) => canonRow(q, r))) ? null : 'different rows';
  }
  const order = q.order;
  const keysGot = got.map((r) => orderKey(order, r));
  const keysWant = want.map((r) => orderKey(order, r));
  for (let i = 0; i < keysWant.length; i++) if (keysGot[i] !== keysWant[i]) return `ORDER BY values differ at row ${i + 1}`;
  // Runs of equal ORDER BY values.
  let start = 0;
  for (let i = 1; i <= want.length; i++) {
    if (i < want.length && keysWant[i] === keysWant[start]) continue;
    const cut = q.limit !== null && ((start === 0 && q.limit.offset > 0) || i === want.length);
    if (!cut && sorted(got.slice(start, i).map((r) => canonRow(q, r))) !== sorted(want.slice(start, i).map((r) => canonRow(q, r)))) {
      return `different rows among rows ${start + 1}..${i} (tied in ORDER BY)`;
    }
    start = i;
  }
  return null;
}
