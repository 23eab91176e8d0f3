/**
 * CREATE CACHE, DROP CACHE and SHOW CACHES on the SQL port: recognised as before, and in one pass
 * over hostile spellings (long runs of spaces that once made their regular expressions backtrack
 * for minutes, freezing every session).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CacheRouter, type RouterBackend } from '../../src/views/router.js';
import type { SessionView } from '../../src/proxy/read-router.js';

function router(): { router: CacheRouter; registered: Array<{ sql: string; name?: string }>; dropped: string[] } {
  const registered: Array<{ sql: string; name?: string }> = [];
  const dropped: string[] = [];
  const backend = {
    candidates: () => undefined,
    register: async (req: { sql: string; name?: string }) => {
      registered.push({ sql: req.sql, ...(req.name ? { name: req.name } : {}) });
    },
    drop: (id: string) => {
      dropped.push(id);
      return true;
    },
    showCaches: () => ({ kind: 'ok', affectedRows: 0, info: 'caches' }),
    recordUpstream: () => undefined,
    consistency: 'eventual',
    staleReason: null,
  } as unknown as RouterBackend;
  return { router: new CacheRouter(backend), registered, dropped };
}

const session: SessionView = { connectionId: 1, user: 'u', database: null, inTransaction: false, cacheBlocker: null, writes: 0 } as unknown as SessionView;

test('cache statements are recognised with their name, query and optional terminator', () => {
  const r = router();
  assert.equal(r.router.routeQuery('CREATE CACHE `by id` FROM SELECT v FROM kv WHERE k = ? ;  ', session).kind, 'pending');
  assert.equal(r.router.routeQuery('create cache from SELECT 1;;', session).kind, 'pending');
  assert.deepEqual(r.registered, [{ sql: 'SELECT v FROM kv WHERE k = ?', name: 'by id' }, { sql: 'SELECT 1;' }]);
  assert.equal(r.router.routeQuery(' DROP CACHE `by id` ; ', session).kind, 'answer');
  assert.deepEqual(r.dropped, ['by id']);
  assert.equal(r.router.routeQuery('SHOW CACHES;', session).kind, 'answer');
  assert.equal(r.router.routeQuery('CREATE CACHE FROM ;', session).kind, 'upstream');
});

test('long runs of spaces inside cache statements are read in one pass', () => {
  const r = router();
  const spaces = ' '.repeat(200_000);
  assert.equal(r.router.routeQuery(`CREATE CACHE FROM x${spaces}y;z`, session).kind, 'pending');
  assert.equal(r.registered[0].sql, `x${spaces}y;z`);
  assert.equal(r.router.routeQuery(`DROP CACHE x${spaces}y`, session).kind, 'upstream');
  assert.equal(r.router.routeQuery(`SHOW CACHES${spaces}x`, session).kind, 'upstream');
  assert.deepEqual(r.dropped, []);
});
