/**
 * The LIMIT clause of a cacheable query (top-k), only under an ORDER BY, since without one the rows
 * MariaDB returns are not defined. `LIMIT k`, `LIMIT n, k` and `LIMIT k OFFSET n` all become
 * `{ count: k, offset: n }`.
 *
 * Constant numbers are part of the cache (a read with another LIMIT goes upstream). A LIMIT with a
 * placeholder (`LIMIT ?`, `LIMIT ?, ?`, `LIMIT ? OFFSET ?`: Knex's `.first()`, Kysely's
 * `.limit(n)`) is a {@link LimitParam}: its numbers are read from each statement, and the cache's
 * top-k keeps the first K rows per key, K growing with the largest bound read ([note: limit-param]).
 *
 * A top-k node keeps `offset + count` rows per key plus some slack ({@link slackFor}), so that
 * deleting or updating a row out of the top does not force an eviction and a refill every time
 * ([note: evict-not-guess]).
 */
import { isPlaceholder, type AstNode } from './parse.js';
import { unsupported } from './unsupported.js';

export interface LimitSpec {
  readonly count: number;
  readonly offset: number;
}

/**
 * A LIMIT whose numbers come from each statement: the literal (or bound value) in each of its
 * places, in textual order, is `count` or `offset`.
 */
export interface LimitParam {
  readonly parts: ReadonlyArray<'count' | 'offset'>;
}

/** The most rows (offset + count) a top-k cache shows per key. */
const MAX_ROWS = 10_000;

/** The query's LIMIT, or null when it has none. Throws ERR_CACHE_UNSUPPORTED for what it cannot cache. */
export function limitOf(ast: AstNode, hasOrderBy: boolean): LimitSpec | null {
  const parsed = parseLimit(ast, hasOrderBy);
  if (parsed !== null && 'parts' in parsed) throw unsupported('LIMIT', 'LIMIT ? (a placeholder) here: the number of rows must be a constant of the cached query');
  return parsed;
}

/** The query's LIMIT, constant or with placeholders, or null when it has none. */
export function parseLimit(ast: AstNode, hasOrderBy: boolean): LimitSpec | LimitParam | null {
  const limit = ast.limit as AstNode | null | undefined;
  const values = Array.isArray(limit?.value) ? (limit.value as AstNode[]) : [];
  if (values.length === 0) return null;
  // `LIMIT n, k` lists the offset first; `LIMIT k OFFSET n` the count first.
  const parts: Array<'count' | 'offset'> = values.length === 1 ? ['count'] : limit?.seperator === ',' ? ['offset', 'count'] : ['count', 'offset'];
  if (values.some(isPlaceholder)) {
    if (!hasOrderBy) throw unsupported('LIMIT', 'LIMIT without ORDER BY (which rows MariaDB returns is not defined)');
    for (const v of values) if (!isPlaceholder(v)) checkNumber(v);
    return { parts };
  }
  const nums = values.map(checkNumber);
  if (!hasOrderBy) throw unsupported('LIMIT', 'LIMIT without ORDER BY (which rows MariaDB returns is not defined)');
  const count = nums[parts.indexOf('count')], offset = parts.includes('offset') ? nums[parts.indexOf('offset')] : 0;
  const spec: LimitSpec = { count, offset };
  if (spec.count === 0) throw unsupported('LIMIT', 'LIMIT 0 (the answer is always empty)');
  if (spec.offset + spec.count > MAX_ROWS) throw unsupported('LIMIT', `LIMIT with offset + count above ${MAX_ROWS}`);
  return spec;
}

function checkNumber(v: AstNode): number {
  if (v.type !== 'number' || typeof v.value !== 'number' || !Number.isSafeInteger(v.value) || v.value < 0) throw unsupported('LIMIT', 'a LIMIT that is not a non-negative integer constant');
  return v.value;
}

/** Rows kept per key beyond `offset + count`: as many again, at least 8, at most 256. */
export function slackFor(limit: LimitSpec): number {
  return Math.min(256, Math.max(8, limit.offset + limit.count));
}

/**
 * [note: limit-param] The K (rows emitted per key) and keep (with slack) a `LIMIT ?` top-k grows to
 * when a read asks for `rows` more than its K `current`: doubled until it covers them, at most `max`.
 */
export function grownLimit(current: number, rows: number, max: number): { need: number; keep: number } {
  let k = Math.max(1, current);
  while (k < rows) k *= 2;
  k = Math.min(k, max);
  return { need: k, keep: k + slackFor({ offset: 0, count: k }) };
}

/**
 * The rows (offset + count) a read of a {@link LimitParam} cache asks for, from the statement's
 * values in the LIMIT's places; null when one is not a non-negative integer MariaDB would take
 * as such (the statement then goes upstream, which answers or refuses it). A count of 0 needs no row.
 */
export function readLimit(parts: ReadonlyArray<'count' | 'offset'>, values: ReadonlyArray<unknown>): LimitSpec | null {
  let count = -1, offset = 0;
  for (let i = 0; i < parts.length; i++) {
    const n = limitNumber(values[i]);
    if (n === null) return null;
    if (parts[i] === 'count') count = n;
    else offset = n;
  }
  return count < 0 ? null : { count, offset };
}

function limitNumber(v: unknown): number | null {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? v : null;
  if (typeof v === 'bigint') return v >= 0n && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : null;
  return null;
}
