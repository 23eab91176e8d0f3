/**
 * `GET /metrics`: Prometheus metrics, read from the counters Rotor keeps anyway at each scrape (a
 * metric costs nothing between scrapes). Names follow Prometheus: `_total` for counters, base
 * units (`_bytes`, `_seconds`). Per-cache series carry the cache's name as `cache`, and leave with
 * the cache. Pinned by test/e2e/metrics.test.ts, which reads them after known traffic.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { BinlogStatus } from './binlog/stream-status.js';
import type { ProxyStats } from './proxy/server.js';
import { BUCKET_MS, type LatencyHistogram } from './latency.js';

/** One cache's counters as the engine keeps them. */
export interface CacheCounters {
  readonly name: string;
  readonly hits: number;
  readonly misses: number;
  /** Misses answered at once from the states above ([note: memory-fill]). */
  readonly memoryFills: number;
  readonly upqueries: number;
  readonly keys: number;
  readonly bytes: number;
  readonly evictions: number;
  /** How long its hits took, ms. */
  readonly hitLatency: LatencyHistogram;
  /** How long its fills that asked the upstream took, ms. */
  readonly fillLatency: LatencyHistogram;
}

export interface MetricSources {
  proxy(): ProxyStats;
  caches(): ReadonlyArray<CacheCounters>;
  binlog(): BinlogStatus;
  memory(): { readonly limitBytes: number; readonly stateBytes: number; readonly evictions: number };
  /** Transactions (with row changes) and row changes the binlog brought to the engine. */
  binlogApplied(): { readonly transactions: number; readonly rows: number };
}

/**
 * A counter whose value is a running total kept elsewhere, per label set: each scrape sets it to
 * that total (prom-client's counters only add, so it is reset and added to).
 */
function totals(registry: Registry, name: string, help: string, labelNames: ReadonlyArray<string>, read: () => Iterable<[Record<string, string>, number]>): void {
  new Counter({
    name, help, labelNames, registers: [registry],
    collect() {
      this.reset();
      for (const [labels, n] of read()) this.inc(labels, n);
    },
  });
}

/**
 * `aggregator`: how `--workers` sums a gauge across workers (prom-client's AggregatorRegistry):
 * counts and bytes add up, the binlog's lag is the worst worker's, connected is 1 only when all are.
 */
function gauge(registry: Registry, name: string, help: string, labelNames: ReadonlyArray<string>, read: () => Iterable<[Record<string, string>, number]>, aggregator: 'sum' | 'max' | 'min' = 'sum'): void {
  new Gauge({
    name, help, labelNames, registers: [registry], aggregator,
    collect() {
      this.reset();
      for (const [labels, n] of read()) this.set(labels, n);
    },
  });
}

/**
 * A Prometheus histogram (`_bucket` with `le`, `_sum`, `_count`, in seconds) read from Rotor's own
 * latency histograms at each scrape: the buckets are theirs (√2 apart), cumulative as Prometheus
 * wants them.
 */
function histograms(registry: Registry, name: string, help: string, read: () => Iterable<[Record<string, string>, LatencyHistogram]>): void {
  registry.registerMetric({
    name,
    get: async () => {
      const values: Array<{ metricName: string; labels: Record<string, string | number>; value: number }> = [];
      for (const [labels, h] of read()) {
        let seen = 0;
        for (let b = 0; b < BUCKET_MS.length; b++) {
          seen += h.counts[b];
          values.push({ metricName: `${name}_bucket`, labels: { ...labels, le: BUCKET_MS[b] / 1000 }, value: seen });
        }
        values.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: h.count });
        values.push({ metricName: `${name}_sum`, labels, value: h.sumMs / 1000 });
        values.push({ metricName: `${name}_count`, labels, value: h.count });
      }
      return { name, help, type: 'histogram', values, aggregator: 'sum' };
    },
  } as unknown as Parameters<Registry['registerMetric']>[0]);
}

const one = (n: number): Iterable<[Record<string, string>, number]> => [[{}, n]];

export function rotorMetrics(src: MetricSources): Registry {
  const registry = new Registry();
  // The event-loop delay is sampled every 100 ms, not prom-client's 10 ms: 100 wake-ups a second
  // were most of what an idle Rotor did.
  collectDefaultMetrics({ register: registry, prefix: 'rotor_', eventLoopMonitoringPrecision: 100 });
  const perCache = (pick: (c: CacheCounters) => number) => (): Iterable<[Record<string, string>, number]> => src.caches().map((c) => [{ cache: c.name }, pick(c)]);

  gauge(registry, 'rotor_clients', 'Connected client sessions', [], () => one(src.proxy().clients));
  totals(registry, 'rotor_connections_total', 'Client connections accepted', [], () => one(src.proxy().totalConnections));
  totals(registry, 'rotor_queries_served_total', 'Statements answered from a cache', [], () => one(src.proxy().servedFromCache));
  totals(registry, 'rotor_queries_relayed_total', 'Statements relayed upstream, by the reason a cache did not answer ("none": no cache was asked)', ['reason'], () => {
    const p = src.proxy();
    const named = Object.entries(p.notCachedReasons);
    const withReason = named.reduce((n, [, c]) => n + c, 0);
    return [[{ reason: 'none' }, p.relayed - withReason], ...named.map(([reason, n]): [Record<string, string>, number] => [{ reason }, n])];
  });

  histograms(registry, 'rotor_query_duration_seconds', 'Statements from arrival to answer (cache) or from sending to the response\'s end (upstream)', () => {
    const d = src.proxy().durations;
    return [[{ destination: 'cache' }, d.cache], [{ destination: 'upstream' }, d.upstream]];
  });
  histograms(registry, 'rotor_cache_hit_duration_seconds', 'How long a cache took to answer a hit (routing, lookup, rows)', () => src.caches().map((c): [Record<string, string>, LatencyHistogram] => [{ cache: c.name }, c.hitLatency]));
  histograms(registry, 'rotor_upquery_duration_seconds', 'How long a cache\'s fills that asked the upstream took, until installed', () => src.caches().map((c): [Record<string, string>, LatencyHistogram] => [{ cache: c.name }, c.fillLatency]));
  totals(registry, 'rotor_cache_hits_total', 'Reads a cache answered from memory', ['cache'], perCache((c) => c.hits));
  totals(registry, 'rotor_cache_misses_total', 'Reads of keys a cache did not hold', ['cache'], perCache((c) => c.misses));
  totals(registry, 'rotor_cache_memory_fills_total', 'Misses computed at once from the states above a cache, without the upstream', ['cache'], perCache((c) => c.memoryFills));
  totals(registry, 'rotor_cache_upqueries_total', 'Fills that asked the upstream', ['cache'], perCache((c) => c.upqueries));
  totals(registry, 'rotor_cache_evictions_total', 'Keys evicted from a cache', ['cache'], perCache((c) => c.evictions));
  gauge(registry, 'rotor_cache_keys', 'Keys a cache holds', ['cache'], perCache((c) => c.keys));
  gauge(registry, 'rotor_cache_bytes', 'Bytes held by a cache\'s reader, as the memory budget last estimated them', ['cache'], perCache((c) => c.bytes));

  // [note: memory-budget]
  gauge(registry, 'rotor_memory_limit_bytes', 'The memory limit all cache state is kept under', [], () => one(src.memory().limitBytes));
  gauge(registry, 'rotor_memory_state_bytes', 'Cache state, estimated at the last budget check', [], () => one(src.memory().stateBytes));
  totals(registry, 'rotor_memory_evictions_total', 'Keys evicted to keep the memory limit', [], () => one(src.memory().evictions));

  gauge(registry, 'rotor_binlog_connected', '1 while the binlog stream is connected', [], () => one(src.binlog().connected ? 1 : 0), 'min');
  gauge(registry, 'rotor_binlog_lag_seconds', 'Binlog lag against the upstream (-1 while disconnected)', [], () => {
    const lag = src.binlog().lagMs;
    return one(lag === null ? -1 : lag / 1000);
  }, 'max');
  totals(registry, 'rotor_binlog_transactions_total', 'Transactions with row changes the binlog brought', [], () => one(src.binlogApplied().transactions));
  totals(registry, 'rotor_binlog_rows_total', 'Row changes the binlog brought', [], () => one(src.binlogApplied().rows));
  totals(registry, 'rotor_binlog_reconnects_total', 'Binlog reconnections since start', [], () => one(src.binlog().reconnects));
  totals(registry, 'rotor_binlog_resets_total', 'Times the upstream\'s binlog no longer held the stream\'s position', [], () => one(src.binlog().binlogResets));
  return registry;
}
