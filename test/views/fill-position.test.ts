/**
 * Pins [note: fill-position] (src/dataflow/upquery.ts, src/dataflow/batch.ts) against the real
 * server: batches are built by hand with the binlog positions MariaDB reports, and delivered to
 * the engine early, late, or while an upquery is held open, so each ordering is forced.
 */
import type { SessionView } from '../../src/proxy/read-router.js';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type mysql from 'mysql2/promise';
import { Engine } from '../../src/views/engine.js';
import { comparePositions, type Batch } from '../../src/dataflow/batch.js';
import type { Row } from '../../src/dataflow/delta.js';
import { freshDatabase, type TestDatabase } from '../support/servers.js';
import { binlogEnd } from '../binlog/support.js';
import { GatedUpstream, route, sessionFor } from './support.js';


describe('fills installed at their snapshot position', () => {
  let db: TestDatabase;
  let engine: Engine;
  let up: GatedUpstream;
  const columns = ['id', 'g', 'x'];

  before(async () => {
    db = await freshDatabase('views_fill');
    await db.admin.query('CREATE TABLE t (id INT PRIMARY KEY, g INT, x INT)');
    up = new GatedUpstream(db.url);
    engine = new Engine({ upstreamUrl: db.url, defaultDatabase: db.name, dataDir: null, missPolicy: 'fill' }, up);
    await engine.register({ sql: 'SELECT COUNT(*), SUM(x) FROM t WHERE g = ?' });
  });
  after(async () => {
    await engine.close();
    await db.drop();
  });

  /** Runs one write upstream and returns the batch the binlog would deliver for it. */
  async function write(sql: string, deltas: Array<[1 | -1, Row]>): Promise<Batch> {
    await db.admin.query(sql);
    const position = await binlogEnd(db.admin as unknown as mysql.Connection);
    return { gtid: null, position, timestamp: Date.now(), changes: [{ database: db.name, table: 't', columns, deltas: deltas.map(([sign, row]) => ({ sign, row })) }] };
  }
  // One session, as an application's connection: its grants are checked on its first read.
  let shared: SessionView | undefined;
  const session = (): SessionView => (shared ??= sessionFor(db.name));
  const ask = (g: number) => route(engine.router, `SELECT COUNT(*), SUM(x) FROM t WHERE g = ${g}`, session());
  const truth = async (g: number) => {
    const [rows] = await db.admin.query<mysql.RowDataPacket[]>({ sql: `SELECT COUNT(*), SUM(x) FROM t WHERE g = ${g}`, rowsAsArray: true });
    return rows.map((r) => [Number(r[0]), r[1] === null ? null : String(r[1])]);
  };

  it('skips a batch at or before the snapshot that arrives after the fill (stream behind)', async () => {
    const b1 = await write('INSERT INTO t VALUES (1, 1, 10)', [[1, [1, 1, 10]]]);
    const filled = await ask(1);
    assert.equal(filled.source, 'fill');
    assert.deepEqual(filled.rows, [[1, '10']]);
    engine.applyBatch(b1); // late: already inside the snapshot
    assert.deepEqual((await ask(1)).rows, [[1, '10']]);
    const b2 = await write('INSERT INTO t VALUES (2, 1, 5)', [[1, [2, 1, 5]]]);
    engine.applyBatch(b2);
    const hit = await ask(1);
    assert.equal(hit.source, 'hit');
    assert.deepEqual(hit.rows, await truth(1));
  });

  it('applies on top of the fill a batch after the snapshot that arrived while the upquery was out', async () => {
    let open!: () => void;
    up.gate = new Promise((r) => { open = r; });
    const n = up.snapshots.length;
    const pending = ask(2);
    while (up.snapshots.length === n) await new Promise((r) => setTimeout(r, 5));
    const b = await write('INSERT INTO t VALUES (3, 2, 7)', [[1, [3, 2, 7]]]);
    assert.ok(comparePositions(b.position, up.snapshots[n]) > 0, 'the write is after the snapshot');
    engine.applyBatch(b); // key 2 is missing: dropped at the node, held in the log
    up.gate = null;
    open();
    const a = await pending;
    assert.equal(a.source, 'fill');
    assert.deepEqual(a.rows, [[1, '7']]);
    assert.deepEqual(a.rows, await truth(2));
  });

  it('does not count twice a batch before the snapshot that arrived while the upquery was out', async () => {
    const before = await write('INSERT INTO t VALUES (4, 3, 1)', [[1, [4, 3, 1]]]);
    let open!: () => void;
    up.gate = new Promise((r) => { open = r; });
    const n = up.snapshots.length;
    const pending = ask(3);
    while (up.snapshots.length === n) await new Promise((r) => setTimeout(r, 5));
    assert.ok(comparePositions(before.position, up.snapshots[n]) <= 0, 'the write is inside the snapshot');
    engine.applyBatch(before);
    up.gate = null;
    open();
    assert.deepEqual((await pending).rows, [[1, '1']]);
    const next = await write('UPDATE t SET x = 2 WHERE id = 4', [[-1, [4, 3, 1]], [1, [4, 3, 2]]]);
    engine.applyBatch(next);
    const hit = await ask(3);
    assert.equal(hit.source, 'hit');
    assert.deepEqual(hit.rows, await truth(3));
  });

  it('holds back a fill newer than the stream until the stream catches up, so a transaction is seen whole', async () => {
    const seed = await write('INSERT INTO t VALUES (10, 10, 1)', [[1, [10, 10, 1]]]);
    engine.applyBatch(seed);
    assert.deepEqual((await ask(10)).rows, [[1, '1']]);
    // One transaction moves the row from key 10 to key 11; the stream has not delivered it yet.
    const move = await write('UPDATE t SET g = 11 WHERE id = 10', [[-1, [10, 10, 1]], [1, [10, 11, 1]]]);
    let answered = false;
    const pending = ask(11).then((a) => { answered = true; return a; });
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(answered, false, 'key 11 (filled after the move) waits for the stream');
    engine.applyBatch(move);
    assert.deepEqual((await pending).rows, [[1, '1']]);
    const a = await ask(10);
    assert.equal(a.source, 'hit');
    assert.deepEqual(a.rows, [[0, null]]);
  });
});
