import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { BinlogStream } from '../../src/binlog/stream.js';
import { comparePositions, type Batch, type BinlogPosition } from '../../src/dataflow/batch.js';
import { freshDatabase, type TestDatabase } from '../support/servers.js';
import { RecordingSink, caughtUp, uniqueServerId } from './support.js';
import { UpstreamClient } from '../../src/upstream/upstream-client.js';

// [note: fill-position] An upquery's rows are exact at the position SHOW MASTER STATUS reports
// while its share locks are held: batches at or before it are inside the rows, batches after it
// are not. The reads here are the engine's own (UpstreamClient.snapshotQuery), under concurrent
// commits. The consistent-snapshot alternative is measured beside it and reported, not asserted:
// on MariaDB 10.11 its binlog_snapshot_position disagrees with its snapshot now and then.
describe('binlog positions against upquery reads', () => {
  let db: TestDatabase;
  let all: RecordingSink;
  let stream: BinlogStream;
  let client: UpstreamClient;

  before(async () => {
    db = await freshDatabase('binlog_snap');
    await db.admin.query('CREATE TABLE c (id INT PRIMARY KEY AUTO_INCREMENT, k INT, INDEX (k))');
    all = new RecordingSink(null);
    stream = new BinlogStream({ url: db.url, serverId: uniqueServerId(), sink: all, heartbeatMs: 250 });
    await stream.start();
    client = new UpstreamClient(db.url);
  });

  after(async () => {
    await client.close();
    await stream.stop();
    await db.drop();
  });

  it('splits the batches that touch its rows exactly, under concurrent commits', async (t) => {
    const writers = await Promise.all([1, 2, 3, 4].map(() => mysql.createConnection({ uri: db.url })));
    const reader = await mysql.createConnection({ uri: db.url, multipleStatements: true });
    let writing = true;
    const load = writers.map(async (w, i) => {
      while (writing) await w.query('INSERT INTO c (k) VALUES (?)', [i % 2]);
    });
    const locked: Array<{ at: BinlogPosition; count: number }> = [];
    const snapshots: Array<{ at: BinlogPosition; count: number }> = [];
    for (let i = 0; i < 150; i++) {
      const r = await client.snapshotQuery('SELECT COUNT(*) FROM c WHERE k = 1');
      assert.ok(r.position !== null);
      locked.push({ at: r.position, count: Number(r.rows[0][0]) });
      const [res] = await reader.query<mysql.RowDataPacket[][]>({ sql: "START TRANSACTION WITH CONSISTENT SNAPSHOT; SHOW STATUS LIKE 'binlog_snapshot_%'; SELECT COUNT(*) AS n FROM c WHERE k = 1; COMMIT", rowsAsArray: false });
      const v = new Map(res[1].map((row) => [String(row.Variable_name), String(row.Value)]));
      snapshots.push({ at: { file: v.get('Binlog_snapshot_file')!, position: Number(v.get('Binlog_snapshot_position')) }, count: Number(res[2][0].n) });
    }
    writing = false;
    await Promise.all(load);
    await Promise.all(writers.map((w) => w.end()));
    await reader.end();
    await caughtUp(stream, db.admin);

    const ones = (b: Batch): number => b.changes.filter((c) => c.database === db.name && c.table === 'c').reduce((s, c) => s + c.deltas.filter((d) => d.row[1] === 1).length, 0);
    const inside = (at: BinlogPosition): number => all.batches.filter((b) => comparePositions(b.position, at) <= 0).reduce((sum, b) => sum + ones(b), 0);
    let distinct = 0;
    for (const s of locked) {
      assert.equal(inside(s.at), s.count, `rows in batches at or before ${s.at.file}:${s.at.position}`);
      distinct += s.count > 0 ? 1 : 0;
    }
    assert.ok(distinct > 100, 'the reads fell between concurrent commits');
    const off = snapshots.filter((s) => inside(s.at) !== s.count).length;
    t.diagnostic(`consistent snapshots whose binlog_snapshot_position disagreed with their rows: ${off} of ${snapshots.length}`);
  });
});
