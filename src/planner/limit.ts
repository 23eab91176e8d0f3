/**
 * The LIMIT clause of a cacheable query (top-k): constant numbers only, and only under an ORDER BY,
 * since without one the rows MariaDB returns are not defined. `LIMIT k`, `LIMIT n, k` and
 * `LIMIT k OFFSET n` all become `{ count: k, offset: n }`.
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

/** The most rows (offset + count) a top-k cache shows per key. */
const MAX_ROWS = 10_000;

/** The query's LIMIT, or null when it has none. Throws ERR_CACHE_UNSUPPORTED for what it cannot cache. */
export function limitOf(ast: AstNode, hasOrderBy: boolean): LimitSpec | null {
  const limit = ast.limit as AstNode | null | undefined;
  const values = Array.isArray(limit?.value) ? (limit.value as AstNode[]) : [];
  if (values.length === 0) return null;
  if (values.some(isPlaceholder)) throw unsupported('LIMIT', 'LIMIT ? (a placeholder): the number of rows must be a constant of the cached query');
  const nums = values.map((v) => {
    if (v.type !== 'number' || typeof v.value !== 'number' || !Number.isSafeInteger(v.value) || v.value < 0) throw unsupported('LIMIT', 'a LIMIT that is not a non-negative integer constant');
    return v.value;
  });
  if (!hasOrderBy) throw unsupported('LIMIT', 'LIMIT without ORDER BY (which rows MariaDB returns is not defined)');
  // `LIMIT n, k` lists the offset first; `LIMIT k OFFSET n` the count first.
  const spec: LimitSpec = nums.length === 1 ? { count: nums[0], offset: 0 }
    : limit?.seperator === ',' ? { count: nums[1], offset: nums[0] } : { count: nums[0], offset: nums[1] };
  if (spec.count === 0) throw unsupported('LIMIT', 'LIMIT 0 (the answer is always empty)');
  if (spec.offset + spec.count > MAX_ROWS) throw unsupported('LIMIT', `LIMIT with offset + count above ${MAX_ROWS}`);
  return spec;
}

/** Rows kept per key beyond `offset + count`: as many again, at least 8, at most 256. */
export function slackFor(limit: LimitSpec): number {
  return Math.min(256, Math.max(8, limit.offset + limit.count));
}
