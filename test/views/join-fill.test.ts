/**
 * Pins [note: join-fill] (src/dataflow/join-fill.ts) against the real server: the two sides of a
 * join are filled by upqueries at different snapshot positions, with a transaction that changes
 * both sides committed between them; batches are delivered by hand so the ordering is forced.
 */
import type { SessionView } from '../../src/proxy/read-router.js';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type mysql from 'mysql2/promise';
import { Engine } from '../../src/views/engine.js';
import { comparePositions, type Batch, type BinlogPosition, type TableChange } from '../../src/dataflow/batch.js';
import { freshDatabase, type TestDatabase } from '../support/servers.js';
import { binlogEnd } from '../binlog/support.js';
import { GatedUpstream, route, sessionFor } from './support.js';


const STORY = 'SELECT s.id, s.title, u.name FROM story s JOIN user u ON u.id = s.author_id WHERE s.id = ?';

describe('fills through a join', () => {
  let db: TestDatabase;
  let engine: Engine;
  let up: GatedUpstream;

  before(async () => {
    db = await freshDatabase('views_join_fill');
    await db.admin.query(`
      CREATE TABLE story (id INT PRIMARY KEY, title VARCHAR(20), author_id INT);
      CREATE TABLE user (id INT PRIMARY KEY, name VARCHAR(20));
      INSERT INTO story VALUES (1, 's1', 10);
      INSERT INTO user VALUES (10, 'ann'), (11, 'bob');
    `);
    up = new GatedUpstream(db.url);
    engine = new Engine({ upstreamUrl: db.url, defaultDatabase: db.name, dataDir: null, missPolicy: 'fill' }, up);
    await engine.register({ sql: STORY });
  });
  after(async () => {
    await engine.close();
    await db.drop();
  });

  const now = async (): Promise<BinlogPosition> => binlogEnd(db.admin as unknown as mysql.Connection);
  const tick = async (): Promise<void> => engine.applyBatch({ gtid: null, position: await now(), timestamp: Date.now(), changes: [] });
  // One session, as an application's connection: its grants are checked on its first read.
  let shared: SessionView | undefined;
  const session = (): SessionView => (shared ??= sessionFor(db.name));
  const ask = (id: number) => route(engine.router, STORY.replace('?', String(id)), session());

  it('converges when the sides are filled at positions a transaction on both sides falls between', async () => {
    await tick();
    let open!: () => void;
    up.gate = new Promise((r) => { open = r; });
    const n = up.snapshots.length;
    let answered = false;
    const pending = ask(1).then((a) => { answered = true; return a; });
    while (up.snapshots.length === n) await new Promise((r) => setTimeout(r, 5));
    // The story side's snapshot (author 10) is taken; now one transaction moves the story to
    // author 11 and renames author 10, before the user side's upquery runs.
    await db.admin.query("START TRANSACTION; UPDATE story SET author_id = 11 WHERE id = 1; UPDATE user SET name = 'ANN' WHERE id = 10; COMMIT");
    const moved = await now();
    const changes: TableChange[] = [
      { database: db.name, table: 'story', columns: ['id', 'title', 'author_id'], deltas: [{ sign: -1, row: [1, 's1', 10] }, { sign: 1, row: [1, 's1', 11] }] },
      { database: db.name, table: 'user', columns: ['id', 'name'], deltas: [{ sign: -1, row: [10, 'ann'] }, { sign: 1, row: [10, 'ANN'] }] },
    ];
    const move: Batch = { gtid: null, position: moved, timestamp: Date.now(), changes };
    assert.ok(comparePositions(moved, up.snapshots[n]) > 0, 'the transaction is after the story snapshot');
    up.gate = null;
    open();
    while (up.snapshots.length < n + 2) await new Promise((r) => setTimeout(r, 5));
    assert.ok(comparePositions(up.snapshots[n + 1], moved) >= 0, 'the user snapshot contains the transaction');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(answered, false, 'a key computed from sides at mixed positions waits for the stream');
    // The stream delivers the transaction: the story side applies it, the user side (filled after
    // it) skips it, and the join, missing author 11, evicts the key rather than guess.
    engine.applyBatch(move);
    const timer = setInterval(() => { void tick(); }, 20);
    try {
      const a = await pending;
      assert.equal(a.source, 'fill');
      assert.deepEqual(a.rows, [[1, 's1', 'bob']]);
    } finally {
      clearInterval(timer);
    }
    const hit = await ask(1);
    assert.equal(hit.source, 'hit');
    assert.deepEqual(hit.rows, [[1, 's1', 'bob']]);
  });
});
