/**
 * The read path's calls into the engine: a miss filled through the upqueries (and held back while
 * it is ahead of the stream), for a waiting read or in the background, the column names a new
 * spelling of a cached query is answered with, a `LIMIT ?` cache widened, a session's writes
 * waited for.
 */
import type { DerivedAnswer, ReaderAnswer } from '../dataflow/operator.js';
import type { Logger } from 'pino';
import type { ColumnDefinition } from '../proxy/protocol/column-definition.js';
import type { Upqueries } from '../dataflow/upquery.js';
import type { Row } from '../dataflow/delta.js';
import { keyString } from '../dataflow/state.js';
import type { Cache } from './cache.js';
import { grownLimit, type LimitSpec } from '../planner/limit.js';
import type { Graph } from '../dataflow/graph.js';
import type { EngineUpstream } from './engine-upstream.js';
import { fillRangeKey } from './range-reads.js';
import type { HeldKey } from '../operators/reader.js';

/** How long a read that must see its session's writes waits for the binlog before going upstream. */
const SYNC_TIMEOUT_MS = 1_000;

/**
 * Fills `keys` of the cache's reader for a read that waits. For a single key, resolves to its rows
 * as the fill installed them (one consistent point), or undefined when they were not captured.
 */
export async function fillCache(upqueries: Upqueries, log: Logger, cache: Cache, keys: ReadonlyArray<Row>): Promise<ReaderAnswer | undefined> {
  try {
    return await fillKeys(upqueries, log, cache, keys);
  } catch (e) {
    cache.stats.fillErrors++;
    log.warn({ err: e, cache: cache.id }, 'fill failed; the read goes upstream');
    throw e;
  }
}

/**
 * Fills `keys` of the cache's reader off every client's path (`--miss-policy relay`: the read that
 * asked was relayed). Never rejects: a failure is counted and logged at debug, as no client waits
 * for it and the next miss of the key asks again.
 */
export async function fillInBackground(upqueries: Upqueries, log: Logger, cache: Cache, keys: ReadonlyArray<Row>): Promise<void> {
  try {
    await fillKeys(upqueries, log, cache, keys);
  } catch (e) {
    cache.stats.fillErrors++;
    log.debug({ err: e, cache: cache.id }, 'background fill failed');
  }
}

async function fillKeys(upqueries: Upqueries, log: Logger, cache: Cache, keys: ReadonlyArray<Row>): Promise<ReaderAnswer | undefined> {
  const before = upqueries.stats.upqueries;
  const started = performance.now();
  try {
    const range = cache.built.range;
    // A range cache's key is one partition and one interval ([note: range-state]).
    if (range !== undefined) return keys.length === 1 ? await fillRangeKey(upqueries, log, cache, range, keys[0]) : undefined;
    await upqueries.request(cache.built.reader, keys);
    // Nothing ran since the fill was installed: these rows are its answer for this key, exact at
    // one position, unless they were joined (or united) from side keys filled at different positions
    // ([note: join-fill]: those agree only once the stream has passed the newest).
    const single = keys.length === 1 && !cache.built.nodes.some((n) => n.kind === 'join' || n.kind === 'union');
    const installed = single ? cache.built.reader.peek(keyString(keys[0], cache.built.reader.fold)) : undefined;
    // A fill newer than the stream is not shown until the stream has caught up with it, so a
    // transaction is seen whole across keys (one filled just now, one kept by the stream).
    const newest = upqueries.newestFill;
    if (newest !== null && upqueries.aheadOfStream()) {
      const fold = cache.built.reader.fold;
      const ks = keys.map((k) => keyString(k, fold));
      for (const k of ks) cache.ahead.set(k, (cache.ahead.get(k) ?? 0) + 1);
      try {
        if (!(await upqueries.waitApplied(newest))) log.warn({ cache: cache.id }, 'the binlog stream did not catch up with a fill in time');
      } finally {
        for (const k of ks) {
          const n = (cache.ahead.get(k) ?? 1) - 1;
          if (n <= 0) cache.ahead.delete(k);
          else cache.ahead.set(k, n);
        }
      }
    }
    return installed;
  } finally {
    const asked = upqueries.stats.upqueries - before > 0;
    cache.stats.upqueries += asked ? 1 : 0;
    if (asked) cache.fillLatency.observe(performance.now() - started);
  }
}

/**
 * Keeps the names a session's relayed answer gives a new spelling's columns, when it describes
 * the registered columns under other names: a spelling MariaDB read as another query (or over a
 * session's temporary table) teaches nothing that other sessions would be answered with.
 */
export function learnVariant(cache: Cache, selectText: string, columns: ReadonlyArray<ColumnDefinition>): void {
  if (cache.variants.size >= 32 || columns.length !== cache.def.columns.length) return;
  const same = columns.every((c, i) => {
    const r = cache.def.columns[i];
    return c.type === r.type && c.decimals === r.decimals && c.schema === r.schema && c.orgTable === r.orgTable
      && (c.characterSet === 63) === (r.characterSet === 63);
  });
  // Only the names come from a session's answer; every other attribute is the registered one.
  if (same) cache.variants.set(selectText, cache.def.columns.map((c, i) => ({ ...c, name: columns[i].name })));
}

/**
 * [note: limit-param] Raises the K of a `LIMIT ?` cache's top-k to the next power of two at or
 * above `rows` (at most `max`), evicting here and below the keys that held fewer rows than all of
 * theirs.
 */
export function widenLimit(graph: Graph, cache: Cache, rows: number, max: number): void {
  const node = cache.built.limitNode;
  if (node === null || rows <= node.need) return;
  const { need, keep } = grownLimit(node.need, rows, max);
  const gone = node.grow(need, keep);
  if (gone.length > 0) graph.evict(node, gone);
}

/**
 * [note: read-your-writes] Resolves true once the binlog stream has applied everything the
 * upstream had written when this was called, false after SYNC_TIMEOUT_MS. A session's writes were
 * acknowledged before it sent the read that calls this, so they are included.
 */
export async function syncWrites(upstream: EngineUpstream, upqueries: Upqueries): Promise<boolean> {
  const end = await upstream.binlogEnd();
  return end === null || upqueries.waitApplied(end, SYNC_TIMEOUT_MS);
}

/**
 * [note: one-read-path] Why `cache` may not answer any read now, or null: it is not ready (DDL,
 * dropped), the binlog stream is too far behind ([note: staleness-bound]), or it holds TIMESTAMPs
 * while the upstream's time zone is not UTC. SQL reads (src/views/router.ts, with what a session's
 * own state forbids from src/views/read-refusals.ts) and HTTP reads (src/views/http-reads.ts) ask the same question, hit
 * the same reader through {@link presentAnswer}/{@link presentAs}, and fill a miss through the same
 * {@link fillThenRead}, so the two answer the same rows. Pinned by test/e2e/http-read.test.ts.
 */
export function notServing(cache: Cache, engine: { readonly staleReason: string | null; readonly timeZoneReason: string | null; readonly parseModeReason?: string | null; readonly padCharReason?: string | null }): string | null {
  if (cache.status !== 'ready') return `cache ${cache.id} is ${cache.status}`;
  const stale = engine.staleReason;
  if (stale !== null) return stale;
  // [note: answer-refill] A cache of expressions answers as its fills read its text.
  if (cache.plan.kind === 'answer' && engine.parseModeReason != null) return engine.parseModeReason;
  if (cache.chars && engine.padCharReason != null) return engine.padCharReason;
  return cache.timestamps ? engine.timeZoneReason : null;
}

/**
 * A present key's answer (a use of it is counted), or undefined for a missing key or one filled
 * ahead of the binlog stream and held back until it catches up (`cache.ahead`). [note: one-read-path]
 */
export function presentAnswer(cache: Cache, ks: string, limit: LimitSpec | null = null): ReaderAnswer | undefined {
  return cache.ahead.size > 0 && cache.ahead.has(ks) ? undefined : cache.built.reader.answer(ks, limit);
}

/**
 * {@link presentAnswer} of a remembered route's only key (`route.readerKey`, not null), through
 * the reader's entry it holds ([note: held-key]): looked up only when it has none, or the one it
 * holds left the reader.
 */
export function presentHeld(cache: Cache, route: { readonly readerKey: string | null; held: HeldKey | undefined }, limit: LimitSpec | null): ReaderAnswer | undefined {
  const ks = route.readerKey as string;
  if (cache.ahead.size > 0 && cache.ahead.has(ks)) return undefined;
  const reader = cache.built.reader;
  let held = route.held;
  if (held === undefined || held.gone) route.held = held = reader.hold(ks);
  // A key not held: missing, or empty in a complete reader ([note: complete-state]).
  return held === undefined ? reader.answer(ks, limit) : reader.answerHeld(held, limit);
}

/** {@link presentAnswer} in the caller's form, made once per change of the key ([note: derived-answer]). */
export function presentAs<T extends DerivedAnswer>(cache: Cache, ks: string, make: (a: ReaderAnswer) => T, count = true): T | undefined {
  return cache.ahead.size > 0 && cache.ahead.has(ks) ? undefined : cache.built.reader.answerAs(ks, make, count);
}

/**
 * The rows of several present keys (each once), sorted and cut as the cache's query does, or null
 * when one is missing or, unless `waited` (the read waited for their fill), held back (`cache.ahead`).
 */
export function mergedRows(cache: Cache, keys: ReadonlyArray<Row>, limit: LimitSpec | null, waited = false): ReadonlyArray<Row> | null {
  const reader = cache.built.reader;
  const seen = new Set<string>();
  const rows: Row[] = [];
  for (const k of keys) {
    const ks = keyString(k, reader.fold);
    if (seen.has(ks)) continue;
    if (!waited && cache.ahead.size > 0 && cache.ahead.has(ks)) return null;
    seen.add(ks);
    const r = reader.rows(ks);
    if (r === undefined) return null;
    for (const row of r) rows.push(row);
  }
  const sorted = reader.sortVisible(rows);
  return limit === null ? sorted : sorted.slice(limit.offset, limit.offset + limit.count);
}

/** What a read waiting for its fill gets: what `read` found, or the rows the fill installed for a single key. */
export type Filled<T> = { readonly read: T } | { readonly installed: ReaderAnswer } | null;

/**
 * Fills `keys` for a read that waits, then reads them back with `read`. A key can be evicted again
 * between its fill and the read (an eviction, a MIN/MAX losing its extreme while the fill waits for
 * the stream): it fills again rather than give up, three times; then a single key falls back to the
 * rows its last fill installed, exact at that fill's position; else null. Rejects when a fill fails.
 * [note: one-read-path]
 */
export async function fillThenRead<T>(
  fill: (cache: Cache, keys: ReadonlyArray<Row>) => Promise<ReaderAnswer | undefined>,
  cache: Cache, keys: ReadonlyArray<Row>, read: () => T | undefined,
): Promise<Filled<T>> {
  let installed: ReaderAnswer | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    installed = await fill(cache, keys);
    const r = read();
    if (r !== undefined) return { read: r };
  }
  return installed === undefined ? null : { installed };
}
