/**
 * LOAD DATA LOCAL INFILE through Rotor, with mysql2 and the mariadb connector: relayed when the
 * client enabled CLIENT_LOCAL_FILES, MariaDB's own error when it did not.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import mysql from 'mysql2/promise';
import * as mariadb from 'mariadb';
import { freshDatabase, type TestDatabase } from '../support/servers.js';
import { startProxy, type RunningProxy } from './support.js';

let db: TestDatabase;
let rotor: RunningProxy;
let dir: string;

before(async () => {
  db = await freshDatabase('proxy_infile');
  rotor = await startProxy({ host: db.host, port: db.port });
  dir = mkdtempSync(join(tmpdir(), 'rotor-infile-'));
});

after(async () => {
  await rotor?.close();
  await db?.drop();
});

function csv(from: number, to: number): string {
  let s = '';
  for (let i = from; i <= to; i++) s += `${i},name ${i}\n`;
  return s;
}

async function table(name: string): Promise<void> {
  await db.admin.query(`CREATE OR REPLACE TABLE ${name} (id INT PRIMARY KEY, name VARCHAR(40))`);
}

async function summary(name: string): Promise<unknown> {
  const [rows] = await db.admin.query(`SELECT COUNT(*) AS n, SUM(id) AS s, MAX(name) AS m FROM ${name}`);
  return rows;
}

function mysql2(port: number, extra: mysql.ConnectionOptions = {}): Promise<mysql.Connection> {
  return mysql.createConnection({ host: '127.0.0.1', port, user: db.user, password: db.password, database: db.name, ...extra });
}

test('mysql2 with infileStreamFactory loads a file through Rotor as direct, in one statement and in a multi-statement', async () => {
  for (const [port, name] of [[db.port, 'direct'], [rotor.port, 'proxied']] as const) {
    await table(`${name}_a`);
    const c = await mysql2(port, { multipleStatements: true, infileStreamFactory: () => Readable.from([Buffer.from(csv(1, 500)), Buffer.from(csv(501, 1000))]) });
    try {
      const [ok] = await c.query(`LOAD DATA LOCAL INFILE 'rows.csv' INTO TABLE ${name}_a FIELDS TERMINATED BY ','`);
      assert.equal((ok as mysql.ResultSetHeader).affectedRows, 1000);
      const [multi] = await c.query(`DELETE FROM ${name}_a WHERE id > 10; LOAD DATA LOCAL INFILE 'more.csv' INTO TABLE ${name}_a FIELDS TERMINATED BY ','; SELECT COUNT(*) AS n FROM ${name}_a`)
        .catch((e: unknown) => [e]);
      // The factory gives the same 1000 rows again: ten of them are duplicates, skipped with warnings.
      assert.deepEqual((multi as unknown[])[2], [{ n: 1000 }], JSON.stringify(multi));
      assert.deepEqual((await c.query('SELECT 1 AS after'))[0], [{ after: 1 }]);
    } finally {
      await c.end();
    }
  }
  assert.deepEqual(await summary('proxied_a'), await summary('direct_a'));
});

test('a file of more than 16 MiB sent as one packet (several frames) arrives whole', async () => {
  await table('big');
  const rows = csv(1, 900_000);
  const big = Buffer.from(rows);
  assert.ok(big.length > 16 * 1024 * 1024);
  const c = await mysql2(rotor.port, { infileStreamFactory: () => Readable.from([big]) });
  try {
    const [ok] = await c.query("LOAD DATA LOCAL INFILE 'big.csv' INTO TABLE big FIELDS TERMINATED BY ','");
    assert.equal((ok as mysql.ResultSetHeader).affectedRows, 900_000);
  } finally {
    await c.end();
  }
  assert.deepEqual(await summary('big'), [{ n: 900_000, s: String((900_000 * 900_001) / 2), m: 'name 99999' }]);
});

test('mysql2 without CLIENT_LOCAL_FILES, or declining the file, gets what it gets direct, and the session goes on', async () => {
  await table('refused');
  const outcome = async (port: number, extra: mysql.ConnectionOptions): Promise<unknown> => {
    const c = await mysql2(port, extra);
    try {
      const r = await c.query("LOAD DATA LOCAL INFILE 'x.csv' INTO TABLE refused FIELDS TERMINATED BY ','").then(
        ([ok]) => ({ affected: (ok as mysql.ResultSetHeader).affectedRows }),
        (e: { errno?: number; sqlState?: string; message: string }) => ({ errno: e.errno, sqlState: e.sqlState, message: e.message }),
      );
      const [after] = await c.query('SELECT 2 AS after');
      return { r, after };
    } finally {
      await c.end();
    }
  };
  for (const extra of [{ flags: ['-LOCAL_FILES'] }, {}] as mysql.ConnectionOptions[]) {
    const direct = await outcome(db.port, extra);
    assert.deepEqual(await outcome(rotor.port, extra), direct, JSON.stringify(extra));
  }
  const refused = await outcome(rotor.port, { flags: ['-LOCAL_FILES'] }) as { r: { errno: number } };
  assert.equal(refused.r.errno, 4166, 'MariaDB\'s ER_LOAD_INFILE_CAPABILITY_DISABLED');
  assert.deepEqual(await summary('refused'), [{ n: 0, s: null, m: null }]);
});

test('the mariadb connector with permitLocalInfile loads a file through Rotor; without it, MariaDB\'s own error', async () => {
  const file = join(dir, 'conn.csv');
  writeFileSync(file, csv(1, 2000));
  const outcome = async (port: number, permitLocalInfile: boolean, name: string): Promise<unknown> => {
    await table(name);
    const c = await mariadb.createConnection({ host: '127.0.0.1', port, user: db.user, password: db.password, database: db.name, permitLocalInfile });
    try {
      const r = await c.query(`LOAD DATA LOCAL INFILE '${file}' INTO TABLE ${name} FIELDS TERMINATED BY ','`).then(
        (ok: { affectedRows: number }) => ({ affected: ok.affectedRows }),
        (e: { errno?: number; sqlState?: string; text?: string }) => ({ errno: e.errno, sqlState: e.sqlState, text: e.text }),
      );
      const after: unknown = await c.query('SELECT 3 AS after');
      return { r, after, rows: await summary(name) };
    } finally {
      await c.end();
    }
  };
  for (const permit of [true, false]) {
    const direct = await outcome(db.port, permit, `m_direct_${permit}`);
    assert.deepEqual(await outcome(rotor.port, permit, `m_proxied_${permit}`), direct, `permitLocalInfile ${permit}`);
  }
  const loaded = await outcome(rotor.port, true, 'm_check') as { r: { affected: number } };
  assert.equal(loaded.r.affected, 2000);
});

test('the mariadb CLI with --local-infile loads a file through Rotor; with --local-infile=0 it gets MariaDB\'s 4166', async () => {
  const file = join(dir, 'cli.csv');
  writeFileSync(file, csv(1, 50));
  await table('cli_loaded');
  const cli = (flag: string): Promise<{ out: string; status: number | null }> => new Promise((resolve) => {
    const child = spawn('mariadb', ['-h127.0.0.1', `-P${rotor.port}`, `-u${db.user}`, `-p${db.password}`, '--batch', '--skip-ssl', flag, db.name,
      '-e', `LOAD DATA LOCAL INFILE '${file}' INTO TABLE cli_loaded FIELDS TERMINATED BY ','; SELECT COUNT(*) FROM cli_loaded`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (status) => resolve({ out, status }));
  });
  const loaded = await cli('--local-infile=1');
  assert.equal(loaded.status, 0, loaded.out);
  assert.match(loaded.out, /^COUNT\(\*\)\n50\n$/);
  const refused = await cli('--local-infile=0');
  assert.match(refused.out, /ERROR 4166/);
});
