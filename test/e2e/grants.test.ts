/**
 * [note: cached-grants] A cached answer goes only to a session whose user could run the SELECT
 * upstream: low-privilege accounts through Rotor get MariaDB's own errors before a GRANT, cached
 * answers after it, errors again once a REVOKE or DROP USER has reached the binlog; roles and
 * column grants count as MariaDB counts them; cache commands need PROCESS and SELECT.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import mysql from 'mysql2/promise';
import { freshDatabase, type TestDatabase } from '../support/servers.js';
import { startTestRotor, type TestRotor } from '../support/rotor.js';
import { CLIENT_CAPS, RawClient, nativeToken } from '../proxy/support.js';
import { encodeHandshakeResponse, type ServerHandshake } from '../../src/proxy/protocol/handshake.js';
import { PacketWriter } from '../../src/proxy/protocol/packet-writer.js';
import { Com } from '../../src/proxy/protocol/constants.js';

let db: TestDatabase;
let rotor: TestRotor;
let cacheId: string;
const suffix = Math.random().toString(36).slice(2, 8);
const users: string[] = [];
const SECRET = 'SELECT v FROM secret WHERE id = 1';

/** A fresh account with a password, through which the test connects to Rotor. */
async function createUser(name: string, grants: ReadonlyArray<string> = []): Promise<string> {
  const user = `${name}_${suffix}`;
  users.push(user);
  await db.admin.query(`CREATE USER '${user}'@'%' IDENTIFIED BY 'pw'`);
  for (const g of grants) await db.admin.query(g.replaceAll('$user', `'${user}'@'%'`));
  return user;
}

function connect(user: string): Promise<mysql.Connection> {
  return mysql.createConnection({ host: rotor.rotor.listen.host, port: rotor.rotor.listen.port, user, password: 'pw', database: db.name });
}

/** The rows ('ok' for an OK packet), or the errno MariaDB (or Rotor) answered with. */
async function attempt(conn: mysql.Connection, sql = SECRET): Promise<unknown[] | number | 'ok'> {
  try {
    const [rows] = await conn.query({ sql, rowsAsArray: true });
    return Array.isArray(rows) ? rows : 'ok';
  } catch (e) {
    return (e as { errno: number }).errno;
  }
}

async function hits(): Promise<number> {
  return (await rotor.api<{ stats: { hits: number } }>('GET', `/api/caches/${cacheId}`)).body.stats.hits;
}

before(async () => {
  db = await freshDatabase('grants');
  await db.admin.query(`
    CREATE TABLE secret (id INT PRIMARY KEY, v VARCHAR(20));
    CREATE TABLE pub (id INT PRIMARY KEY, v VARCHAR(20));
    INSERT INTO secret VALUES (1, 'classified');
    INSERT INTO pub VALUES (1, 'public');
  `);
  rotor = await startTestRotor(db);
  const res = await rotor.api<{ id: string }>('POST', '/api/caches', { sql: 'SELECT v FROM secret WHERE id = ?', database: db.name });
  assert.equal(res.status, 201);
  cacheId = res.body.id;
  // The test's own account warms the key, so a leak would be a hit.
  const owner = await rotor.connect();
  await owner.query(SECRET);
  await owner.query(SECRET);
  await owner.end();
});

after(async () => {
  for (const u of users) await db.admin.query(`DROP USER IF EXISTS '${u}'@'%'`).catch(() => undefined);
  await rotor?.stop();
  await db?.drop();
});

describe('cached reads honour grants', () => {
  it('refuses before a GRANT, serves after it, refuses again once the REVOKE is applied', async () => {
    const user = await createUser('low', [`GRANT SELECT ON ${db.name}.pub TO $user`]);
    const conn = await connect(user);
    try {
      assert.equal(await attempt(conn), 1142, "MariaDB's own error, not the cached row");
      assert.equal(await attempt(conn), 1142);
      assert.deepEqual(await attempt(conn, 'SELECT v FROM pub WHERE id = 1'), [['public']]);

      await db.admin.query(`GRANT SELECT ON ${db.name}.secret TO '${user}'@'%'`);
      await rotor.caughtUp();
      const before = await hits();
      for (let i = 0; i < 3; i++) assert.deepEqual(await attempt(conn), [['classified']]);
      assert.ok((await hits()) - before >= 2, 'after the first read the user is served from the cache');

      await db.admin.query(`REVOKE SELECT ON ${db.name}.secret FROM '${user}'@'%'`);
      await rotor.caughtUp();
      assert.equal(await attempt(conn), 1142, 'no cached read once the REVOKE has reached Rotor');
    } finally {
      await conn.end();
    }
  });

  it('refuses a dropped user, as MariaDB does', async () => {
    const user = await createUser('gone', [`GRANT SELECT ON ${db.name}.secret TO $user`]);
    const conn = await connect(user);
    try {
      assert.deepEqual(await attempt(conn), [['classified']]);
      assert.deepEqual(await attempt(conn), [['classified']]);
      await db.admin.query(`DROP USER '${user}'@'%'`);
      await rotor.caughtUp();
      const viaRotor = await attempt(conn);
      assert.equal(typeof viaRotor, 'number', `a dropped user's read is not served (got ${JSON.stringify(viaRotor)})`);
    } finally {
      await conn.end();
    }
  });

  it('follows roles: granted but not set is refused, SET ROLE serves, SET ROLE NONE refuses', async () => {
    const role = `reader_${suffix}`;
    await db.admin.query(`CREATE ROLE ${role}`);
    await db.admin.query(`GRANT SELECT ON ${db.name}.secret TO ${role}`);
    const user = await createUser('roled', [`GRANT ${role} TO $user`, `GRANT SELECT ON ${db.name}.pub TO $user`]);
    const conn = await connect(user);
    try {
      await rotor.caughtUp();
      assert.equal(await attempt(conn), 1142);
      await conn.query(`SET ROLE ${role}`);
      const before = await hits();
      assert.deepEqual(await attempt(conn), [['classified']]);
      assert.deepEqual(await attempt(conn), [['classified']]);
      assert.ok((await hits()) > before, 'served from the cache with the role set');
      await conn.query('SET ROLE NONE');
      assert.equal(await attempt(conn), 1142);
      // A new session of the same user starts without the role (no default role).
      const other = await connect(user);
      assert.equal(await attempt(other), 1142);
      await other.end();
    } finally {
      await conn.end();
      await db.admin.query(`DROP ROLE ${role}`);
    }
  });

  it('follows column grants', async () => {
    const user = await createUser('cols', [`GRANT SELECT (id) ON ${db.name}.secret TO $user`]);
    const conn = await connect(user);
    try {
      assert.equal(await attempt(conn), 1143, 'no grant on column v');
      assert.equal(await attempt(conn), 1143);
    } finally {
      await conn.end();
    }
  });

  it('re-checks grants changed without the binlog on the periodic refresh', async () => {
    const fast = await startTestRotor(db, { privilegeRefresh: '200' });
    const user = await createUser('quiet', [`GRANT SELECT ON ${db.name}.secret TO $user`]);
    await fast.api('POST', '/api/caches', { sql: 'SELECT v FROM secret WHERE id = ?', database: db.name });
    const conn = await mysql.createConnection({ host: fast.rotor.listen.host, port: fast.rotor.listen.port, user, password: 'pw', database: db.name });
    try {
      assert.deepEqual(await attempt(conn), [['classified']]);
      assert.deepEqual(await attempt(conn), [['classified']]);
      await db.admin.query(`SET SESSION sql_log_bin = 0; REVOKE SELECT ON ${db.name}.secret FROM '${user}'@'%'; SET SESSION sql_log_bin = 1`);
      let answer: unknown[] | number | 'ok' = [];
      for (let i = 0; i < 50 && typeof answer !== 'number'; i++) {
        await sleep(100);
        answer = await attempt(conn);
      }
      assert.equal(answer, 1142, 'refused after a refresh, with no binlog event to say so');
    } finally {
      await conn.end();
      await fast.stop();
    }
  });
});

describe('a session cannot get a cached answer by making MariaDB read something else', () => {
  // Each of these once made Rotor take the client's own statement as proof of the grant.
  const other = `other_${suffix}`;

  before(async () => {
    await db.admin.query(`CREATE DATABASE ${other}; CREATE TABLE ${other}.secret (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO ${other}.secret VALUES (1, 'mine');
      CREATE TABLE ${other}.pub (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO ${other}.pub VALUES (1, 'own');
      CREATE FUNCTION ${other}.shadow() RETURNS INT DETERMINISTIC MODIFIES SQL DATA BEGIN CREATE TEMPORARY TABLE ${db.name}.secret (id INT PRIMARY KEY, v VARCHAR(20)); RETURN 1; END`);
  });

  after(async () => {
    await db.admin.query(`DROP DATABASE IF EXISTS ${other}`);
  });

  async function attacker(name: string): Promise<string> {
    return createUser(name, [`GRANT SELECT ON ${db.name}.pub TO $user`, `GRANT CREATE TEMPORARY TABLES ON ${db.name}.* TO $user`, `GRANT ALL ON ${other}.* TO $user`]);
  }

  /** The attacker's next sessions still get MariaDB's error for the cached query. */
  async function stillRefused(user: string): Promise<void> {
    const fresh = await connect(user);
    try {
      assert.equal(await attempt(fresh), 1142);
      assert.equal(await attempt(fresh), 1142);
    } finally {
      await fresh.end();
    }
  }

  it('an executable comment that makes MariaDB read another table', async () => {
    const user = await attacker('mcomment');
    const conn = await connect(user);
    try {
      assert.deepEqual(await attempt(conn, 'SELECT v FROM /*M! pub AS */ secret WHERE id = 1'), [['public']]);
      assert.equal(await attempt(conn), 1142);
      assert.notDeepEqual(await attempt(conn, "SELECT v FROM /*M! pub WHERE id = 1 AND 'x' <> '*/ secret WHERE id = 1 /*M!'*/"), [['classified']]);
      assert.equal(await attempt(conn), 1142);
    } finally {
      await conn.end();
    }
    await stillRefused(user);
  });

  it('a temporary table that shadows the cached table', async () => {
    const user = await attacker('shadow');
    const conn = await connect(user);
    try {
      await conn.query('CREATE/**/TEMPORARY TABLE secret (id INT PRIMARY KEY, v VARCHAR(20))');
      assert.deepEqual(await attempt(conn), [], 'MariaDB reads the empty temporary table');
      assert.deepEqual(await attempt(conn), []);
    } finally {
      await conn.end();
    }
    await stillRefused(user);
  });

  for (const [how, create] of [
    ['a compound statement', (name: string) => `BEGIN NOT ATOMIC EXECUTE IMMEDIATE CONCAT('CREATE TEMPO','RARY TABLE ${name} (id INT PRIMARY KEY, v VARCHAR(20))'); END`],
    ['a stored function called by a SELECT', () => `SELECT ${other}.shadow()`],
  ] as const) {
    it(`a temporary table created by ${how}, which Rotor does not see`, async () => {
      const user = await attacker(how.replace(/\W/g, '').slice(0, 10));
      const conn = await connect(user);
      try {
        await conn.query(create(`${db.name}.secret`));
        assert.deepEqual(await attempt(conn), [], 'MariaDB reads the empty temporary table');
        assert.deepEqual(await attempt(conn), []);
      } finally {
        await conn.end();
      }
      await stillRefused(user);
    });
  }

  it('cache commands refuse a table shadowed by a temporary table of the session', async () => {
    const user = await createUser('tmpproc', ['GRANT PROCESS ON *.* TO $user', `GRANT SELECT ON ${db.name}.pub TO $user`, `GRANT CREATE TEMPORARY TABLES ON ${db.name}.* TO $user`]);
    const conn = await connect(user);
    try {
      await conn.query('CREATE TEMPORARY TABLE secret (id INT PRIMARY KEY, v VARCHAR(20))');
      assert.equal(await attempt(conn, `DROP CACHE ${cacheId}`), 1235);
      assert.equal(await attempt(conn, 'CREATE CACHE FROM SELECT id FROM secret WHERE v = ?'), 1235);
      assert.equal((await rotor.api('GET', `/api/caches/${cacheId}`)).status, 200, 'the cache is still there');
    } finally {
      await conn.end();
    }
  });

  it('commands pipelined with the login run after it, seen by Rotor, never as answers to its checks', async () => {
    const user = await attacker('pipeliner');
    const c = await RawClient.open(rotor.rotor.listen.port);
    const hs = c.handshake as ServerHandshake;
    const login = encodeHandshakeResponse({
      capabilities: CLIENT_CAPS, maxPacket: 1 << 24, charset: 45, mariadbCapabilities: 0, user, authResponse: nativeToken('pw', hs.scramble),
      database: db.name, authPlugin: 'mysql_native_password', attributes: null,
    }, 1);
    const query = (sql: string): Buffer => new PacketWriter(sql.length + 16).begin(0).u8(Com.QUERY).string(sql).end().finish();
    try {
      // Login and two slow statements in one write: the statements' answers must not arrive
      // while Rotor checks the user's grants for the cached read that follows.
      c.socket.write(Buffer.concat([login, query('DO SLEEP(0.3)'), query("SELECT 'secret' AS `Table`, SLEEP(0.3) AS `Create Table`")]));
      assert.equal((await c.read()).payload[0], 0x00, 'logged in');
      c.socket.write(query(SECRET));
      for (;;) {
        const p = await c.read();
        assert.ok(!p.payload.includes(Buffer.from('classified')), 'no cached row');
        if (p.payload[0] === 0xff && p.payload.readUInt16LE(1) === 1142) break;
      }
    } finally {
      c.end();
    }
  });

  it('a statement prepared in one database and executed after USE of another still reads the first, as in MariaDB', async () => {
    const reg = await rotor.api<{ id: string }>('POST', '/api/caches', { sql: 'SELECT v FROM pub WHERE id = ?', database: db.name });
    const conn = await rotor.connect();
    try {
      const stmt = await conn.prepare('SELECT v FROM pub WHERE id = ?');
      for (let i = 0; i < 2; i++) assert.deepEqual(((await stmt.execute([1]))[0] as Array<{ v: string }>).map((r) => r.v), ['public']);
      await conn.query(`USE ${other}`);
      for (let i = 0; i < 2; i++) assert.deepEqual(((await stmt.execute([1]))[0] as Array<{ v: string }>).map((r) => r.v), ['public'], 'MariaDB resolves tables at prepare');
      stmt.close();
    } finally {
      await conn.end();
      await rotor.api('DELETE', `/api/caches/${reg.body.id}`);
    }
  });

  it('a join whose first table names another database is matched only in the database of its other tables', async () => {
    const reg = await rotor.api<{ id: string }>('POST', '/api/caches', { sql: `SELECT s.v FROM ${other}.pub p JOIN secret s ON s.id = p.id WHERE p.id = ?`, database: db.name });
    assert.equal(reg.status, 201);
    const owner = await rotor.connect();
    await owner.query(`SELECT s.v FROM ${other}.pub p JOIN secret s ON s.id = p.id WHERE p.id = 1`);
    await owner.end();
    const user = await attacker('joiner');
    const conn = await mysql.createConnection({ host: rotor.rotor.listen.host, port: rotor.rotor.listen.port, user, password: 'pw', database: other });
    try {
      for (let i = 0; i < 2; i++) assert.deepEqual(await attempt(conn, `SELECT s.v FROM ${other}.pub p JOIN secret s ON s.id = p.id WHERE p.id = 1`), [['mine']], 'its own database\'s secret, as MariaDB reads it');
    } finally {
      await conn.end();
    }
  });

  it('a USE Rotor cannot follow, into a database where the user owns a table of the same name', async () => {
    const user = await attacker('elsewhere');
    const conn = await mysql.createConnection({ host: rotor.rotor.listen.host, port: rotor.rotor.listen.port, user, password: 'pw', database: db.name, flags: ['-SESSION_TRACK'] });
    try {
      await conn.query(`USE/**/${other}`);
      assert.deepEqual(await attempt(conn), [['mine']]);
      assert.deepEqual(await attempt(conn), [['mine']], 'its own table, not the cached rows');
    } finally {
      await conn.end();
    }
    await stillRefused(user);
  });

  it('a REVOKE written inside an executable comment is seen in the binlog', async () => {
    const user = await createUser('mrevoke', [`GRANT SELECT ON ${db.name}.secret TO $user`]);
    const conn = await connect(user);
    try {
      assert.deepEqual(await attempt(conn), [['classified']]);
      assert.deepEqual(await attempt(conn), [['classified']]);
      await db.admin.query(`/*M! REVOKE SELECT ON ${db.name}.secret FROM '${user}'@'%' */`);
      await rotor.caughtUp();
      assert.equal(await attempt(conn), 1142);
    } finally {
      await conn.end();
    }
  });

  it('DROP CACHE needs SELECT on the cache\'s tables whatever the current database', async () => {
    const user = await createUser('dropper', ['GRANT PROCESS ON *.* TO $user', `GRANT ALL ON ${other}.* TO $user`]);
    const conn = await mysql.createConnection({ host: rotor.rotor.listen.host, port: rotor.rotor.listen.port, user, password: 'pw', database: other });
    try {
      assert.equal(await attempt(conn, `DROP CACHE ${cacheId}`), 1142);
      assert.notEqual(await attempt(conn, 'CREATE CACHE FROM SELECT id FROM /*M! pub AS */ secret WHERE v = ?'), 'ok');
      assert.equal(await attempt(conn, `CREATE CACHE FROM SELECT id FROM ${db.name}.secret WHERE v = ?`), 1142);
      assert.equal((await rotor.api('GET', `/api/caches/${cacheId}`)).status, 200, 'the cache is still there');
    } finally {
      await conn.end();
    }
  });
});

describe('cache commands need PROCESS and SELECT', () => {
  it('refuses CREATE, DROP and SHOW CACHES without PROCESS, with MariaDB\'s 1227', async () => {
    const user = await createUser('noproc', [`GRANT SELECT ON ${db.name}.* TO $user`]);
    const conn = await connect(user);
    try {
      assert.equal(await attempt(conn, 'CREATE CACHE FROM SELECT v FROM pub WHERE id = ?'), 1227);
      assert.equal(await attempt(conn, `DROP CACHE ${cacheId}`), 1227);
      assert.equal(await attempt(conn, 'SHOW CACHES'), 1227);
      assert.equal(await attempt(conn, 'DROP ALL CACHES'), 1227);
      assert.equal(await attempt(conn, 'EXPLAIN CACHE SELECT v FROM pub WHERE id = ?'), 1227);
      assert.equal(await attempt(conn, 'SHOW PROXIED QUERIES'), 1227, 'other sessions\' statements are PROCESS\'s to see');
      assert.ok((await rotor.api('GET', `/api/caches/${cacheId}`)).status === 200, 'the cache is still there');
    } finally {
      await conn.end();
    }
  });

  it('refuses CREATE CACHE over a table the user cannot read, and allows it over one it can', async () => {
    const user = await createUser('proc', ['GRANT PROCESS ON *.* TO $user', `GRANT SELECT ON ${db.name}.pub TO $user`]);
    const conn = await connect(user);
    try {
      assert.equal(await attempt(conn, 'CREATE CACHE FROM SELECT id FROM secret WHERE v = ?'), 1142);
      assert.equal(await attempt(conn, 'EXPLAIN CACHE SELECT id FROM secret WHERE v = ?'), 1142, 'no dry run over a table the user cannot read');
      assert.equal(await attempt(conn, 'CREATE CACHE pub_by_id FROM SELECT v FROM pub WHERE id = ?'), 'ok');
      const shown = await attempt(conn, 'SHOW CACHES');
      assert.ok(Array.isArray(shown) && shown.some((r) => (r as unknown[])[1] === 'pub_by_id'));
      assert.equal(await attempt(conn, `DROP CACHE ${cacheId}`), 1142, 'dropping a cache over a table the user cannot read');
      assert.equal(await attempt(conn, 'DROP ALL CACHES'), 1142, 'one cache the user cannot read refuses the whole statement');
      assert.ok((await rotor.api('GET', '/api/caches/pub_by_id')).status === 200, 'nothing was dropped');
      assert.equal(await attempt(conn, 'DROP CACHE pub_by_id'), 'ok');
    } finally {
      await conn.end();
    }
  });
});
