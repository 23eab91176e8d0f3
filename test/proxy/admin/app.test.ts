import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildAdminApp, type AdminBackend, type CacheAdmin } from '../../../src/proxy/admin/app.js';
import { RotorError } from '../../../src/errors.js';

function fakeCaches(): CacheAdmin & { registered: string[] } {
  const registered: string[] = [];
  return {
    registered,
    async register(req) {
      if (req.sql.includes('FROM nowhere')) throw new RotorError('ERR_CACHE_UNKNOWN_TABLE', ['nowhere']);
      if (req.sql.includes('WINDOW')) {
        throw new RotorError('ERR_CACHE_UNSUPPORTED', ['window functions'], { clause: 'SELECT', detail: 'window functions' });
      }
      registered.push(req.sql);
      return { id: 'c1', name: req.name ?? 'c1', sql: req.sql };
    },
    list: () => registered.map((sql, i) => ({ id: `c${i + 1}`, sql })),
    get count() {
      return registered.length;
    },
    get: (id) => (id === 'c1' && registered.length ? { id: 'c1', stats: { hits: 0 } } : null),
    drop: async (id) => id === 'c1' && registered.splice(0, 1).length === 1,
    evict: (_id, keys) => (keys === 'all' ? 7 : keys.length),
  };
}

function backend(over: Partial<AdminBackend> = {}): AdminBackend {
  return { serving: () => true, status: () => ({ clients: 3 }), caches: fakeCaches(), ...over };
}

test('health answers ok while serving and 503 otherwise', async () => {
  const up = buildAdminApp(backend(), { token: null });
  const res = await up.inject({ method: 'GET', url: '/health' });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(res.json(), { status: 'ok' });
  const down = buildAdminApp(backend({ serving: () => false }), { token: null });
  assert.equal((await down.inject({ method: 'GET', url: '/health' })).statusCode, 503);
});

test('api routes demand the bearer token when one is configured, health does not', async () => {
  const app = buildAdminApp(backend(), { token: 's3cret' });
  assert.equal((await app.inject({ method: 'GET', url: '/api/status' })).statusCode, 401);
  assert.equal((await app.inject({ method: 'GET', url: '/api/status', headers: { authorization: 'Bearer wrong!' } })).statusCode, 401);
  const ok = await app.inject({ method: 'GET', url: '/api/status', headers: { authorization: 'Bearer s3cret' } });
  assert.equal(ok.statusCode, 200);
  assert.deepEqual(ok.json(), { clients: 3 });
  assert.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200);
});

test('registering a cache answers 201 with its description', async () => {
  const app = buildAdminApp(backend(), { token: null });
  const res = await app.inject({ method: 'POST', url: '/api/caches', payload: { sql: 'SELECT fans FROM fan_count WHERE item_id = ?' } });
  assert.equal(res.statusCode, 201);
  assert.equal(res.json().id, 'c1');
});

test('registration errors carry the catalog status, code and reason', async () => {
  const app = buildAdminApp(backend(), { token: null });
  const missing = await app.inject({ method: 'POST', url: '/api/caches', payload: { sql: 'SELECT * FROM nowhere' } });
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.json().code, 'ERR_CACHE_UNKNOWN_TABLE');
  assert.equal(missing.json().errno, 1146);
  const unsupported = await app.inject({ method: 'POST', url: '/api/caches', payload: { sql: 'SELECT x WINDOW w' } });
  assert.equal(unsupported.statusCode, 422);
  assert.deepEqual(unsupported.json().reason, { clause: 'SELECT', detail: 'window functions' });
  const noSql = await app.inject({ method: 'POST', url: '/api/caches', payload: { name: 'x' } });
  assert.equal(noSql.statusCode, 400);
  const badJson = await app.inject({ method: 'POST', url: '/api/caches', headers: { 'content-type': 'application/json' }, payload: '{' });
  assert.equal(badJson.statusCode, 400);
});

test('unknown caches answer 404 on get, delete and evict', async () => {
  const app = buildAdminApp(backend(), { token: null });
  assert.equal((await app.inject({ method: 'GET', url: '/api/caches/nope' })).statusCode, 404);
  assert.equal((await app.inject({ method: 'DELETE', url: '/api/caches/nope' })).statusCode, 404);
  assert.equal((await app.inject({ method: 'POST', url: '/api/caches/nope/evict', payload: { all: true } })).statusCode, 404);
});

test('evict takes a list of keys or all', async () => {
  const app = buildAdminApp(backend(), { token: null });
  await app.inject({ method: 'POST', url: '/api/caches', payload: { sql: 'SELECT 1' } });
  const keys = await app.inject({ method: 'POST', url: '/api/caches/c1/evict', payload: { keys: [[1], [2]] } });
  assert.deepEqual(keys.json(), { evicted: 2 });
  const all = await app.inject({ method: 'POST', url: '/api/caches/c1/evict', payload: { all: true } });
  assert.deepEqual(all.json(), { evicted: 7 });
  const bad = await app.inject({ method: 'POST', url: '/api/caches/c1/evict', payload: { keys: 5 } });
  assert.equal(bad.statusCode, 400);
  const del = await app.inject({ method: 'DELETE', url: '/api/caches/c1' });
  assert.equal(del.statusCode, 204);
});
