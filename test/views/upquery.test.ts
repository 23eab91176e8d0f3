import type { SessionView } from '../../src/proxy/read-router.js';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Engine, type EngineUpstream } from '../../src/views/engine.js';
import { UpstreamClient } from '../../src/upstream/upstream-client.js';
import type { SnapshotResult } from '../../src/dataflow/upquery.js';
import { freshDatabase, type TestDatabase } from '../support/servers.js';
import { route, sessionFor } from './support.js';

class RecordingUpstream extends UpstreamClient implements EngineUpstream {
  readonly statements: string[] = [];
  override snapshotQuery(sql: string, locking?: boolean): Promise<SnapshotResult> {
    this.statements.push(sql);
    return super.snapshotQuery(sql, locking);
  }
}

describe('upqueries', () => {
  let db: TestDatabase;
  let engine: Engine;
  let up: RecordingUpstream;

  before(async () => {
    db = await freshDatabase('views_upq');
    await db.admin.query('CREATE TABLE fan_of (user_id BIGINT, item_id BIGINT, PRIMARY KEY (user_id, item_id), INDEX (item_id))');
    await db.admin.query('INSERT INTO fan_of SELECT seq, seq % 5 FROM seq_1_to_2000');
    up = new RecordingUpstream(db.url);
    engine = new Engine({ upstreamUrl: db.url, defaultDatabase: db.name, dataDir: null, missPolicy: 'fill' }, up);
    await engine.register({ sql: 'SELECT COUNT(*) FROM fan_of WHERE item_id = ?' });
  });
  after(async () => {
    await engine.close();
    await db.drop();
  });

  // One session, as an application's connection: its grants are checked on its first read.
  let shared: SessionView | undefined;
  const session = (): SessionView => (shared ??= sessionFor(db.name));
  const ask = (k: number) => route(engine.router, `SELECT COUNT(*) FROM fan_of WHERE item_id = ${k}`, session());

  it('shares one upquery between concurrent misses on one key', async () => {
    up.statements.length = 0;
    const answers = await Promise.all(Array.from({ length: 10 }, () => ask(1)));
    assert.equal(up.statements.length, 1);
    for (const a of answers) assert.deepEqual(a.rows, [[400]]);
  });

  it('batches misses on different keys arriving together into one aggregate statement', async () => {
    up.statements.length = 0;
    const answers = await Promise.all([ask(2), ask(3), ask(4), ask(7)]);
    assert.equal(up.statements.length, 1);
    assert.match(up.statements[0], /SELECT `item_id`, COUNT\(\*\), COUNT\(\*\) FROM .* WHERE \(`item_id` IN \(2, 3, 4, 7\)\) GROUP BY `item_id`/);
    assert.deepEqual(answers.map((a) => a.rows), [[[400]], [[400]], [[400]], [[0]]]);
  });

  it('fills the vote query with one GROUP BY upquery for the counts and one primary-key upquery for the articles', async () => {
    await db.admin.query(`
      CREATE TABLE article (id INT PRIMARY KEY, title VARCHAR(100));
      CREATE TABLE vote (article_id INT, user_id INT, PRIMARY KEY (article_id, user_id));
      INSERT INTO article VALUES (1, 'one'), (2, 'two'), (3, 'three');
      INSERT INTO vote VALUES (1, 1), (1, 2), (2, 1);
    `);
    const sql = 'SELECT a.id, a.title, vc.votes FROM article a LEFT JOIN (SELECT article_id, COUNT(user_id) AS votes FROM vote GROUP BY article_id) AS vc ON a.id = vc.article_id WHERE a.id = ?';
    await engine.register({ sql });
    up.statements.length = 0;
    const answers = await Promise.all([1, 2, 3].map((k) => route(engine.router, sql.replace('?', String(k)), session())));
    assert.deepEqual(answers.map((a) => a.rows), [[[1, 'one', 2]], [[2, 'two', 1]], [[3, 'three', null]]]);
    assert.equal(up.statements.length, 2, up.statements.join('\n'));
    assert.ok(up.statements.some((s) => /FROM `[^`]+`\.`article` WHERE \(`id` IN \(1, 2, 3\)\)$/.test(s)), up.statements.join('\n'));
    assert.ok(up.statements.some((s) => /FROM `[^`]+`\.`vote` WHERE \(`article_id` IN \(1, 2, 3\)\) GROUP BY `article_id`$/.test(s)), up.statements.join('\n'));
  });
});
