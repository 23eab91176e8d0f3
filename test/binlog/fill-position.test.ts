import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { BinlogStream } from '../../src/binlog/stream.js';
import { comparePositions, type Batch, type BinlogPosition } from '../../src/binlog/batch.js';
import { freshDatabase, type TestDatabase } from '../support/servers.js';
import { RecordingSink, caughtUp, uniqueServerId } from './support.js';

// [note: fill-position] A snapshot's binlog_snapshot_position is the position of the last batch
// it contains: batches at or before it are inside the snapshot, batches after it are not.
describe('binlog positions against consistent snapshots', () => {
  let db: TestDatabase;
  let all: RecordingSink;
  let stream: BinlogStream;

  before(async () => {
    db = await freshDatabase('binlog_snap');
    await db.admin.query('CREATE TABLE c (id INT PRIMARY KEY AUTO_INCREMENT, k INT)');
    all = new RecordingSink(null);
    stream = new BinlogStream({ url: db.url, serverId: uniqueServerId(), sink: all, heartbeatMs: 250 });
    await stream.start();
  });

  after(async () => {
    await stream.stop();
    await db.drop();
  });

  it('equals the position of the last batch a snapshot contains, under concurrent commits', async () => {
    const writers = await Promise.all([1, 2, 3].map(() => mysql.createConnection({ uri: db.url })));
    const reader = await mysql.createConnection({ uri: db.url });
    let writing = true;
    const load = writers.map(async (w, i) => {
      while (writing) await w.query('INSERT INTO c (k) VALUES (?)', [i]);
    });
    const snapshots: Array<{ at: BinlogPosition; count: number }> = [];
    for (let i = 0; i < 30; i++) {
      await reader.query('START TRANSACTION WITH CONSISTENT SNAPSHOT');
      const [status] = await reader.query<mysql.RowDataPacket[]>("SHOW STATUS LIKE 'binlog_snapshot_%'");
      const v = new Map(status.map((r) => [String(r.Variable_name), String(r.Value)]));
      const [[{ n }]] = await reader.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM c');
      await reader.query('COMMIT');
      snapshots.push({ at: { file: v.get('Binlog_snapshot_file')!, position: Number(v.get('Binlog_snapshot_position')) }, count: Number(n) });
      await new Promise((r) => setTimeout(r, 5));
    }
    writing = false;
    await Promise.all(load);
    await Promise.all(writers.map((w) => w.end()));
    await reader.end();
    await caughtUp(stream, db.admin);

    const mine = (b: Batch): number => b.changes.filter((c) => c.database === db.name && c.table === 'c').reduce((s, c) => s + c.deltas.length, 0);
    const positions = new Set([...all.batches, ...all.schema].map((b) => `${b.position.file}:${b.position.position}`));
    let distinct = 0;
    for (const s of snapshots) {
      const inside = all.batches.filter((b) => comparePositions(b.position, s.at) <= 0).reduce((sum, b) => sum + mine(b), 0);
      assert.equal(inside, s.count, `rows in batches at or before ${s.at.file}:${s.at.position}`);
      if (s.count > 0) assert.ok(positions.has(`${s.at.file}:${s.at.position}`), 'the snapshot position is the end of a transaction the stream delivered');
      distinct += s.count > 0 && s.count < all.batches.length ? 1 : 0;
    }
    assert.ok(distinct > 10, 'the snapshots fell between concurrent commits');
  });
});
