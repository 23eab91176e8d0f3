/**
 * CREATE CACHE, DROP CACHE and SHOW CACHES on the SQL port: recognised as before, and in one pass
 * over hostile spellings (long runs of spaces that once made their regular expressions backtrack
 * for minutes, freezing every session).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CacheRouter, type RouterBackend } from '../../src/views/router.js';
import type { Routed, SessionView } from '../../src/proxy/read-router.js';
import { allPrivilegedRow } from './support.js';

function router(): { router: CacheRouter; registered: Array<{ sql: string; name?: string }>; dropped: string[] } {
  const registered: Array<{ sql: string; name?: string }> = [];
  const dropped: string[] = [];
  const backend = {
    candidates: () => undefined,
    register: async (req: { sql: string; name?: string }) => {
      registered.push({ sql: req.sql, ...(req.name ? { name: req.name } : {}) });
      return { name: req.name ?? 'q', created: true };
    },
    drop: async (id: string) => {
      dropped.push(id);
      return true;
    },
    showCaches: () => ({ kind: 'ok', affectedRows: 0, info: 'caches' }),
    recordUpstream: () => undefined,
    consistency: 'eventual',
    staleReason: null,
    timeZoneReason: null,
    defaultDatabase: 'db',
    registrationRefusal: () => null,
    cacheProbe: () => ({ query: { sql: 'SELECT 1', tables: [] } }),
  } as unknown as RouterBackend;
  return { router: new CacheRouter(backend), registered, dropped };
}

// A user MariaDB lets run every cache command (every probe succeeds).
const session: SessionView = { connectionId: 1, user: 'u', database: null, inTransaction: false, transactionBlocker: null, cacheBlocker: null, writes: 0, privilegeGeneration: 0, lastRoute: null, noBackslashEscapes: false, probe: () => Promise.resolve(null), probeRow: (sql) => Promise.resolve(allPrivilegedRow(sql)) };

async function kind(r: Routed): Promise<string> {
  if (r.kind === 'pending') await r.answer;
  return r.kind;
}

test('cache statements are recognised with their name, query and optional terminator', async () => {
  const r = router();
  assert.equal(await kind(r.router.routeQuery('CREATE CACHE `by id` FROM SELECT v FROM kv WHERE k = ? ;  ', session)), 'pending');
  assert.equal(await kind(r.router.routeQuery('create cache from SELECT 1;;', session)), 'pending');
  assert.deepEqual(r.registered, [{ sql: 'SELECT v FROM kv WHERE k = ?', name: 'by id' }, { sql: 'SELECT 1;' }]);
  assert.equal(await kind(r.router.routeQuery(' DROP CACHE `by id` ; ', session)), 'pending');
  assert.deepEqual(r.dropped, ['by id']);
  assert.equal(await kind(r.router.routeQuery('SHOW CACHES;', session)), 'pending');
  assert.equal(r.router.routeQuery('CREATE CACHE FROM ;', session).kind, 'upstream');
});

test('long runs of spaces inside cache statements are read in one pass', async () => {
  const r = router();
  const spaces = ' '.repeat(200_000);
  assert.equal(await kind(r.router.routeQuery(`CREATE CACHE FROM x${spaces}y;z`, session)), 'pending');
  assert.equal(r.registered[0].sql, `x${spaces}y;z`);
  assert.equal(r.router.routeQuery(`DROP CACHE x${spaces}y`, session).kind, 'upstream');
  assert.equal(r.router.routeQuery(`SHOW CACHES${spaces}x`, session).kind, 'upstream');
  assert.deepEqual(r.dropped, []);
});

test('CREATE CACHE on the SQL port shares the registration limit of the admin API', async () => {
  const r = router();
  const limited = new CacheRouter({ ...r.router.backend, registrationRefusal: () => 'more than 20 registrations per second' } as RouterBackend);
  const routed = limited.routeQuery('CREATE CACHE FROM SELECT v FROM kv WHERE k = ?', session);
  assert.equal(routed.kind, 'pending');
  const answer = routed.kind === 'pending' ? await routed.answer : null;
  assert.equal(answer?.kind === 'error' ? answer.errno : null, 1226);
  assert.deepEqual(r.registered, []);
});

test('[note: hot-path] a relayed read is read once: its statement goes with it to observeRelayed', () => {
  const r = router();
  const recorded: Array<[string, string | null, number | null]> = [];
  const proxied = { limit: 10, record: (q: string, db: string | null, ms: number | null) => recorded.push([q, db, ms]) };
  const withCaches = new CacheRouter({ ...r.router.backend, cacheCount: 1, proxied } as unknown as RouterBackend);
  const inDb = { ...session, database: 'shop' };
  const routed = withCaches.routeQuery('SELECT v FROM kv WHERE k = 7', inDb);
  assert.equal(routed.kind, 'upstream');
  assert.equal(routed.kind === 'upstream' ? routed.statement : null, 'SELECT v FROM kv WHERE k = ?', 'no cache has its shape: relayed with what it was read as');
  // The text handed back is not read again: the key recorded is the one the route carried.
  withCaches.observeRelayed('not even SQL', inDb, 1.5, 'SELECT v FROM kv WHERE k = ?');
  withCaches.observeRelayed('SELECT v FROM kv WHERE k = 8', inDb, 2);
  assert.deepEqual(recorded, [['SELECT v FROM kv WHERE k = ?', 'shop', 1.5], ['SELECT v FROM kv WHERE k = ?', 'shop', 2]]);
});
