import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import * as mariadb from 'mariadb';
import { freshDatabase, type TestDatabase } from '../support/servers.js';
import { CLIENT_CAPS, RawClient, startProxy, type RunningProxy } from './support.js';
import { Cap, Com } from '../../src/proxy/protocol/constants.js';
import { decodeErr } from '../../src/proxy/protocol/generic-response.js';

let db: TestDatabase;
let rotor: RunningProxy;

before(async () => {
  db = await freshDatabase('proxy_cli');
  const dir = mkdtempSync(join(tmpdir(), 'rotor-tls-'));
  const gen = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    '-days', '1', '-subj', '/CN=localhost'], { encoding: 'utf8' });
  assert.equal(gen.status, 0, gen.stderr);
  rotor = await startProxy({ host: db.host, port: db.port }, {
    tls: { cert: readFileSync(join(dir, 'cert.pem')), key: readFileSync(join(dir, 'key.pem')) },
  });
});

after(async () => {
  await rotor?.close();
  await db?.drop();
});

interface CliResult { out: string; err: string; status: number | null }

/** Runs a command without blocking the event loop (Rotor runs in this process). */
export function run(cmd: string, args: string[], stdin = ''): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args);
    child.stdin.end(stdin);
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (status) => resolve({ out, err, status }));
  });
}

/** The CLI reading a script from stdin (with -e, --force does not continue after an error). */
function cli(port: number, sql: string, password = db.password): Promise<CliResult> {
  return run('mariadb', ['-h127.0.0.1', `-P${port}`, `-u${db.user}`, `-p${password}`, '--batch', '--force', '--skip-ssl', db.name], sql);
}

test('the mariadb CLI in batch mode prints the same through Rotor as direct, errors and warnings included', async () => {
  const script = `
    CREATE TABLE c (id INT PRIMARY KEY, s VARCHAR(20), d DECIMAL(8,3), f FLOAT, t DATETIME(6), n INT NULL);
    INSERT INTO c VALUES (1, 'a\\tb', 1.5, 0.1, '2024-01-02 03:04:05.678901', NULL), (2, 'é', -2, 1e10, '1970-01-01 00:00:00', 3);
    SELECT * FROM c ORDER BY id;
    SELECT COUNT(*) AS n, SUM(d) FROM c;
    SELECT CAST('x' AS SIGNED); SHOW WARNINGS;
    SELECT * FROM missing_table;
    UPDATE c SET n = 7 WHERE id = 2; SELECT ROW_COUNT();
    USE mysql; SELECT DATABASE();
    SELECT 1; SELECT 2;
    USE ${db.name};
    SHOW COLUMNS FROM ${db.name}.c;
    DROP TABLE ${db.name}.c;
  `;
  const direct = await cli(db.port, script);
  const proxied = await cli(rotor.port, script);
  assert.ok(direct.out.includes('a\\tb'), direct.out + direct.err);
  // Both runs share one database: the table created by the first was dropped at its end.
  assert.deepEqual(proxied, direct);
  assert.match(direct.err, /ERROR 1146 \(42S02\)/);
});

test('a wrong password gets upstream\'s own 1045 / 28000 through Rotor', async () => {
  const r = await cli(rotor.port, 'SELECT 1', 'wrong');
  assert.match(r.err, /ERROR 1045 \(28000\): Access denied for user 'rotor'/);
  await assert.rejects(
    mysql.createConnection({ host: '127.0.0.1', port: rotor.port, user: db.user, password: 'nope' }),
    (e: { errno: number; sqlState: string }) => e.errno === 1045 && e.sqlState === '28000',
  );
});

test('a client starting with caching_sha2_password is switched to mysql_native_password and logs in', async () => {
  const { client, reply } = await RawClient.login(rotor.port, db.user, db.password, db.name, 'caching_sha2_password');
  assert.equal(reply.payload[0], 0x00, 'OK after the auth switch');
  assert.equal(reply.seq, 4);
  client.send(0, Buffer.from([Com.QUERY, ...Buffer.from('SELECT 42')]));
  const first = await client.read();
  assert.equal(first.payload[0], 1, 'one column');
  client.end();
});

test('STARTTLS: a client asking for TLS gets it, and queries work over it', async () => {
  const c = await mysql.createConnection({
    host: '127.0.0.1', port: rotor.port, user: db.user, password: db.password, database: db.name, ssl: { rejectUnauthorized: false },
  });
  try {
    const [rows] = await c.query('SELECT 7 AS seven');
    assert.deepEqual(rows, [{ seven: 7 }]);
  } finally {
    await c.end();
  }
  const r = await run('mariadb', ['-h127.0.0.1', `-P${rotor.port}`, `-u${db.user}`, `-p${db.password}`, '--ssl', '--batch', '-e', 'SELECT 1']);
  assert.equal(r.status, 0, r.err);
});

test('COM_FIELD_LIST, COM_STATISTICS and COM_PING get upstream\'s answers; an unknown command gets ERR 1047 and the session goes on', async () => {
  await db.admin.query('CREATE TABLE fl (a INT, b TEXT)');
  const { client } = await RawClient.login(rotor.port, db.user, db.password, db.name);
  client.send(0, Buffer.from([Com.FIELD_LIST, ...Buffer.from('fl'), 0]));
  const defs = [await client.read(), await client.read(), await client.read()];
  assert.equal(defs[2].payload[0], 0xfe, 'EOF after two definitions');
  client.send(0, Buffer.from([Com.STATISTICS]));
  assert.match((await client.read()).payload.toString(), /Uptime/);
  client.send(0, Buffer.from([0x42]));
  const err = await client.read();
  assert.equal(err.seq, 1);
  assert.equal(decodeErr(err.payload).errno, 1047);
  client.send(0, Buffer.from([Com.PING]));
  assert.equal((await client.read()).payload[0], 0x00);
  client.end();
});

test('compression is not offered: a client that wants it runs uncompressed, one that sets the flag anyway gets ERR 1235; maxClients refuses the client beyond it with 1040', async () => {
  const wants = await mariadb.createConnection({ host: '127.0.0.1', port: rotor.port, user: db.user, password: db.password, compress: true });
  assert.deepEqual(await wants.query("SHOW STATUS LIKE 'Compression'"), [{ Variable_name: 'Compression', Value: 'OFF' }]);
  await wants.end();
  const { client, reply } = await RawClient.login(rotor.port, db.user, db.password, db.name, 'mysql_native_password', (CLIENT_CAPS | Cap.COMPRESS) >>> 0);
  assert.equal(reply.seq, 2);
  const err = decodeErr(reply.payload);
  assert.equal(err.errno, 1235);
  assert.equal(err.sqlState, '42000');
  assert.match(err.message, /compression/);
  await client.closedByServer();

  const small = await startProxy({ host: db.host, port: db.port }, { maxClients: 1 });
  const first = await mysql.createConnection({ host: '127.0.0.1', port: small.port, user: db.user, password: db.password });
  await assert.rejects(
    mysql.createConnection({ host: '127.0.0.1', port: small.port, user: db.user, password: db.password }),
    (e: { errno: number }) => e.errno === 1040,
  );
  await first.end();
  await small.close();
});
