/**
 * `npm test`: starts the private MariaDB and Redis the tests share (idempotent), then runs every
 * `*.test.ts` under test/ with node's own test runner, so its summary line reports real counts.
 *
 *   npm test                      # everything
 *   npm test -- test/proxy        # only files under a path (or matching a substring)
 *   npm run test:unit             # only tests that need no server (test/unit-marked folders)
 */
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import mysql from 'mysql2/promise';
import { ensureTool, startMariaDb, startRedis } from './private-server.js';

function findTests(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (entry.endsWith('.test.ts')) out.push(p);
  }
  return out.sort();
}

/** Folders whose tests are pure: no server needed. */
const UNIT_DIRS = ['test/dataflow', 'test/operators', 'test/planner', 'test/oracle', 'test/protocol', 'test/unit'];

const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const filters = args.filter((a) => !a.startsWith('--'));
let files = findTests('test').map((f) => relative('.', f));
if (unitOnly) files = files.filter((f) => UNIT_DIRS.some((d) => f.startsWith(d)));
if (filters.length) files = files.filter((f) => filters.some((x) => f.includes(x)));

const env: NodeJS.ProcessEnv = { ...process.env, TZ: 'UTC' };
if (!unitOnly) {
  const mariadb = await startMariaDb(process.env.ROTOR_TEST_SERVER ?? 'test');
  // Every run writes ~150 MB of binlog; a stream started from a GTID reads it from the start.
  const admin = await mysql.createConnection({ uri: mariadb.url });
  await admin.query('FLUSH BINARY LOGS');
  await admin.query('PURGE BINARY LOGS BEFORE NOW()');
  await admin.end();
  const redis = await startRedis('test');
  env.ROTOR_TEST_MARIADB_URL = mariadb.url;
  env.ROTOR_TEST_MARIADB_SOCKET = mariadb.socket;
  env.ROTOR_TEST_REDIS_URL = redis.url;
  if (files.some((f) => f.includes('sysbench'))) ensureTool('sysbench', 'sysbench');
  console.log(`private MariaDB ${mariadb.url}, Redis ${redis.url}`);
}

const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=300000', ...files],
  { stdio: 'inherit', env },
);
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
