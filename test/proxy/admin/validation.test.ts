/**
 * The admin API's input handling: bodies checked by JSON schemas, fastify's own failures (unknown
 * route, content type, JSON, size) answered in the catalog's shape, registrations bounded by a
 * token bucket and a cache cap, and the bearer token kept out of the logs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildAdminApp, type AdminBackend, type AdminOptions, type CacheAdmin } from '../../../src/proxy/admin/app.js';
import { ERRORS } from '../../../src/errors.js';
import { RegistrationLimit } from '../../../src/views/registration-limit.js';

function caches(): CacheAdmin & { registered: string[] } {
  const registered: string[] = [];
  return {
    registered,
    async register(req) {
      registered.push(req.sql);
      return { id: `c${registered.length}` };
    },
    list: () => registered.map((sql, i) => ({ id: `c${i + 1}`, sql })),
    get count() {
      return registered.length;
    },
    get: (id) => (registered[Number(id.slice(1)) - 1] === undefined ? null : { id }),
    drop: async () => true,
    evict: (_id, keys) => (keys === 'all' ? 9 : keys.length),
  };
}

function app(opts: Partial<AdminOptions> = {}, backend: Partial<AdminBackend> = {}): ReturnType<typeof buildAdminApp> {
  return buildAdminApp({ serving: () => true, status: () => ({}), caches: caches(), ...backend }, { token: null, ...opts });
}

/** Asserts a response is the catalog error `code`: its status, and the body `{ code, message, errno, sqlState }`. */
function assertCatalogError(res: { statusCode: number; json(): Record<string, unknown> }, code: keyof typeof ERRORS, what: string): void {
  const spec = ERRORS[code];
  assert.equal(res.statusCode, spec.http, what);
  const body = res.json();
  assert.equal(body.code, code, what);
  assert.equal(body.errno, spec.errno, what);
  assert.equal(body.sqlState, spec.sqlState, what);
  assert.equal(typeof body.message, 'string', what);
}

const json = { 'content-type': 'application/json' };

test('an unknown route answers 404 in the catalog\'s shape, and behind the token when it is under /api', async () => {
  const open = app();
  assertCatalogError(await open.inject({ method: 'GET', url: '/nope' }), 'ERR_ADMIN_NOT_FOUND', 'GET /nope');
  assertCatalogError(await open.inject({ method: 'PUT', url: '/api/caches' }), 'ERR_ADMIN_NOT_FOUND', 'PUT /api/caches');
  const guarded = app({ token: 's3cret' });
  assertCatalogError(await guarded.inject({ method: 'GET', url: '/api/nope' }), 'ERR_ADMIN_UNAUTHORIZED', 'no token');
  const found = await guarded.inject({ method: 'GET', url: '/api/nope', headers: { authorization: 'Bearer s3cret' } });
  assertCatalogError(found, 'ERR_ADMIN_NOT_FOUND', 'with the token');
  assert.match(found.json().message, /GET \/api\/nope/);
});

test('a body that is not JSON answers 415; invalid JSON, an empty body and an oversized body answer 400 and 413', async () => {
  const a = app();
  for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
    assertCatalogError(await a.inject({ method: 'POST', url: '/api/caches', headers: { 'content-type': type }, payload: 'sql=SELECT 1' }), 'ERR_ADMIN_UNSUPPORTED_MEDIA_TYPE', type);
  }
  assertCatalogError(await a.inject({ method: 'POST', url: '/api/caches', headers: json, payload: '{"sql": ' }), 'ERR_ADMIN_BAD_REQUEST', 'invalid JSON');
  assertCatalogError(await a.inject({ method: 'POST', url: '/api/caches', headers: json, payload: '' }), 'ERR_ADMIN_BAD_REQUEST', 'empty body');
  assertCatalogError(await a.inject({ method: 'POST', url: '/api/caches' }), 'ERR_ADMIN_BAD_REQUEST', 'no body');
  const huge = JSON.stringify({ sql: `SELECT '${'x'.repeat(1 << 20)}'` });
  assertCatalogError(await a.inject({ method: 'POST', url: '/api/caches', headers: json, payload: huge }), 'ERR_ADMIN_BODY_TOO_LARGE', 'over 1 MiB');
});

test('registration bodies are checked by their schema: sql required, name and database short strings, nothing else', async () => {
  const backend = caches();
  const a = app({}, { caches: backend });
  const bad: unknown[] = [
    {}, { sql: 5 }, { sql: '' }, { sql: '   ' }, { sql: ['SELECT 1'] }, { sql: 'x'.repeat(65_537) },
    { sql: 'SELECT 1', name: 7 }, { sql: 'SELECT 1', name: 'n'.repeat(65) }, { sql: 'SELECT 1', name: '' },
    { sql: 'SELECT 1', database: null }, { sql: 'SELECT 1', database: 'd'.repeat(65) }, { sql: 'SELECT 1', extra: true }, [], 'SELECT 1', null,
  ];
  for (const payload of bad) {
    const res = await a.inject({ method: 'POST', url: '/api/caches', headers: json, payload: JSON.stringify(payload) });
    assertCatalogError(res, 'ERR_ADMIN_BAD_REQUEST', JSON.stringify(payload).slice(0, 80));
  }
  assert.deepEqual(backend.registered, [], 'nothing invalid reached the engine');
  const ok = await a.inject({ method: 'POST', url: '/api/caches', payload: { sql: 'SELECT 1', name: 'n'.repeat(64), database: 'app' } });
  assert.equal(ok.statusCode, 201);
});

test('evict bodies are checked by their schema: keys as an array of arrays of scalars, or all: true', async () => {
  const backend = caches();
  await backend.register({ sql: 'SELECT 1' });
  const a = app({}, { caches: backend });
  const bad: unknown[] = [
    {}, { keys: 5 }, { keys: [1, 2] }, { keys: [[{ a: 1 }]] }, { keys: [[[1]]] }, { all: false }, { all: 'true' },
    { all: true, keys: [[1]] }, { keys: [[1]], extra: 1 }, { keys: Array.from({ length: 10_001 }, () => [1]) },
  ];
  for (const payload of bad) {
    const res = await a.inject({ method: 'POST', url: '/api/caches/c1/evict', headers: json, payload: JSON.stringify(payload) });
    assertCatalogError(res, 'ERR_ADMIN_BAD_REQUEST', JSON.stringify(payload).slice(0, 80));
  }
  assert.deepEqual((await a.inject({ method: 'POST', url: '/api/caches/c1/evict', payload: { keys: [[1, 'a', null], [2.5]] } })).json(), { evicted: 2 });
  assert.deepEqual((await a.inject({ method: 'POST', url: '/api/caches/c1/evict', payload: { all: true } })).json(), { evicted: 9 });
  assertCatalogError(await a.inject({ method: 'GET', url: `/api/caches/${'x'.repeat(300)}` }), 'ERR_ADMIN_BAD_REQUEST', 'an id too long');
  assertCatalogError(await a.inject({ method: 'GET', url: '/api/caches/%E0%A4%A' }), 'ERR_ADMIN_BAD_REQUEST', 'a malformed URL');
});

test('registrations beyond the rate are refused with 429 until the bucket refills', async () => {
  let now = 0;
  const a = app({ now: () => now });
  const register = (i: number) => a.inject({ method: 'POST', url: '/api/caches', payload: { sql: `SELECT ${i}` } });
  for (let i = 0; i < 20; i++) assert.equal((await register(i)).statusCode, 201, `registration ${i}`);
  const refused = await register(20);
  assertCatalogError(refused, 'ERR_ADMIN_TOO_MANY_REGISTRATIONS', 'the 21st at once');
  assert.match(refused.json().message, /20 registrations per second/);
  now += 100; // two tokens' worth at 20 per second
  assert.equal((await register(21)).statusCode, 201);
  assert.equal((await register(22)).statusCode, 201);
  assert.equal((await register(23)).statusCode, 429);
  now += 60_000;
  for (let i = 0; i < 20; i++) assert.equal((await register(100 + i)).statusCode, 201, 'a full bucket again, never more than the burst');
  assert.equal((await register(200)).statusCode, 429);
});

test('a registration beyond the cache cap is refused with 429, whatever the rate', async () => {
  const a = app({ registrations: { maxCaches: 3 } });
  for (let i = 0; i < 3; i++) assert.equal((await a.inject({ method: 'POST', url: '/api/caches', payload: { sql: `SELECT ${i}` } })).statusCode, 201);
  const refused = await a.inject({ method: 'POST', url: '/api/caches', payload: { sql: 'SELECT 4' } });
  assertCatalogError(refused, 'ERR_ADMIN_TOO_MANY_REGISTRATIONS', 'the fourth cache');
  assert.match(refused.json().message, /most caches it may \(3\)/);
});

test('the token bucket refills at its rate up to its burst', () => {
  let now = 0;
  const limit = new RegistrationLimit({ perSecond: 2, burst: 4, maxCaches: 10 }, () => now);
  assert.deepEqual([0, 1, 2, 3, 4].map(() => limit.refusal(0) === null), [true, true, true, true, false]);
  now = 500;
  assert.deepEqual([0, 1].map(() => limit.refusal(0) === null), [true, false]);
  assert.notEqual(limit.refusal(10), null);
});

test('the admin token never reaches the log', async () => {
  const lines: string[] = [];
  const a = app({ token: 's3cret-token', logger: { level: 'trace', stream: { write: (l) => lines.push(l) } } });
  const auth = { authorization: 'Bearer s3cret-token' };
  await a.inject({ method: 'GET', url: '/api/status', headers: auth });
  await a.inject({ method: 'GET', url: '/api/status', headers: { authorization: 'Bearer s3cret-tokeN' } });
  await a.inject({ method: 'POST', url: '/api/caches', headers: { ...auth, ...json }, payload: '{' });
  await a.inject({ method: 'GET', url: '/api/nope', headers: auth });
  assert.ok(lines.length >= 4, 'requests were logged');
  assert.ok(!lines.join('').includes('s3cret'), lines.join(''));
});
