/**
 * `SHOW CACHES` on the SQL port: one row per cache, typed like MariaDB's own SHOW output
 * (VAR_STRING text columns, BIGINT counters).
 */
import type { Answer } from '../proxy/read-router.js';
import type { ColumnDefinition } from '../proxy/protocol/column-definition.js';
import type { CacheInfo } from './cache.js';

function column(name: string, numeric: boolean): ColumnDefinition {
  return numeric
    ? { catalog: 'def', schema: '', table: '', orgTable: '', name, orgName: '', characterSet: 63, columnLength: 21, type: 8, flags: 0x81 | 0x20, decimals: 0 }
    : { catalog: 'def', schema: '', table: '', orgTable: '', name, orgName: '', characterSet: 45, columnLength: 4096, type: 253, flags: 0x01, decimals: 39 };
}

const COLUMNS: ReadonlyArray<ColumnDefinition> = [
  column('id', false), column('name', false), column('database', false), column('query', false), column('status', false),
  column('hits', true), column('misses', true), column('keys', true),
];

export function showCachesAnswer(caches: ReadonlyArray<CacheInfo>): Answer {
  return {
    kind: 'rows',
    columns: COLUMNS,
    rows: caches.map((c) => [c.id, c.name, c.database, c.sql, c.status, c.stats.hits, c.stats.misses, c.stats.keys]),
  };
}
