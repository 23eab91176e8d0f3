/**
 * Randomized differential test: seeded random schemas (many column types and collations), random
 * registered caches of every supported shape, random write batches (single statements and
 * multi-row transactions, now and then a binlog rotation or an eviction); after the binlog has
 * caught up, every cache is read through Rotor's proxy, with the text and the prepared protocol,
 * for several parameter values (case, accent and trailing-space variants among them), and compared
 * with MariaDB's own answer to the same statement (compare.ts says on what).
 *
 * Known inexact features are avoided by default (gaps.ts); a failure prints its seed:
 *   ROTOR_DIFF_SEED=<seed> npm test -- test/differential        replays a run
 *   ROTOR_DIFF_SCENARIO=<n>                                     only scenario n of that seed
 *   ROTOR_DIFF_CASES=<n>                                        n queries (default 300, ~60 s budget)
 *   ROTOR_DIFF_GAPS=none                                        also the inputs of known gaps
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type mysql from 'mysql2/promise';
import { seededRandom } from '../support/seeded-random.js';
import { freshDatabase, type TestDatabase } from '../support/servers.js';
import { startTestRotor, type TestRotor } from '../support/rotor.js';
import { avoidedGaps, ALL_GAPS } from './gaps.js';
import { createTableSql, insertSql, int, pick, randomCollation, randomTable, writeSql, type Table } from './schema-gen.js';
import { QueryGen, type Query } from './query-gen.js';
import { difference, type Answer } from './compare.js';
import { paramValues } from './params.js';

const SEED = Number(process.env.ROTOR_DIFF_SEED ?? Math.floor(Math.random() * 2 ** 31));
const EXPLICIT_CASES = process.env.ROTOR_DIFF_CASES !== undefined;
const CASES = Number(process.env.ROTOR_DIFF_CASES ?? 300);
const BUDGET_MS = Number(process.env.ROTOR_DIFF_BUDGET_MS ?? 60_000);
const ONLY = process.env.ROTOR_DIFF_SCENARIO === undefined ? null : Number(process.env.ROTOR_DIFF_SCENARIO);
const AVOID = avoidedGaps(process.env.ROTOR_DIFF_GAPS);
const GAPS_ENV = AVOID.size === ALL_GAPS.length ? '' : ` ROTOR_DIFF_GAPS=${AVOID.size === 0 ? 'none' : ['none', ...AVOID].join(',')}`;
const REPLAY = `ROTOR_DIFF_SEED=${SEED}${GAPS_ENV} npm test -- test/differential`;
const QUERIES_PER_SCENARIO = 10;
const ROUNDS = 4;
const MAX_FAILURES = 12;
const STEP_TIMEOUT_MS = 30_000;

let db: TestDatabase;
let rotor: TestRotor;
let viaRotor: mysql.Connection;
let direct: mysql.Connection;

const CONNECTION = { dateStrings: true, supportBigNumbers: true, bigNumberStrings: true, timezone: 'Z' } as const;

before(async () => {
  console.log(`differential: seed ${SEED}, replay with ${REPLAY}; gaps avoided: ${[...AVOID].join(', ') || 'none'}`);
  db = await freshDatabase('diff');
  rotor = await startTestRotor(db);
  viaRotor = await rotor.connect(CONNECTION);
  direct = await (await import('mysql2/promise')).default.createConnection({ host: db.host, port: db.port, user: db.user, password: db.password, database: db.name, ...CONNECTION });
});

after(async () => {
  await viaRotor?.end().catch(() => undefined);
  await direct?.end().catch(() => undefined);
  await rotor?.stop();
  await db?.drop();
});

/** `p`, or a clear error after `ms`: no step of the test may hang. */
async function within<T>(p: Promise<T>, what: string, ms = STEP_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, rej) => { timer = setTimeout(() => rej(new Error(`timed out after ${ms} ms: ${what} (seed ${SEED}; replay: ${REPLAY})`)), ms); });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every value in its text form: the wire's own bytes for the text protocol, the decoded value for the binary one. */
function cell(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (Buffer.isBuffer(v)) return `0x${v.toString('hex')}`;
  return String(v);
}

const TEXT_TYPES = new Set([15, 252, 253, 254]);

interface Read {
  readonly rows: Answer;
  readonly columns: ReadonlyArray<string>;
}

async function read(conn: mysql.Connection, sql: string, values: unknown[], prepared: boolean): Promise<Read> {
  const [rows, fields] = prepared
    ? await conn.execute({ sql, values, rowsAsArray: true })
    : await conn.query({ sql, values, rowsAsArray: true, typeCast: (field, next) => (field.type === 'NULL' ? next() : (field.buffer()?.toString('utf8') ?? null)) });
  // MariaDB's own `decimals` of a text column (0 or 39) and its GROUP_FLAG follow the plan it
  // chose for the key (a temporary table or not), so they differ between keys upstream too.
  // Likewise CHAR (254) or VARCHAR (253) for MIN/MAX of an ENUM: MariaDB's LIMIT 0 run, where Rotor
  // learns a cache's definitions, says VARCHAR, some keys' answers CHAR (README, "Limits").
  const type = (f: mysql.FieldPacket): string => (/^(MIN|MAX)\(/i.test(f.name) && (f.columnType === 253 || f.columnType === 254) ? 'char' : String(f.columnType));
  const meta = (fields as mysql.FieldPacket[]).map((f) => `${f.name}:${type(f)}:${f.characterSet}:${TEXT_TYPES.has(f.columnType ?? 0) ? '' : f.decimals}`);
  return { rows: (rows as unknown[][]).map((r) => r.map(cell)), columns: meta };
}

async function register(sql: string, overSql: boolean): Promise<{ ok: true } | { ok: false; reason: string }> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (overSql) {
      try {
        await viaRotor.query(`CREATE CACHE FROM ${sql}`);
        return { ok: true };
      } catch (err) {
        const e = err as { errno?: number; message?: string };
        if (e.errno === 1226) { await sleep(60); continue; }
        return { ok: false, reason: `${e.errno}: ${(e.message ?? '').replace(/^The query cannot be cached: /, '')}` };
      }
    }
    const res = await rotor.api<{ code?: string; message?: string }>('POST', '/api/caches', { sql, database: db.name });
    if (res.status === 201 || res.status === 200) return { ok: true };
    if (res.status === 429) { await sleep(60); continue; }
    if (res.status === 404 || res.status === 500) throw new Error(`registration of a generated query failed with ${res.status} ${JSON.stringify(res.body)}: ${sql} (seed ${SEED})`);
    return { ok: false, reason: `${res.status}: ${(res.body.message ?? res.body.code ?? '').replace(/^The query cannot be cached: /, '')}` };
  }
  throw new Error(`registration kept being rate-limited: ${sql}`);
}

async function dropAllCaches(): Promise<void> {
  const list = await rotor.api<Array<{ id: string }>>('GET', '/api/caches');
  for (const c of list.body) await rotor.api('DELETE', `/api/caches/${c.id}`);
}

async function dump(t: Table): Promise<string> {
  const [rows] = await direct.query({ sql: `SELECT * FROM \`${t.name}\` ORDER BY id LIMIT 40`, rowsAsArray: true, typeCast: (field, next) => (field.type === 'NULL' ? next() : (field.buffer()?.toString('utf8') ?? null)) });
  const lit = (v: unknown) => (v === null ? 'NULL' : `'${String(v).replace(/'/g, "''")}'`);
  const tuples = (rows as unknown[][]).map((r) => `(${r.map(lit).join(', ')})`);
  return tuples.length ? `INSERT INTO \`${t.name}\` VALUES ${tuples.join(', ')};` : `-- ${t.name} is empty`;
}

const stats = { scenarios: 0, cases: 0, registered: 0, reads: 0, served: 0, relayedUnserved: 0, comparisons: 0 };
const refusals = new Map<string, number>();
const shapes = new Map<string, { registered: number; refused: number }>();
const failures: string[] = [];

function count<K>(m: Map<K, number>, k: K): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}

async function scenario(index: number): Promise<void> {
  const rnd = seededRandom((SEED ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
  const sColl = randomCollation(rnd);
  const t = randomTable(rnd, `t${index}`, sColl, AVOID);
  const u = randomTable(rnd, `u${index}`, sColl, AVOID);
  const history: string[] = [createTableSql(t) + ';', createTableSql(u) + ';'];
  const run = async (sql: string) => {
    history.push(sql + ';');
    // Rotor's fills are locking reads: a write meeting one may deadlock (InnoDB rolls the whole
    // transaction back) and, as an application would, is run again.
    for (let attempt = 1; ; attempt++) {
      try {
        await within(db.admin.query(sql), sql);
        return;
      } catch (e) {
        const errno = (e as { errno?: number }).errno;
        if (attempt >= 5 || (errno !== 1213 && errno !== 1205)) throw e;
        await db.admin.query('ROLLBACK');
      }
    }
  };
  for (const s of history) await within(db.admin.query(s), s);
  await run(insertSql(rnd, t, int(rnd, 6, 14)));
  await run(insertSql(rnd, u, int(rnd, 4, 10)));

  const gen = new QueryGen(rnd, t, u, AVOID);
  const queries: Query[] = [];
  const n = Math.min(QUERIES_PER_SCENARIO, CASES - stats.cases);
  for (let i = 0; i < n; i++) {
    const q = gen.next();
    stats.cases++;
    const shape = shapes.get(q.shape) ?? { registered: 0, refused: 0 };
    shapes.set(q.shape, shape);
    const r = await within(register(q.sql, rnd() < 0.2), `registering ${q.sql}`);
    if (r.ok) { queries.push(q); shape.registered++; stats.registered++; } else { shape.refused++; count(refusals, r.reason.replace(/`[^`]*`|'[^']*'|\b[tu]\d+\b|\bc\d\b/g, '…')); }
  }

  const failed = new Set<Query>();
  for (let round = 0; round <= ROUNDS && failures.length < MAX_FAILURES; round++) {
    if (round > 0) {
      const batches = int(rnd, 1, 3);
      for (let b = 0; b < batches; b++) {
        const tx = rnd() < 0.4;
        const stmts = Array.from({ length: tx ? int(rnd, 2, 5) : 1 }, () => writeSql(rnd, rnd() < 0.65 ? t : u));
        await run(tx ? `START TRANSACTION; ${stmts.join('; ')}; COMMIT` : stmts[0]);
      }
      if (rnd() < 0.05) await run('FLUSH BINARY LOGS');
      if (rnd() < 0.1) {
        const list = await rotor.api<Array<{ id: string }>>('GET', '/api/caches');
        if (list.body.length) await rotor.api('POST', `/api/caches/${pick(rnd, list.body).id}/evict`, { all: true });
      }
    }
    await within(rotor.caughtUp(), 'waiting for the binlog to catch up');
    for (const q of queries) {
      if (failed.has(q)) continue;
      const sets = q.params.length === 0 ? 1 : 3;
      for (let s = 0; s < sets && !failed.has(q); s++) {
        const values = paramValues(rnd, q.params, AVOID);
        for (const prepared of [false, true]) {
          const before = rotor.rotor.proxy.stats().servedFromCache;
          const got = await within(read(viaRotor, q.sql, values, prepared), `reading ${q.sql} through Rotor`).catch((e: Error) => e);
          const served = rotor.rotor.proxy.stats().servedFromCache > before;
          const want = await within(read(direct, q.sql, values, prepared), `reading ${q.sql} from MariaDB`).catch((e: Error) => e);
          stats.reads++;
          if (served) stats.served++;
          stats.comparisons++;
          let diff: string | null;
          if (got instanceof Error || want instanceof Error) {
            diff = got instanceof Error && want instanceof Error && got.message === want.message ? null : `errors differ: Rotor ${got instanceof Error ? got.message : 'answered'}, MariaDB ${want instanceof Error ? want.message : 'answered'}`;
          } else {
            diff = difference(q, got.rows, want.rows);
            if (diff === null && got.columns.join() !== want.columns.join()) diff = `column definitions differ: Rotor ${got.columns.join(', ')} / MariaDB ${want.columns.join(', ')}`;
          }
          if (diff === null) continue;
          failed.add(q);
          const show = (a: Read | Error) => (a instanceof Error ? `error ${a.message}` : a.rows.map((r) => JSON.stringify(r)).join('\n      ') || '(no rows)');
          failures.push([
            `MISMATCH (seed ${SEED}, scenario ${index}, round ${round}; replay: ROTOR_DIFF_SCENARIO=${index} ${REPLAY})`,
            `  shape ${q.shape}, ${prepared ? 'prepared' : 'text'} protocol, ${served ? 'served from the cache' : 'relayed upstream'}: ${diff}`,
            `  query:  ${q.sql}`,
            `  params: ${JSON.stringify(values)}`,
            `  Rotor:   ${show(got)}`,
            `  MariaDB: ${show(want)}`,
            `  tables now:\n    ${createTableSql(t)};\n    ${await dump(t)}\n    ${createTableSql(u)};\n    ${await dump(u)}`,
            `  last statements:\n    ${history.slice(-12).join('\n    ')}`,
          ].join('\n'));
          break;
        }
      }
    }
  }
  await within(dropAllCaches(), 'dropping the caches');
  await within(db.admin.query(`DROP TABLE \`${t.name}\`, \`${u.name}\``), 'dropping the tables');
  stats.scenarios++;
}

test('every registered cache answers as MariaDB does under random schemas, queries and writes', async (tc) => {
  const started = Date.now();
  for (let i = 0; stats.cases < CASES && failures.length < MAX_FAILURES; i++) {
    if (ONLY !== null && i !== ONLY) { if (i > ONLY) break; continue; }
    if (!EXPLICIT_CASES && Date.now() - started > BUDGET_MS) {
      tc.diagnostic(`time budget of ${BUDGET_MS} ms used: stopped after ${stats.cases} cases`);
      break;
    }
    await scenario(i);
  }
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  const summary = [
    `seed ${SEED}: ${stats.scenarios} scenarios, ${stats.cases} queries (${stats.registered} registered), ${stats.comparisons} comparisons, ${stats.served} served from caches, in ${secs} s`,
    `shapes (registered/refused): ${[...shapes].map(([k, v]) => `${k} ${v.registered}/${v.refused}`).join(', ')}`,
    `refusals: ${[...refusals].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${v}× ${k}`).join('; ') || 'none'}`,
  ];
  for (const line of summary) { tc.diagnostic(line); console.log(`differential: ${line}`); }
  if (failures.length) assert.fail(`${failures.length} mismatch(es) (seed ${SEED}; replay: ${REPLAY}):\n\n${failures.join('\n\n')}`);
  assert.ok(stats.served > stats.comparisons / 4, `most reads were served from caches (seed ${SEED}): ${stats.served} of ${stats.comparisons}`);
});
