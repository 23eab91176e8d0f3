/**
 * [note: answer-refill] A cache of expressions answers only while a session computes as its fills
 * do: not while the upstream's sql_mode has a flag that changes how its text reads (the fill
 * connections drop them), not for a session in another collation than the fills'; its fills run
 * with the upstream's div_precision_increment, and a new value plans it again.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Engine } from '../../src/views/engine.js';
import { UpstreamClient } from '../../src/upstream/upstream-client.js';
import { freshDatabase, type TestDatabase } from '../support/servers.js';
import { until } from '../support/until.js';
import { route, sessionFor } from './support.js';

/** Reports the global settings the test sets, over the server's own. */
class Settings extends UpstreamClient {
  /** Flags added to the server's own sql_mode. */
  sqlMode: string | null = null;
  divPrecisionIncrement: number | null = null;
  override async globalSettings(): ReturnType<UpstreamClient['globalSettings']> {
    const g = await super.globalSettings();
    const sqlMode = this.sqlMode === null ? g.sqlMode : [g.sqlMode, this.sqlMode].filter((m) => m !== '').join(',');
    return { ...g, sqlMode, divPrecisionIncrement: this.divPrecisionIncrement ?? g.divPrecisionIncrement };
  }
}

describe('the session a cache of expressions answers', () => {
  let db: TestDatabase, engine: Engine, up: Settings;
  const SQL = 'SELECT k, v / 3 AS third, CONCAT(v, \'!\') FROM kv WHERE k = ?';
  before(async () => {
    db = await freshDatabase('views_answer_settings');
    await db.admin.query('CREATE TABLE kv (k INT PRIMARY KEY, v INT); INSERT INTO kv VALUES (1, 10), (2, 20)');
    up = new Settings(db.url);
    engine = new Engine({ upstreamUrl: db.url, defaultDatabase: db.name, dataDir: null, privilegeRefreshMs: 3_600_000, missPolicy: 'fill', logger: pino({ level: process.env.ROTOR_TEST_LOG ?? 'silent' }) }, up);
    await engine.start();
    await engine.register({ sql: SQL, database: db.name });
  });
  after(async () => {
    await engine?.close();
    await db?.drop();
  });

  it('goes upstream while the upstream\'s sql_mode changes how text reads, and answers again once it does not', async () => {
    const session = sessionFor(db.name);
    assert.notEqual((await route(engine.router, SQL.replace('?', '1'), session)).source, 'upstream');
    up.sqlMode = 'PIPES_AS_CONCAT';
    await engine.refresh();
    const r = await route(engine.router, SQL.replace('?', '1'), session);
    assert.equal(r.source, 'upstream');
    assert.match(r.reason ?? '', /PIPES_AS_CONCAT/);
    up.sqlMode = null;
    await engine.refresh();
    assert.notEqual((await route(engine.router, SQL.replace('?', '1'), session)).source, 'upstream');
  });

  it('goes upstream for a session in another collation than the fills\'', async () => {
    const r = await route(engine.router, SQL.replace('?', '1'), sessionFor(db.name, { collation: 224 }));
    assert.equal(r.source, 'upstream');
    assert.match(r.reason ?? '', /collation/);
    assert.notEqual((await route(engine.router, SQL.replace('?', '1'), sessionFor(db.name, { collation: 45 }))).source, 'upstream');
  });

  it('fills with the upstream\'s div_precision_increment, and is planned again when it changes', async () => {
    const before = await route(engine.router, SQL.replace('?', '2'), sessionFor(db.name));
    assert.equal(before.rows?.[0]?.[1], '6.6667');
    up.divPrecisionIncrement = 7;
    await engine.refresh();
    await until('planned again', 10_000, () => Promise.resolve(engine.list().every((c) => c.status === 'ready')));
    const after = await route(engine.router, SQL.replace('?', '2'), sessionFor(db.name));
    assert.equal(after.rows?.[0]?.[1], '6.6666667');
    up.divPrecisionIncrement = null;
    await engine.refresh();
  });

  it('fills with the upstream\'s sql_mode, and is planned again when it changes', async () => {
    const sql = 'SELECT k, CAST(v AS UNSIGNED) - 30 FROM kv WHERE k = ?';
    await engine.register({ sql, database: db.name });
    // BIGINT UNSIGNED out of range: MariaDB's error, relayed.
    assert.equal((await route(engine.router, sql.replace('?', '2'), sessionFor(db.name))).source, 'upstream');
    up.sqlMode = 'NO_UNSIGNED_SUBTRACTION';
    await engine.refresh();
    await until('planned again', 10_000, () => Promise.resolve(engine.list().every((c) => c.status === 'ready')));
    const r = await route(engine.router, sql.replace('?', '2'), sessionFor(db.name));
    assert.notEqual(r.source, 'upstream', r.reason ?? '');
    assert.deepEqual(r.rows, [[2, -10]]);
    up.sqlMode = null;
    await engine.refresh();
  });
});
