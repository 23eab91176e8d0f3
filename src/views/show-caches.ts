/**
 * The answers of `SHOW CACHES` (one row per cache) and `EXPLAIN CACHE` (one row) on the SQL port,
 * typed like MariaDB's own SHOW output (VAR_STRING text columns, BIGINT counters).
 */
import type { Answer, LastRoute } from '../proxy/read-router.js';
import type { ColumnDefinition } from '../proxy/protocol/column-definition.js';
import type { CacheInfo } from './cache.js';
import type { Explained } from './register.js';
import type { ProxiedReport } from './proxied-queries.js';

function column(name: string, numeric: boolean): ColumnDefinition {
  return numeric
    ? { catalog: 'def', schema: '', table: '', orgTable: '', name, orgName: '', characterSet: 63, columnLength: 21, type: 8, flags: 0x81 | 0x20, decimals: 0 }
    : { catalog: 'def', schema: '', table: '', orgTable: '', name, orgName: '', characterSet: 45, columnLength: 4096, type: 253, flags: 0x01, decimals: 39 };
}

const COLUMNS: ReadonlyArray<ColumnDefinition> = [
  column('id', false), column('name', false), column('database', false), column('query', false), column('status', false),
  column('hits', true), column('misses', true), column('keys', true),
  column('hit_rate', false), column('hit_p50_ms', false), column('hit_p99_ms', false), column('bytes', true), column('evictions', true),
  column('upqueries', true), column('reason', false), column('always', false),
];

/** `digits` decimals, as text (SHOW output is text); NULL for no value. */
function decimal(n: number | null, digits: number): string | null {
  return n === null || !Number.isFinite(n) ? null : n.toFixed(digits);
}

/**
 * One row per cache: its counters, the share of reads it served (NULL before any read), hit
 * latency percentiles in ms (NULL before any hit), its reader's bytes, why it is not ready and
 * whether it serves reads inside transactions (`CREATE CACHE ALWAYS`).
 */
export function showCachesAnswer(caches: ReadonlyArray<CacheInfo>): Answer {
  return {
    kind: 'rows',
    columns: COLUMNS,
    rows: caches.map((c) => {
      const s = c.stats;
      const reads = s.hits + s.misses;
      return [
        c.id, c.name, c.database, c.sql, c.status, s.hits, s.misses, s.keys,
        decimal(reads === 0 ? null : s.hits / reads, 4),
        decimal(s.hits === 0 ? null : s.hitLatencyMs.p50, 3), decimal(s.hits === 0 ? null : s.hitLatencyMs.p99, 3),
        s.bytes, s.evictions, s.upqueries, c.reason, c.always ? 'yes' : 'no',
      ];
    }),
  };
}

const EXPLAIN_COLUMNS: ReadonlyArray<ColumnDefinition> = [
  column('query', false), column('cacheable', false), column('reason', false), column('database', false),
  column('parameters', false), column('plan', false), column('cached_as', false),
];

/** `EXPLAIN CACHE <select>`: whether and how the statement would be cached, nothing registered. */
export function explainCacheAnswer(e: Explained): Answer {
  return {
    kind: 'rows',
    columns: EXPLAIN_COLUMNS,
    rows: [[
      e.query, e.refusal === null ? 'yes' : 'no', e.refusal, e.database,
      e.parameters.map((p) => `${p.table}.${p.column}`).join(', '), e.plan.join(' → '), e.cachedAs,
    ]],
  };
}

const PROXIED_COLUMNS: ReadonlyArray<ColumnDefinition> = [
  column('query_id', false), column('query', false), column('database', false), column('count', true), column('served_from_cache', true),
  column('upstream_count', true), column('upstream_total_ms', false), column('upstream_p50_ms', false), column('upstream_p99_ms', false),
  column('first_seen', false), column('last_seen', false), column('cacheable', false), column('reason', false), column('cached_as', false),
  column('suggested', false), column('saving_ms', false),
];

/** `SHOW PROXIED [SUPPORTED] QUERIES`: one row per statement, as GET /api/queries reports them. */
export function proxiedQueriesAnswer(reports: ReadonlyArray<ProxiedReport>): Answer {
  return {
    kind: 'rows',
    columns: PROXIED_COLUMNS,
    rows: reports.map((r) => [
      r.id, r.query, r.database, r.count, r.servedFromCache, r.upstream.count, decimal(r.upstream.totalMs, 3),
      decimal(r.upstream.p50Ms, 3), decimal(r.upstream.p99Ms, 3), r.firstSeen, r.lastSeen, r.cacheable ? 'yes' : 'no',
      r.reason, r.cachedAs, r.suggested ? 'yes' : 'no', decimal(r.savingMs, 3),
    ]),
  };
}

const LAST_COLUMNS: ReadonlyArray<ColumnDefinition> = [column('destination', false), column('cache', false), column('reason', false)];

/**
 * `EXPLAIN LAST STATEMENT`: where the session's previous statement went — `cache` and its name,
 * or `upstream` and why no cache answered it (no cache matches it, when none was asked) — or
 * nothing before any. Rotor's own commands (this one included) are not statements it routes.
 */
export function explainLastAnswer(last: LastRoute | null): Answer {
  const row = last === null ? [] : last.destination === 'cache'
    ? [['cache', last.cache, null]]
    : [['upstream', null, last.reason ?? 'no cache matches the statement']];
  return { kind: 'rows', columns: LAST_COLUMNS, rows: row };
}
