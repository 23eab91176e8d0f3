/**
 * The proxied-statement counts behind SHOW PROXIED QUERIES: per statement and database, bounded by
 * dropping the statement with the least upstream time, percentiles read off doubling buckets, LIKE
 * patterns, and the suggestion of the cacheable reads that would save the most.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { likeMatcher, percentileMs, ProxiedQueries, proxiedReports, registrableText } from '../../src/views/proxied-queries.js';

test('counts executions per statement and database, cached apart from relayed', () => {
  const p = new ProxiedQueries(10);
  p.record('SELECT v FROM kv WHERE k = ?', 'a', 2, 1000);
  p.record('SELECT v FROM kv WHERE k = ?', 'a', null, 2000);
  p.record('SELECT v FROM kv WHERE k = ?', 'b', 1, 3000);
  const [a] = p.list('count', 10, (q) => q.database === 'a');
  assert.deepEqual([a.count, a.cached, a.upstream, a.upstreamMs, a.firstSeen, a.lastSeen, a.read], [2, 1, 1, 2, 1000, 2000, true]);
  assert.equal(p.size, 2, 'one statement in two databases is two statements');
  assert.match(a.id, /^pq_[0-9a-f]{12}$/);
  assert.equal(p.byId(a.id), a);
  assert.notEqual(p.list().find((q) => q.database === 'b')?.id, a.id);
});

test('past its limit, the statement with the least upstream time gives its place', () => {
  const p = new ProxiedQueries(2);
  p.record('A', null, 5);
  p.record('B', null, 1);
  p.record('C', null, 3);
  assert.deepEqual(p.list('total').map((q) => q.query), ['A', 'C']);
  const none = new ProxiedQueries(0);
  none.record('A', null, 1);
  assert.equal(none.size, 0);
});

test('percentiles are bucket bounds at most √2 above the times, null without relayed executions', () => {
  const p = new ProxiedQueries(10);
  for (let i = 0; i < 99; i++) p.record('Q', null, 0.3);
  p.record('Q', null, 50);
  const [q] = p.list();
  // A bucket's bound: at or above the value, less than √2 times it.
  const near = (got: number | null, ms: number): boolean => got !== null && got >= ms && got < ms * Math.SQRT2;
  assert.ok(near(percentileMs(q, 0.5), 0.3));
  assert.ok(near(percentileMs(q, 0.99), 0.3));
  assert.ok(near(percentileMs(q, 1), 50));
  p.record('R', null, null);
  assert.equal(percentileMs(p.list('count', 10, (x) => x.query === 'R')[0], 0.5), null);
});

test('LIKE patterns: %, _ and escapes, case-insensitive, the whole text', () => {
  assert.equal(likeMatcher('SELECT%kv%')('select v from kv where k = ?'), true);
  assert.equal(likeMatcher('%kv')('SELECT v FROM kv WHERE k = ?'), false);
  assert.equal(likeMatcher('a_c')('abc'), true);
  assert.equal(likeMatcher('a\\_c')('abc'), false);
  assert.equal(likeMatcher('a\\_c')('a_c'), true);
  assert.equal(likeMatcher('(.*)')('(.*)'), true, 'regular-expression characters are themselves');
});

test('suggests the cacheable reads no cache serves, the most upstream time first', () => {
  const p = new ProxiedQueries(10);
  for (const [q, ms, n] of [['SELECT a FROM t WHERE k IN (?+)', 10, 3], ['SELECT b FROM t WHERE k = ?', 50, 2], ['SELECT c FROM t LIMIT ?', 90, 5], ['SELECT d FROM t WHERE k = ?', 5, 1]] as const) {
    for (let i = 0; i < n; i++) p.record(q, 'db', ms);
  }
  const list = p.list('total');
  const reports = proxiedReports(list, list.map((q) => (q.query.includes('LIMIT') ? { refusal: 'no', cachedAs: null } : { refusal: null, cachedAs: null })));
  const by = new Map(reports.map((r) => [r.query, r]));
  assert.equal(by.get('SELECT b FROM t WHERE k = ?')?.suggested, true);
  assert.equal(by.get('SELECT b FROM t WHERE k = ?')?.savingMs, 100);
  assert.equal(by.get('SELECT a FROM t WHERE k IN (?+)')?.suggested, true);
  assert.equal(by.get('SELECT c FROM t LIMIT ?')?.suggested, false, 'not cacheable');
  assert.equal(by.get('SELECT d FROM t WHERE k = ?')?.suggested, false, 'read once');
  assert.equal(registrableText(list.find((q) => q.query.includes('IN'))!), 'SELECT a FROM t WHERE k IN (?)');
});
