/**
 * TLS between Rotor and the upstream session, against a private MariaDB of its own with TLS on
 * (certificates made here with openssl), so a `REQUIRE SSL` account can log in through Rotor.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { MARIADB_PASSWORD, MARIADB_USER, startMariaDb, stopServer, type PrivateServer } from '../../scripts/private-server.js';
import { mariadbUrl } from '../support/servers.js';
import { RawClient, startProxy, type RunningProxy } from './support.js';
import { Com } from '../../src/proxy/protocol/constants.js';
import type { UpstreamTlsOptions } from '../../src/proxy/upstream-tls.js';

const NAME = 'proxy-tls';
const USER = 'tls_only';
const PASSWORD = 'tls-pw';
let server: PrivateServer;
let dir: string;
let ca: Buffer;
let otherCa: Buffer;
const proxies: RunningProxy[] = [];

/** Runs a command without blocking the event loop (Rotor runs in this process). */
function run(cmd: string, args: string[]): Promise<{ out: string; err: string; status: number | null }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (status) => resolve({ out, err, status }));
  });
}

function openssl(...args: string[]): void {
  const r = spawnSync('openssl', args, { encoding: 'utf8', cwd: dir });
  assert.equal(r.status, 0, r.stderr);
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rotor-upstream-tls-'));
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Rotor test CA');
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'other.key', '-out', 'other.pem', '-days', '2', '-subj', '/CN=Another CA');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'san.ext');
  ca = readFileSync(join(dir, 'ca.pem'));
  otherCa = readFileSync(join(dir, 'other.pem'));
  // A server left running by an earlier run holds that run's certificates: start afresh.
  await stopServer('mariadb', NAME);
  server = await startMariaDb(NAME, {
    extraConfig: [`ssl-ca=${join(dir, 'ca.pem')}`, `ssl-cert=${join(dir, 'server.pem')}`, `ssl-key=${join(dir, 'server.key')}`],
  });
  const admin = await mysql.createConnection({ host: server.host, port: server.port, user: MARIADB_USER, password: MARIADB_PASSWORD });
  await admin.query(`CREATE OR REPLACE USER '${USER}'@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('${PASSWORD}') REQUIRE SSL`);
  await admin.query(`GRANT USAGE ON *.* TO '${USER}'@'%'`);
  await admin.end();
});

after(async () => {
  for (const p of proxies) await p.close();
  await stopServer('mariadb', NAME);
});

async function proxy(upstreamTls: UpstreamTlsOptions, upstream: { host: string; port: number } = server): Promise<RunningProxy> {
  const p = await startProxy({ host: upstream.host, port: upstream.port }, {
    tls: { cert: readFileSync(join(dir, 'server.pem')), key: readFileSync(join(dir, 'server.key')) },
    upstreamTls,
  });
  proxies.push(p);
  return p;
}

function login(port: number, tls: boolean, user = USER, password = PASSWORD): Promise<mysql.Connection> {
  return mysql.createConnection({ host: '127.0.0.1', port, user, password, ...(tls ? { ssl: { rejectUnauthorized: false } } : {}) });
}

async function cipher(c: mysql.Connection): Promise<string> {
  const [rows] = await c.query("SHOW STATUS LIKE 'Ssl_cipher'");
  return (rows as Array<{ Value: string }>)[0].Value;
}

test('auto: a REQUIRE SSL account logs in through Rotor over TLS, and its upstream session is encrypted', async () => {
  const p = await proxy({ mode: 'auto', ca: null });
  const c = await login(p.port, true);
  try {
    assert.notEqual(await cipher(c), '');
    const [rows] = await c.query('SELECT CURRENT_USER() AS u, CONNECTION_ID() AS id');
    assert.deepEqual(rows, [{ u: `${USER}@%`, id: c.threadId }]);
  } finally {
    await c.end();
  }
  const cli = await run('mariadb', ['-h127.0.0.1', `-P${p.port}`, `-u${USER}`, `-p${PASSWORD}`, '--ssl', '--batch', '--skip-column-names', '-e', "SHOW STATUS LIKE 'Ssl_cipher'"]);
  assert.equal(cli.status, 0, cli.err);
  assert.match(cli.out, /^Ssl_cipher\t\S+/);
});

test('auto: the same account over plaintext gets MariaDB\'s own refusal, as direct; off never encrypts upstream', async () => {
  const refusal = (e: { errno?: number; sqlState?: string }): unknown => ({ errno: e.errno, sqlState: e.sqlState });
  const p = await proxy({ mode: 'auto', ca: null });
  const direct = await login(server.port, false).then(() => 'logged in', refusal);
  assert.deepEqual(direct, { errno: 1045, sqlState: '28000' });
  assert.deepEqual(await login(p.port, false).then(() => 'logged in', refusal), direct);

  const off = await proxy({ mode: 'off', ca: null });
  assert.deepEqual(await login(off.port, true).then(() => 'logged in', refusal), direct);
  const c = await login(off.port, true, MARIADB_USER, MARIADB_PASSWORD);
  assert.equal(await cipher(c), '');
  await c.end();
});

test('required, verified against --upstream-ca: a plaintext client\'s upstream session uses TLS too', async () => {
  const p = await proxy({ mode: 'required', ca });
  const c = await login(p.port, false);
  try {
    assert.notEqual(await cipher(c), '');
  } finally {
    await c.end();
  }
});

test('required: the auth switch (caching_sha2 client) and COM_CHANGE_USER work over the TLS upstream, with the client\'s sequence numbering', async () => {
  const p = await proxy({ mode: 'required', ca });
  const { client, reply } = await RawClient.login(p.port, USER, PASSWORD, '', 'caching_sha2_password');
  assert.equal(reply.payload[0], 0x00, 'OK after the auth switch');
  assert.equal(reply.seq, 4);
  client.send(0, Buffer.from([Com.QUERY, ...Buffer.from("SHOW STATUS LIKE 'Ssl_cipher'")]));
  assert.equal((await client.read()).payload[0], 2, 'two columns');
  client.end();

  const c = await login(p.port, false, MARIADB_USER, MARIADB_PASSWORD);
  try {
    await c.changeUser({ user: USER, password: PASSWORD });
    const [rows] = await c.query('SELECT CURRENT_USER() AS u');
    assert.deepEqual(rows, [{ u: `${USER}@%` }]);
    assert.notEqual(await cipher(c), '');
  } finally {
    await c.end();
  }
});

test('an upstream certificate that does not chain to --upstream-ca refuses the login, saying why', async () => {
  const p = await proxy({ mode: 'required', ca: otherCa });
  await assert.rejects(login(p.port, true), (e: { errno?: number; message: string }) => {
    assert.equal(e.errno, 2003);
    assert.match(e.message, /TLS: .*certificate/);
    return true;
  });
});

test('required, against an upstream without TLS: the login is refused, saying why', async () => {
  const plain = new URL(await mariadbUrl());
  const p = await proxy({ mode: 'required', ca: null }, { host: plain.hostname, port: Number(plain.port) });
  await assert.rejects(login(p.port, false, MARIADB_USER, MARIADB_PASSWORD), /does not offer TLS/);
});
