/**
 * `npm test`: starts the private MariaDB and Redis the tests share (idempotent), then runs every
 * `*.test.ts` under test/ with node's own test runner, so its summary line reports real counts.
 *
 *   npm test                      # everything
 *   npm test -- test/proxy        # only files under a path (or matching a substring)
 *   npm run test:unit             # only tests that need no server (the UNIT list below)
 *
 * test/ mirrors src/: the tests of src/X/… live under test/X/…. Besides those: test/core tests
 * src's top-level files (config.ts, errors.ts, cli.ts), test/repo checks the repository itself
 * (layer rules, the named-note table), test/bench tests bench/lib, test/support holds shared
 * helpers (private servers, a Rotor under test, collations, the seeded generator), and test/e2e,
 * test/differential, test/logic and test/oracle cut across the layers.
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

/**
 * Tests that are pure (no server needed): whole folders, and the pure files of folders whose other
 * tests need the private MariaDB.
 */
const UNIT = [
  'test/bench/', 'test/cluster/', 'test/core/', 'test/dataflow/', 'test/operators/', 'test/oracle/', 'test/planner/',
  'test/proxy/protocol/', 'test/repo/', 'test/upstream/',
  'test/binlog/freshness.test.ts', 'test/binlog/lag.test.ts',
  'test/proxy/deferred-begin.test.ts', 'test/proxy/fd-limit.test.ts', 'test/proxy/upstream-link.test.ts', 'test/proxy/http-read/',
  'test/views/answer-json.test.ts', 'test/views/derived-answer.test.ts', 'test/views/kept-response.test.ts', 'test/views/http-principals.test.ts',
  'test/views/privileges.test.ts', 'test/views/in-list.test.ts', 'test/views/cache-store.test.ts', 'test/views/proxied-queries.test.ts', 'test/views/shared-registry.test.ts',
  'test/proxy/admin/history.test.ts', 'test/proxy/admin/dashboard.test.ts',
];

const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const filters = args.filter((a) => !a.startsWith('--'));
let files = findTests('test').map((f) => relative('.', f));
// A moved or renamed file would otherwise silently drop out of `npm run test:unit`.
for (const u of UNIT) if (!files.some((f) => f.startsWith(u))) throw new Error(`run-tests: UNIT names ${u}, which holds no test`);
if (unitOnly) files = files.filter((f) => UNIT.some((u) => f.startsWith(u)));
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
  if (files.some((f) => f.includes('e2e/dashboard'))) ensureTool('chromium', 'chromium');
  console.log(`private MariaDB ${mariadb.url}, Redis ${redis.url}`);
}

const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=300000', ...files],
  { stdio: 'inherit', env },
);
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
