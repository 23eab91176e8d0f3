/**
 * Caches read over HTTP (`--http-read`) against the private MariaDB: lookups by one and several
 * parameters and several keys, a miss filled as a SQL read's, values of every type as mysql2's
 * text protocol reads the same SELECT ([note: http-values]), who may read ([note: http-principals]:
 * an account MariaDB lets run the SELECT, a read token, a public cache), the ETag of a key moving
 * with its rows, and bad input answered with clear errors.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { freshDatabase, type TestDatabase } from '../support/servers.js';
import { startTestRotor, type TestRotor } from '../support/rotor.js';
import { openAccountSession, isLoginFailure } from '../../src/upstream/account-session.js';
import { until } from '../support/until.js';

let db: TestDatabase;
let rotor: TestRotor;
let base: string;
let auth: string;
const suffix = Math.random().toString(36).slice(2, 8);
const users: string[] = [];

interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

async function get(path: string, headers: Record<string, string> = { authorization: auth }): Promise<Reply> {
  const res = await fetch(base + path, { headers });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text === '' ? null : JSON.parse(text) };
}

async function lookup(cache: string, body: unknown, headers: Record<string, string> = { authorization: auth }): Promise<Reply> {
  const res = await fetch(`${base}/v1/caches/${cache}/lookup`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text === '' ? null : JSON.parse(text) };
}

async function createUser(name: string, grants: ReadonlyArray<string>): Promise<string> {
  const user = `${name}_${suffix}`;
  users.push(user);
  await db.admin.query(`CREATE USER '${user}'@'%' IDENTIFIED BY 'pw'`);
  for (const g of grants) await db.admin.query(g.replaceAll('$user', `'${user}'@'%'`));
  return user;
}

let items: string;
let pairs: string;

before(async () => {
  db = await freshDatabase('http_read');
  await db.admin.query(`
    CREATE TABLE item (id INT PRIMARY KEY, title VARCHAR(50), fans BIGINT);
    INSERT INTO item VALUES (1, 'one', 10), (2, 'two', 20), (3, 'three', 30);
    CREATE TABLE pair (a INT, b VARCHAR(10), v INT, PRIMARY KEY (a, b));
    INSERT INTO pair VALUES (1, 'x', 100), (1, 'y', 101), (2, 'x', 200);
    CREATE TABLE other (id INT PRIMARY KEY);
  `);
  rotor = await startTestRotor(db, { httpRead: '127.0.0.1:0' });
  const http = rotor.rotor.httpRead;
  assert.ok(http !== null);
  base = `http://127.0.0.1:${http.port}`;
  auth = basic(db.user, db.password);
  items = await rotor.register('SELECT title, fans FROM item WHERE id = ?');
  pairs = await rotor.register('SELECT v FROM pair WHERE a = ? AND b = ?');
});

after(async () => {
  for (const u of users) await db.admin.query(`DROP USER IF EXISTS '${u}'@'%'`).catch(() => undefined);
  await rotor?.stop();
  await db?.drop();
});

describe('lookups', () => {
  it('reads one key by position, a miss filled from MariaDB, then a hit', async () => {
    const before = (await rotor.api<{ stats: { upqueries: number; hits: number } }>('GET', `/api/caches/${items}`)).body.stats;
    const first = await get(`/v1/caches/${items}?key=2`);
    assert.equal(first.status, 200);
    assert.deepEqual(first.body.rows, [{ title: 'two', fans: '20' }]);
    assert.deepEqual(first.body.columns, [{ name: 'title', type: 'VARCHAR' }, { name: 'fans', type: 'BIGINT' }]);
    assert.equal(first.body.cache, items);
    const second = await get(`/v1/caches/${items}?key=2`);
    assert.deepEqual(second.body, first.body);
    const after = (await rotor.api<{ stats: { upqueries: number; hits: number } }>('GET', `/api/caches/${items}`)).body.stats;
    assert.equal(after.upqueries - before.upqueries, 1, 'the miss asked MariaDB once');
    assert.ok(after.hits > before.hits, 'the second read was a hit');
  });

  it('answers a key without rows with no rows', async () => {
    const r = await get(`/v1/caches/${items}?key=99`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.rows, []);
  });

  it('binds a string as the same literal would be: key=02 is key 2 of an INT column', async () => {
    const r = await get(`/v1/caches/${items}?key=02`);
    assert.deepEqual(r.body.rows, [{ title: 'two', fans: '20' }]);
  });

  it('reads a key of two parameters by name, by table.column and by position', async () => {
    const byName = await get(`/v1/caches/${pairs}?a=1&b=y`);
    assert.equal(byName.status, 200, JSON.stringify(byName.body));
    assert.deepEqual(byName.body.rows, [{ v: 101 }]);
    assert.deepEqual((await get(`/v1/caches/${pairs}?b=y&pair.a=1`)).body.rows, [{ v: 101 }]);
    assert.deepEqual((await get(`/v1/caches/${pairs}?key=2&key=x`)).body.rows, [{ v: 200 }]);
  });

  it('reads several keys in one request, each with its own rows', async () => {
    const r = await lookup(items, { keys: [[1], [3], [99], ['2']] });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.results, [
      { key: [1], rows: [{ title: 'one', fans: '10' }] },
      { key: [3], rows: [{ title: 'three', fans: '30' }] },
      { key: [99], rows: [] },
      { key: ['2'], rows: [{ title: 'two', fans: '20' }] },
    ]);
    const two = await lookup(pairs, { keys: [[1, 'x'], [2, 'x']] });
    assert.deepEqual(two.body.results.map((x: { rows: unknown }) => x.rows), [[{ v: 100 }], [{ v: 200 }]]);
  });
});

describe('values', () => {
  it('gives every type as mysql2 reads the same SELECT over the text protocol (bytes as base64)', async () => {
    await db.admin.query(`
      CREATE TABLE typed (
        id INT PRIMARY KEY, ti TINYINT, si SMALLINT, mi MEDIUMINT UNSIGNED, i INT, bi BIGINT, bu BIGINT UNSIGNED,
        de DECIMAL(20,6), fl FLOAT, dbl DOUBLE, d DATE, t TIME(3), dt DATETIME(6), ts TIMESTAMP NULL, y YEAR,
        c CHAR(5), vc VARCHAR(40), tx TEXT, e ENUM('a','b'), st SET('x','y'), j JSON, bn BINARY(3), vb VARBINARY(8),
        bl BLOB, bt BIT(10)
      );
      INSERT INTO typed VALUES
        (1, -128, 32767, 16777215, -2147483648, -9223372036854775808, 18446744073709551615,
         -12345678901234.123456, 3.14159, 2.718281828459045, '2024-02-29', '-838:59:58.999', '2024-01-02 03:04:05.123456',
         '2038-01-19 03:14:07', 2155, 'ab', 'héllo wörld ✓ 😀', 'long "quoted" \\\\ text\\n', 'b', 'x,y', '{"k": [1, 2]}',
         0x00ff10, 0xdeadbeef, 0x0001fffe, b'1010101010'),
        (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
        (3, 0, 0, 0, 0, 9007199254740993, 0, 0.000001, 1e-7, -0.5e300, '1000-01-01', '00:00:00', '9999-12-31 23:59:59.999999',
         '1970-01-01 00:00:01', 1901, '', '', '', 'a', '', '[]', 0x000000, '', '', b'0');
    `);
    const typed = await rotor.register('SELECT * FROM typed WHERE id = ?');
    const direct = await mysql.createConnection({
      host: db.host, port: db.port, user: db.user, password: db.password, database: db.name,
      supportBigNumbers: true, bigNumberStrings: true, dateStrings: true,
    });
    try {
      for (const id of [1, 2, 3]) {
        const [rows] = await direct.query(`SELECT * FROM typed WHERE id = ${id}`);
        const expected = (rows as Array<Record<string, unknown>>).map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Buffer.isBuffer(v) ? v.toString('base64') : v])));
        for (let read = 0; read < 2; read++) {
          const r = await get(`/v1/caches/${typed}?key=${id}`);
          assert.equal(r.status, 200, JSON.stringify(r.body));
          assert.deepEqual(r.body.rows, expected, `row ${id}, read ${read} (${read === 0 ? 'the fill' : 'a hit'})`);
        }
      }
    } finally {
      await direct.end();
    }
  });
});

describe('who may read', () => {
  it('refuses an account without the grant with MariaDB\'s own error, and serves it once granted', async () => {
    const user = await createUser('low', [`GRANT SELECT ON ${db.name}.other TO $user`]);
    const refused = await get(`/v1/caches/${items}?key=1`, { authorization: basic(user, 'pw') });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.errno, 1142);
    assert.equal(refused.headers.get('etag'), null);
    // The account learns no more than that it may not read the cache: not the table behind it (MariaDB's own message names it).
    assert.doesNotMatch(refused.body.error.message, /\bitem\b/);
    // Nor what a cache it may not read would say to a reader that may (its LIMIT, its state).
    const limited = await rotor.register('SELECT title FROM item WHERE fans > 0 ORDER BY id LIMIT ?');
    const noLimit = await get(`/v1/caches/${limited}?key=1`, { authorization: basic(user, 'pw') });
    assert.equal(noLimit.status, 403, JSON.stringify(noLimit.body));
    await db.admin.query(`GRANT SELECT ON ${db.name}.item TO '${user}'@'%'`);
    await rotor.caughtUp();
    const served = await get(`/v1/caches/${items}?key=1`, { authorization: basic(user, 'pw') });
    assert.equal(served.status, 200, JSON.stringify(served.body));
    assert.deepEqual(served.body.rows, [{ title: 'one', fans: '10' }]);
    await db.admin.query(`REVOKE SELECT ON ${db.name}.item FROM '${user}'@'%'`);
    await rotor.caughtUp();
    assert.equal((await get(`/v1/caches/${items}?key=1`, { authorization: basic(user, 'pw') })).status, 403);
  });

  it('refuses a wrong password, and an account dropped since its login', async () => {
    const user = await createUser('pw', [`GRANT SELECT ON ${db.name}.item TO $user`]);
    const wrong = await get(`/v1/caches/${items}?key=1`, { authorization: basic(user, 'nope') });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error.errno, 1045);
    assert.match(wrong.headers.get('www-authenticate') ?? '', /Basic/);
    assert.equal((await get(`/v1/caches/${items}?key=1`, { authorization: basic(user, 'pw') })).status, 200);
    await db.admin.query(`DROP USER '${user}'@'%'`);
    await rotor.caughtUp();
    assert.equal((await get(`/v1/caches/${items}?key=1`, { authorization: basic(user, 'pw') })).status, 401);
  });

  it('asks MariaDB again at every check on an account\'s session (mysql2 keeps no prepared statement for it)', async () => {
    // A REVOKE the binlog does not carry (sql_log_bin=0, another server) is seen by the periodic
    // refresh only if the check after it reaches MariaDB: mysql2's prepare() answers a text it
    // prepared before on the connection from its own cache, without asking.
    const user = await createUser('probe', [`GRANT SELECT ON ${db.name}.item TO $user`]);
    const session = await openAccountSession({ host: db.host, port: db.port }, user, 'pw');
    assert.ok(!isLoginFailure(session));
    try {
      const sql = `SELECT title, fans FROM \`${db.name}\`.\`item\` WHERE id = ?`;
      assert.equal(await session.probe(sql, 'prepare'), null);
      await db.admin.query(`REVOKE SELECT ON ${db.name}.item FROM '${user}'@'%'`);
      const refused = await session.probe(sql, 'prepare');
      assert.equal(refused?.errno, 1142);
    } finally {
      session.close();
    }
  });

  it('refuses the old password of a remembered login once SET PASSWORD changed it', async () => {
    const user = await createUser('setpw', [`GRANT SELECT ON ${db.name}.item TO $user`]);
    assert.equal((await get(`/v1/caches/${items}?key=1`, { authorization: basic(user, 'pw') })).status, 200);
    await db.admin.query(`SET PASSWORD FOR '${user}'@'%' = PASSWORD('new')`);
    await rotor.caughtUp();
    assert.equal((await get(`/v1/caches/${items}?key=1`, { authorization: basic(user, 'pw') })).status, 401);
    assert.equal((await get(`/v1/caches/${items}?key=1`, { authorization: basic(user, 'new') })).status, 200);
  });

  it('refuses a read without credentials', async () => {
    const r = await get(`/v1/caches/${items}?key=1`, {});
    assert.equal(r.status, 401);
    assert.equal(r.body.error.code, 'ERR_HTTP_UNAUTHORIZED');
  });

  it('reads with a token of the cache until it is revoked; never another cache', async () => {
    const made = await rotor.api<{ token: string; id: string; label: string }>('POST', `/api/caches/${items}/tokens`, { label: 'dashboard' });
    assert.equal(made.status, 201);
    assert.match(made.body.token, /^rtk_/);
    const bearer = { authorization: `Bearer ${made.body.token}` };
    assert.deepEqual((await get(`/v1/caches/${items}?key=3`, bearer)).body.rows, [{ title: 'three', fans: '30' }]);
    const other = await get(`/v1/caches/${pairs}?a=1&b=x`, bearer);
    assert.equal(other.status, 403);
    const none = await get('/v1/caches/no_such_cache?key=1', bearer);
    assert.deepEqual([none.status, none.body.error.code], [403, 'ERR_HTTP_TOKEN_OTHER_CACHE'], 'a cache that does not exist looks like another one');
    const listed = await rotor.api<Array<Record<string, unknown>>>('GET', `/api/caches/${items}/tokens`);
    assert.deepEqual(listed.body.map((t) => t.id), [made.body.id]);
    assert.ok(!JSON.stringify(listed.body).includes(made.body.token), 'the token is shown once, never listed');
    assert.equal((await rotor.api('DELETE', `/api/caches/${items}/tokens/${made.body.id}`)).status, 204);
    const revoked = await get(`/v1/caches/${items}?key=3`, bearer);
    assert.equal(revoked.status, 401);
    assert.equal(revoked.body.error.code, 'ERR_HTTP_TOKEN_INVALID');
    assert.equal((await get(`/v1/caches/${items}?key=3`, { authorization: 'Bearer rtk_guessed' })).status, 401);
  });

  it('reads a public cache without credentials, until it is no longer public', async () => {
    assert.equal((await rotor.api('PUT', `/api/caches/${pairs}/public`, { public: true })).status, 200);
    const r = await get(`/v1/caches/${pairs}?a=2&b=x`, {});
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.rows, [{ v: 200 }]);
    assert.equal(r.headers.get('cache-control'), 'public, no-cache');
    assert.equal((await get(`/v1/caches/${items}?key=1`, {})).status, 401, 'only the cache marked public');
    await rotor.api('PUT', `/api/caches/${pairs}/public`, { public: false });
    assert.equal((await get(`/v1/caches/${pairs}?a=2&b=x`, {})).status, 401);
  });
});

describe('a cache over a table dropped and created again', () => {
  it('is registered again without the read tokens and public mark of the old one (same id)', async () => {
    await db.admin.query('CREATE TABLE gone (id INT PRIMARY KEY, secret VARCHAR(20)); INSERT INTO gone VALUES (1, \'old\')');
    await rotor.caughtUp();
    const old = await rotor.register('SELECT secret FROM gone WHERE id = ?');
    const made = await rotor.api<{ token: string }>('POST', `/api/caches/${old}/tokens`, {});
    await rotor.api('PUT', `/api/caches/${old}/public`, { public: true });
    assert.equal((await get(`/v1/caches/${old}?key=1`, {})).status, 200);
    await db.admin.query('DROP TABLE gone');
    await until('the cache to be retired', 20_000, async () => (await rotor.api<{ status: string }>('GET', `/api/caches/${old}`)).body.status === 'dropped');
    await db.admin.query('CREATE TABLE gone (id INT PRIMARY KEY, secret VARCHAR(20)); INSERT INTO gone VALUES (1, \'new\')');
    await rotor.caughtUp();
    const again = await rotor.register('SELECT secret FROM gone WHERE id = ?');
    assert.equal(again, old, 'the same statement, the same id');
    assert.equal((await get(`/v1/caches/${again}?key=1`, {})).status, 401, 'not public');
    assert.equal((await get(`/v1/caches/${again}?key=1`, { authorization: `Bearer ${made.body.token}` })).status, 401, 'the old token is no more');
    assert.deepEqual((await rotor.api<unknown[]>('GET', `/api/caches/${again}/tokens`)).body, []);
  });
});

describe('freshness headers', () => {
  it('gives the position and lag, a new ETag once a write reached the key, and 304 to a revalidation', async () => {
    const first = await get(`/v1/caches/${items}?key=1`);
    const etag = first.headers.get('etag');
    assert.ok(etag !== null && /^"[^"]+"$/.test(etag));
    assert.match(first.headers.get('rotor-binlog-position') ?? '', /^.+:\d+$/);
    assert.match(first.headers.get('rotor-gtid') ?? '', /^\d+-\d+-\d+/);
    assert.match(first.headers.get('rotor-lag-ms') ?? '', /^\d+$/);
    assert.equal(first.headers.get('cache-control'), 'private, no-cache');
    const same = await fetch(`${base}/v1/caches/${items}?key=1`, { headers: { authorization: auth, 'if-none-match': etag } });
    assert.equal(same.status, 304);
    assert.equal(await same.text(), '');

    await db.admin.query('UPDATE item SET fans = fans + 1 WHERE id = 1');
    const changed = await until('the write reaches the key', 20_000, async () => {
      const r = await get(`/v1/caches/${items}?key=1`);
      return r.headers.get('etag') !== etag ? r : null;
    });
    assert.deepEqual(changed.body.rows, [{ title: 'one', fans: '11' }]);
    const stale = await fetch(`${base}/v1/caches/${items}?key=1`, { headers: { authorization: auth, 'if-none-match': etag } });
    assert.equal(stale.status, 200, 'the old tag no longer matches');
    await stale.text();
    assert.equal((await fetch(`${base}/v1/caches/${items}?key=1`, { headers: { authorization: auth, 'if-none-match': changed.headers.get('etag') as string } })).status, 304);
  });
});

describe('bad input', () => {
  it('answers an unknown cache with 404', async () => {
    const r = await get('/v1/caches/no_such_cache?key=1');
    assert.equal(r.status, 404);
    assert.equal(r.body.error.errno, 1146);
  });

  it('answers a wrong parameter count, an unknown parameter and a value that is no key with 400', async () => {
    for (const path of [`/v1/caches/${pairs}?key=1`, `/v1/caches/${pairs}?a=1`, `/v1/caches/${pairs}?a=1&c=2`, `/v1/caches/${items}?key=abc`, `/v1/caches/${items}`, `/v1/caches/${pairs}?key=1&b=x`]) {
      const r = await get(path);
      assert.equal(r.status, 400, path);
      assert.equal(r.body.error.code, 'ERR_HTTP_BAD_KEY', path);
      assert.equal(r.body.error.errno, 1210);
    }
    const count = await lookup(items, { keys: [[1, 2]] });
    assert.equal(count.status, 400);
    assert.match(count.body.error.message, /1 parameter/);
  });

  it('answers a read of a range cache with 400: its reads are SQL only ([note: range-state])', async () => {
    const range = await rotor.register('SELECT title FROM item WHERE id > ? ORDER BY id LIMIT 2');
    const r = await get(`/v1/caches/${range}?key=1`);
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, 'ERR_HTTP_BAD_KEY');
    assert.match(r.body.error.message, /range/);
  });

  it('answers malformed JSON, a wrong body shape and a wrong content type with 400/415', async () => {
    const bad = await lookup(items, '{"keys": [[1]');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'ERR_HTTP_BAD_JSON');
    assert.equal((await lookup(items, { key: [[1]] })).status, 400);
    assert.equal((await lookup(items, { keys: [[true]] })).status, 400);
    assert.equal((await lookup(items, '{"keys": [[1]], "keys": [[2]]}')).status, 400);
    const res = await fetch(`${base}/v1/caches/${items}/lookup`, { method: 'POST', headers: { 'content-type': 'text/plain', authorization: auth }, body: '{"keys": [[1]]}' });
    assert.equal(res.status, 415);
    await res.text();
  });

  it('answers a huge body with 413', async () => {
    const keys = Array.from({ length: 100_000 }, (_, i) => [i]);
    const r = await lookup(items, { keys }).catch((e: unknown) => e);
    // The listener answers before reading the rest; a client may see the closed connection first.
    if (r instanceof Error) assert.match(String(r.cause ?? r.message), /socket|closed|reset|EPIPE/i);
    else {
      assert.equal((r as Reply).status, 413);
      assert.equal((r as Reply).body.error.code, 'ERR_HTTP_BODY_TOO_LARGE');
    }
  });

  it('answers an unknown route with 404 and a wrong method with 405', async () => {
    assert.equal((await get('/v2/caches/x')).status, 404);
    const del = await fetch(`${base}/v1/caches/${items}`, { method: 'DELETE', headers: { authorization: auth } });
    assert.equal(del.status, 405);
    assert.equal(del.headers.get('allow'), 'GET, HEAD');
    await del.text();
    assert.equal((await get('/v1/health', {})).status, 200);
  });

  it('refuses a client address after repeated failed logins (429), before asking the upstream', async () => {
    const bad = { authorization: basic('nobody', 'guess') };
    let last: Reply | null = null;
    for (let i = 0; i < 12; i++) last = await get(`/v1/caches/${items}?key=1`, bad);
    assert.equal(last?.status, 429);
    assert.equal(last?.body.error.errno, 1129);
    assert.ok(Number(last?.headers.get('retry-after')) > 0);
  });
});

describe('over TLS', () => {
  it('speaks HTTPS with --tls-cert and --tls-key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rotor-http-tls-'));
    const gen = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
      '-days', '1', '-subj', '/CN=localhost'], { encoding: 'utf8' });
    assert.equal(gen.status, 0, gen.stderr);
    const secure = await startTestRotor(db, { httpRead: '127.0.0.1:0', tlsCert: readFileSync(join(dir, 'cert.pem'), 'utf8'), tlsKey: readFileSync(join(dir, 'key.pem'), 'utf8') });
    try {
      const id = await secure.register('SELECT title, fans FROM item WHERE id = ?');
      const port = secure.rotor.httpRead?.port;
      const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        https.get({ host: '127.0.0.1', port, path: `/v1/caches/${id}?key=3`, rejectUnauthorized: false, headers: { authorization: auth } }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        }).on('error', reject);
      });
      assert.equal(status, 200, body);
      assert.deepEqual(JSON.parse(body).rows, [{ title: 'three', fans: '30' }]);
    } finally {
      await secure.stop();
    }
  });
});
