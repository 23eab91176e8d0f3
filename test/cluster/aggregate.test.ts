/**
 * The admin answers of `--workers N` merged by the primary (src/cluster/aggregate.ts): history
 * aligned by age, statements merged by id and sorted again, caches and status summed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aggregateCaches, aggregateHistory, aggregateQueries, aggregateStatus } from '../../src/cluster/aggregate.js';

const sample = (t: number, served: number, lag: number | null, rss: number) => ({
  t, lagMs: lag, servedPerSec: served, relayedPerSec: 1, fillsPerSec: 0, binlogTransactionsPerSec: 2, binlogRowsPerSec: 3, rssBytes: rss, stateBytes: 10,
});

test('history: samples aligned by age, as long as the shortest worker\'s; rates summed, lag the largest', () => {
  const h = aggregateHistory([
    { intervalMs: 2000, samples: [sample(1, 5, 1, 100), sample(2, 6, 2, 100), sample(3, 7, 3, 100)] },
    { intervalMs: 2000, samples: [sample(11, 50, 30, 200), sample(12, 60, null, 200)] },
  ]);
  assert.equal(h.intervalMs, 2000);
  assert.deepEqual(h.samples, [
    { ...sample(2, 56, 30, 300), relayedPerSec: 2, binlogTransactionsPerSec: 4, binlogRowsPerSec: 6, stateBytes: 20 },
    { ...sample(3, 67, 3, 300), relayedPerSec: 2, binlogTransactionsPerSec: 4, binlogRowsPerSec: 6, stateBytes: 20 },
  ]);
  assert.deepEqual(aggregateHistory([{ intervalMs: 2000, samples: [] }, { intervalMs: 2000, samples: [sample(1, 1, 1, 1)] }]).samples, []);
});

const query = (id: string, count: number, totalMs: number, p99: number | null, first: string, last: string) => ({
  id, query: `q ${id}`, database: 'd', count, servedFromCache: 1, upstream: { count, totalMs, p50Ms: p99, p99Ms: p99 },
  firstSeen: first, lastSeen: last, cacheable: true, reason: null, cachedAs: null, suggested: false, savingMs: totalMs,
});

test('queries: one row per statement id, counts and times summed, quantiles the largest, sorted again and cut', () => {
  const merged = aggregateQueries([
    [query('a', 3, 30, 5, '2026-01-02T00:00:00.000Z', '2026-01-03T00:00:00.000Z'), query('b', 10, 1, 1, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')],
    [query('a', 4, 40, 9, '2026-01-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z')],
  ], 'total', 10);
  assert.deepEqual(merged.map((q) => q.id), ['a', 'b']);
  assert.deepEqual(merged[0], {
    ...query('a', 7, 70, 9, '2026-01-01T00:00:00.000Z', '2026-01-03T00:00:00.000Z'), servedFromCache: 2, savingMs: 70,
  });
  assert.deepEqual(aggregateQueries([[query('a', 3, 30, 5, 'x', 'x')], [query('b', 10, 1, 1, 'x', 'x')]], 'count', 1).map((q) => q.id), ['b']);
  assert.deepEqual(aggregateQueries([[query('a', 3, 30, 5, 'x', 'x')], [query('b', 10, 1, null, 'x', 'x')]], 'p99', 2).map((q) => q.id), ['a', 'b']);
});

test('caches: each id once, stats summed, latency quantiles the largest, not ready if one worker is not', () => {
  const c = (status: string, hits: number, p99: number) => ({ id: '1', name: 'c', status, reason: status === 'ready' ? null : 'why', stats: { hits, keys: 2, hitLatencyMs: { p50: 1, p99 } } });
  const [one] = aggregateCaches([[c('ready', 3, 4)], [c('filling', 5, 2)]]);
  assert.equal(one.status, 'filling');
  assert.equal(one.reason, 'why');
  assert.equal(one.workers, 2);
  assert.deepEqual(one.stats, { hits: 8, keys: 4, hitLatencyMs: { p50: 1, p99: 4 } });
});

test('status: totals over the workers that answered, the worst lag, one row per worker with its warm-up', () => {
  const s = (clients: number, lag: number, warm: unknown) => ({
    status: 'ok', clients, connectionsTotal: clients, queries: { servedFromCache: 1, cacheHits: 1, relayed: 2, notCachedReasons: { a: 1 } },
    binlog: { lagMs: lag }, caches: { caches: 1, keys: 3, servingFromCaches: true }, memory: { rssBytes: 5, stateBytes: 1 }, worker: { serverId: 7 }, warm,
  });
  const out = aggregateStatus([
    { id: 0, pid: 10, ready: true, restarts: 0, status: s(2, 5, { done: true }) },
    { id: 1, pid: 11, ready: true, restarts: 1, status: s(3, 9, null) },
    { id: 2, pid: null, ready: false, restarts: 2, status: null },
  ], { pid: 1, uptimeSec: 5, restarts: 3 });
  assert.equal(out.clients, 5);
  assert.deepEqual(out.binlog, { lagMs: 9 });
  assert.deepEqual(out.caches, { caches: 1, keys: 6, servingFromCaches: true });
  assert.deepEqual(out.queries, { servedFromCache: 2, cacheHits: 2, relayed: 4, notCachedReasons: { a: 2 } });
  const rows = out.workers as Array<{ id: number; warm: unknown; ready: boolean }>;
  assert.deepEqual(rows.map((r) => [r.id, r.ready, r.warm]), [[0, true, { done: true }], [1, true, null], [2, false, null]]);
  assert.equal(out.restarts, 3);
});
