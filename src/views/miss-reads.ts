/**
 * What a read of a key the reader does not hold does (`--miss-policy`): under `relay` the client's
 * own statement goes upstream, and a key missed again is filled in the background; under `fill`
 * the client waits for the key's fill and is answered from it (src/views/cache-reads.ts). The
 * router (src/views/router.ts) counts the miss and keeps the sketch of missed keys.
 */
import type { ReaderAnswer } from '../dataflow/operator.js';
import type { Answer, Upstream } from '../proxy/read-router.js';
import type { ColumnDefinition } from '../proxy/protocol/column-definition.js';
import { keyString } from '../dataflow/state.js';
import { hashKey, type FrequencySketch } from '../dataflow/frequency-sketch.js';
import type { Row } from '../dataflow/delta.js';
import type { LimitSpec } from '../planner/limit.js';
import type { RangeReader } from '../operators/range-reader.js';
import { answerValues } from '../operators/reader.js';
import type { Cache } from './cache.js';
import { fillThenRead, mergedRows, type Filled } from './cache-reads.js';
import { rangeAnswer, rangeKey } from './range-reads.js';

/** What a miss needs from the engine. */
export interface MissBackend {
  /**
   * Fills `keys` of the cache's reader. For a single key, resolves to its rows as the fill
   * installed them (one consistent point), or undefined when they were not captured.
   */
  fill(cache: Cache, keys: ReadonlyArray<Row>): Promise<ReaderAnswer | undefined>;
  /**
   * Fills `keys` of the cache's reader now, when the states above hold or know them (true), with
   * no read of MySQL; false when one must be read from MySQL. [note: memory-fill]
   */
  fillFromMemory(cache: Cache, keys: ReadonlyArray<Row>): boolean;
  /** Fills `keys` of the cache's reader off every client's path; a failure is logged and counted, never thrown. */
  fillBehind(cache: Cache, keys: ReadonlyArray<Row>): void;
  /** Counts a statement relayed upstream by its reason (/api/status `notCachedReasons`). */
  recordUpstream(reason: string): void;
}

// A relayed miss's reasons, constant: notCachedReasons counts reads by their reason's text.
const MISS_FIRST: Upstream = Object.freeze({ kind: 'upstream', reason: 'miss (first read of the key)' });
const MISS_FILLED: Upstream = Object.freeze({ kind: 'upstream', reason: 'miss (filled in the background)' });
const MISS_AHEAD: Upstream = Object.freeze({ kind: 'upstream', reason: 'miss (the key\'s fill waits for the binlog stream)' });

/**
 * A miss under `--miss-policy relay`: the client's own statement goes to its upstream session,
 * an exact answer at a direct read's cost with no lock taken for Rotor. A key the sketch has seen
 * missed before is filled off the client's path (concurrent fills of one key are one upquery),
 * so a key read once never costs a locking read that writers would wait for.
 */
export function relayMiss(backend: MissBackend, missed: FrequencySketch, cache: Cache, keys: ReadonlyArray<Row>): Upstream {
  cache.stats.relayedMisses++;
  const reader = cache.built.reader;
  let absent = 0;
  let again: Row[] | null = null;
  const seen = keys.length > 1 ? new Set<string>() : null;
  for (const k of keys) {
    const ks = keyString(k, reader.fold);
    // Present but held back until the stream catches up with its fill (cache.ahead).
    if (reader.state.has(ks)) continue;
    // `IN (3, 3)` is one read of key 3.
    if (seen !== null) {
      if (seen.has(ks)) continue;
      seen.add(ks);
    }
    absent++;
    const h = hashKey(`${cache.id}\0${ks}`);
    missed.add(h);
    if (missed.estimate(h) > 1) (again ??= []).push(k);
  }
  if (again !== null) backend.fillBehind(cache, again);
  const r = absent === 0 ? MISS_AHEAD : again !== null ? MISS_FILLED : MISS_FIRST;
  backend.recordUpstream(r.reason as string);
  return r;
}

/** A miss the client waits for (`--miss-policy fill`): the keys filled, then read back (several keys merged). */
export async function filledAnswer(backend: MissBackend, cache: Cache, keys: ReadonlyArray<Row>, limit: LimitSpec | null, columns: ReadonlyArray<ColumnDefinition>): Promise<Answer | null> {
  const reader = cache.built.reader;
  let filled: Filled<ReaderAnswer | ReadonlyArray<Row>>;
  try {
    filled = await fillThenRead((c, k) => backend.fill(c, k), cache, keys,
      () => (keys.length === 1 ? reader.peek(keyString(keys[0], reader.fold), limit) : mergedRows(cache, keys, limit, true) ?? undefined));
  } catch {
    return null;
  }
  if (filled === null) return null;
  if ('read' in filled) return { kind: 'rows', columns, rows: filled.read, cache: cache.def.name };
  const rows = limit === null ? filled.installed : answerValues(filled.installed).slice(limit.offset, limit.offset + limit.count);
  return { kind: 'rows', columns, rows, cache: cache.def.name };
}

/** A miss of a range cache relayed ({@link relayMiss}), counted by its partition. [note: range-state] */
export function relayRangeMiss(backend: MissBackend, missed: FrequencySketch, cache: Cache, range: RangeReader, key: Row): Upstream {
  cache.stats.relayedMisses++;
  // Counted by partition, not by interval: each page of a keyset pagination is read once, and
  // the fill behind the second page's miss brings the next pages with it.
  const h = hashKey(`${cache.id}\0${keyString(rangeKey(cache, key).part, range.fold)}`);
  missed.add(h);
  const again = missed.estimate(h) > 1;
  if (again) backend.fillBehind(cache, [key]);
  const r = again ? MISS_FILLED : MISS_FIRST;
  backend.recordUpstream(r.reason as string);
  return r;
}

/** A miss of a range cache the client waits for ({@link filledAnswer}): its hole filled, then read back. */
export function filledRangeAnswer(backend: MissBackend, cache: Cache, range: RangeReader, key: Row, columns: ReadonlyArray<ColumnDefinition>): Promise<Answer | null> {
  return fillThenRead((c, k) => backend.fill(c, k), cache, [key], () => rangeAnswer(cache, range, key, false))
    .then((filled): Answer | null => (filled === null ? null : { kind: 'rows', columns, rows: 'read' in filled ? filled.read : filled.installed, cache: cache.def.name }), () => null);
}
