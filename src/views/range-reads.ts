/**
 * Reads of a range cache ([note: range-state]): a statement's bound parameters split into the
 * partition (its equality parameters) and the interval its bounds make, the answer read from the
 * range reader's covered intervals, and a miss filled hole by hole (src/dataflow/range-fill.ts),
 * then held back while the fill is ahead of the binlog stream as a keyed fill is
 * (src/views/cache-reads.ts).
 */
import type { Logger } from 'pino';
import type { Row } from '../dataflow/delta.js';
import type { Interval } from '../dataflow/intervals.js';
import { fillRange } from '../dataflow/range-fill.js';
import { keyString } from '../dataflow/state.js';
import type { Upqueries } from '../dataflow/upquery.js';
import type { RangeReader } from '../operators/range-reader.js';
import type { Value } from '../values.js';
import type { Cache } from './cache.js';

/** A bound key of a range cache: its partition and its interval. */
export interface RangeKey {
  readonly part: Row;
  readonly want: Interval;
}

/** Splits a key ({@link Cache.keys}: the parameters' values in order) into partition and interval. */
export function rangeKey(cache: Cache, key: Row): RangeKey {
  const plan = cache.plan;
  const range = plan.kind === 'union' || plan.kind === 'answer' ? null : plan.range;
  const part: Value[] = [];
  plan.params.forEach((p, i) => { if (p.bound === undefined) part.push(key[i]); });
  const lo = range?.lower ?? null, hi = range?.upper ?? null;
  return {
    part,
    want: { lo: lo === null ? null : { v: key[lo.param], incl: lo.incl }, hi: hi === null ? null : { v: key[hi.param], incl: hi.incl } },
  };
}

/**
 * The rows of a key when the reader's covered intervals hold them, else undefined: a miss, or a
 * partition filled ahead of the stream and held back until it catches up (`cache.ahead`).
 */
export function rangeAnswer(cache: Cache, range: RangeReader, key: Row, count = true): ReadonlyArray<Row> | undefined {
  const { part, want } = rangeKey(cache, key);
  if (cache.ahead.size > 0 && cache.ahead.has(keyString(part, range.fold))) return undefined;
  const r = range.read(part, want, count);
  return 'rows' in r ? r.rows : undefined;
}

/** Rounds of fills one read may take before it gives up (each covers at least part of a hole). */
const FILL_ROUNDS = 8;

/**
 * Fills the holes a key's read runs into until it reads whole; resolves to its rows as read just
 * after the last fill (one consistent point), or undefined. Waits, as a keyed fill does, for the
 * stream to catch up with a fill ahead of it.
 */
export async function fillRangeKey(upqueries: Upqueries, log: Logger, cache: Cache, range: RangeReader, key: Row): Promise<ReadonlyArray<Row> | undefined> {
  const { part, want } = rangeKey(cache, key);
  let installed: ReadonlyArray<Row> | undefined;
  for (let round = 0; round < FILL_ROUNDS; round++) {
    const r = range.read(part, want, false);
    if ('rows' in r) { installed = r.rows; break; }
    if (!(await fillRange(upqueries, range, part, r.gap, r.need))) break;
  }
  const newest = upqueries.newestFill;
  if (newest !== null && upqueries.aheadOfStream()) {
    const ks = keyString(part, range.fold);
    cache.ahead.set(ks, (cache.ahead.get(ks) ?? 0) + 1);
    try {
      if (!(await upqueries.waitApplied(newest))) log.warn({ cache: cache.id }, 'the binlog stream did not catch up with a fill in time');
    } finally {
      const n = (cache.ahead.get(ks) ?? 1) - 1;
      if (n <= 0) cache.ahead.delete(ks);
      else cache.ahead.set(ks, n);
    }
  }
  return installed;
}
