import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { BinlogStream } from '../../src/binlog/stream.js';
import { comparePositions, type Batch, type BinlogPosition } from '../../src/dataflow/batch.js';
import type { SnapshotResult } from '../../src/dataflow/upquery.js';
import { freshDatabase, type TestDatabase } from '../support/servers.js';
import { RecordingSink, caughtUp, uniqueServerId, waitFor } from './support.js';
import { UpstreamClient } from '../../src/upstream/upstream-client.js';

// [note: fill-position] An upquery's rows are exact at the position it reports: batches at or
// before it are inside the rows, batches after it are not. Both of the engine's reads
// (UpstreamClient.snapshotQuery) are checked against the batches of Rotor's own stream under
// concurrent commits: the consistent snapshot (MariaDB's default) and the locking read (kept for
// servers that cannot name a snapshot's position).
describe('binlog positions against upquery reads', () => {
  let db: TestDatabase;
  let all: RecordingSink;
  let stream: BinlogStream;
  let snapshot: UpstreamClient;
  let locking: UpstreamClient;

  before(async () => {
    db = await freshDatabase('binlog_snap');
    await db.admin.query('CREATE TABLE c (id INT PRIMARY KEY AUTO_INCREMENT, k INT, INDEX (k))');
    all = new RecordingSink(db.name);
    stream = new BinlogStream({ url: db.url, serverId: uniqueServerId(), sink: all, heartbeatMs: 250 });
    await stream.start();
    snapshot = new UpstreamClient(db.url, { fillRead: 'snapshot' });
    locking = new UpstreamClient(db.url, { fillRead: 'locking' });
  });

  after(async () => {
    await Promise.all([snapshot.close(), locking.close()]);
    await stream.stop();
    await db.drop();
  });

  const ones = (b: Batch, k: number): number => b.changes.filter((c) => c.table === 'c').reduce((s, c) => s + c.deltas.filter((d) => d.row[1] === k).length, 0);
  const inside = (at: BinlogPosition, k: number): number => all.batches.filter((b) => comparePositions(b.position, at) <= 0).reduce((sum, b) => sum + ones(b, k), 0);

  it('splits the batches that touch its rows exactly, under concurrent commits (snapshot and locking reads)', async () => {
    const writers = await Promise.all([1, 2, 3, 4].map(() => mysql.createConnection({ uri: db.url })));
    let writing = true;
    const load = writers.map(async (w, i) => {
      while (writing) await w.query('INSERT INTO c (k) VALUES (?)', [i % 2]);
    });
    const reads: Array<{ kind: string; at: BinlogPosition; count: number }> = [];
    for (let i = 0; i < 150; i++) {
      for (const [kind, client] of [['snapshot', snapshot], ['locking', locking]] as const) {
        const r = await client.snapshotQuery('SELECT COUNT(*) FROM c WHERE k = 1');
        assert.ok(r.position !== null);
        reads.push({ kind, at: r.position, count: Number(r.rows[0][0]) });
      }
    }
    writing = false;
    await Promise.all(load);
    await Promise.all(writers.map((w) => w.end()));
    await caughtUp(stream, db.admin);
    assert.equal(snapshot.fillRead, 'snapshot', 'MariaDB names the snapshot\'s binlog position');
    assert.equal(locking.fillRead, 'locking');

    const distinct = new Set<number>();
    for (const s of reads) {
      assert.equal(inside(s.at, 1), s.count, `${s.kind} read: rows in batches at or before ${s.at.file}:${s.at.position}`);
      distinct.add(s.count);
    }
    assert.ok(distinct.size > 100, 'the reads fell between concurrent commits');

    // The same, against MariaDB's own decoder: each transaction's end_log_pos and row images.
    const decoded = await decodeBinlog(db, reads[0].at);
    assert.ok(decoded.filter((x) => x.ones > 0).length > 100, 'the decoder saw the writers\' transactions');
    for (const s of reads) {
      const counted = decoded.filter((x) => comparePositions(x.end, s.at) <= 0).reduce((sum, x) => sum + x.ones, reads[0].count);
      assert.equal(counted, s.count, `${s.kind} read: rows at or before ${s.at.file}:${s.at.position} by mariadb-binlog`);
    }
  });

  // [note: snapshot-position] MariaDB shows a session's snapshot position through buffers every
  // session's status read writes: overlapping status reads can show one session another's value.
  // Four snapshot reads at a time, beside a session reading status in a loop and another doing
  // so inside snapshots of its own, must each still be split exactly.
  it('concurrent snapshot reads, beside other sessions reading the binlog status, are each exact at their position', async () => {
    const client = new UpstreamClient(db.url, { fillRead: 'snapshot', connectionLimit: 4 });
    const writers = await Promise.all([1, 2, 3, 4].map(() => mysql.createConnection({ uri: db.url })));
    const others = await Promise.all([1, 2].map(() => mysql.createConnection({ uri: db.url })));
    let writing = true;
    const load = writers.map(async (w, i) => {
      while (writing) await w.query('INSERT INTO c (k) VALUES (?)', [i % 2]);
    });
    const noise = others.map(async (o, i) => {
      while (writing) {
        if (i === 0) await o.query("SHOW STATUS LIKE 'binlog_snapshot_%'");
        else {
          await o.query('START TRANSACTION WITH CONSISTENT SNAPSHOT');
          await o.query("SHOW STATUS LIKE 'binlog_snapshot_%'");
          await o.query('COMMIT');
        }
      }
    });
    const reads: Array<{ at: BinlogPosition; count: number }> = [];
    try {
      await Promise.all([1, 2, 3, 4].map(async () => {
        for (let i = 0; i < 200; i++) {
          const r = await client.snapshotQuery('SELECT COUNT(*) FROM c WHERE k = 1');
          assert.ok(r.position !== null && r.locked !== true);
          reads.push({ at: r.position, count: Number(r.rows[0][0]) });
        }
      }));
    } finally {
      writing = false;
      await Promise.allSettled([...load, ...noise]);
      await Promise.all([...writers, ...others].map((c) => c.end()));
      await client.close();
    }
    await caughtUp(stream, db.admin);
    const wrong = reads.filter((s) => inside(s.at, 1) !== s.count);
    assert.deepEqual(wrong.map((s) => `${s.at.file}:${s.at.position} read ${s.count}, batches say ${inside(s.at, 1)}`), [], `${wrong.length} of ${reads.length} positions were not their snapshot's (${client.tornPositions} torn reads caught)`);
    assert.ok(new Set(reads.map((s) => s.count)).size > 100, 'the reads fell between concurrent commits');
  });

  /**
   * The transactions from `from` on, as `mariadb-binlog -vv` decodes them: where each ends
   * (end_log_pos of its XID event) and how many rows with k = 1 it inserted into `c`.
   */
  async function decodeBinlog(test: TestDatabase, from: BinlogPosition): Promise<Array<{ end: BinlogPosition; ones: number }>> {
    const [[{ base }]] = await test.admin.query<mysql.RowDataPacket[]>('SELECT @@log_bin_basename AS base');
    const [logs] = await test.admin.query<mysql.RowDataPacket[]>('SHOW BINARY LOGS');
    const files = logs.map((l) => String(l.Log_name)).filter((f) => comparePositions({ file: f, position: 0 }, { file: from.file, position: 0 }) >= 0);
    const out: Array<{ end: BinlogPosition; ones: number }> = [];
    const table = `\`${test.name}\`.\`c\``;
    for (const file of files) {
      const args = ['--no-defaults', '--base64-output=decode-rows', '-vv', ...(file === from.file ? [`--start-position=${from.position}`] : []), join(dirname(String(base)), file)];
      const child = spawn('mariadb-binlog', args, { stdio: ['ignore', 'pipe', 'inherit'] });
      let ones = 0, mine = false;
      for await (const line of createInterface({ input: child.stdout })) {
        if (line.startsWith('### INSERT INTO ') || line.startsWith('### UPDATE ') || line.startsWith('### DELETE FROM ')) mine = line.startsWith('### INSERT INTO ') && line.includes(table);
        else if (mine && line.startsWith('###   @2=1 ')) ones++;
        else {
          const m = / end_log_pos (\d+) .*\tXid = /.exec(line);
          if (m) { out.push({ end: { file, position: Number(m[1]) }, ones }); ones = 0; mine = false; }
        }
      }
    }
    return out;
  }

  // The fill below stops inside its transaction, after reading the key, until the test releases a
  // user lock: a writer into the key's gap either commits meanwhile or waits for the fill's locks.
  const KEY = 7;
  const held = (name: string): string => `SELECT n, GET_LOCK('${name}', 30) AS held FROM (SELECT COUNT(*) AS n FROM c WHERE k = ${KEY}) AS d`;

  async function heldFill(client: UpstreamClient, name: string, hold: mysql.Connection): Promise<{ fill: Promise<SnapshotResult>; done: () => boolean }> {
    await hold.query('SELECT GET_LOCK(?, 30)', [name]);
    let finished = false;
    const fill = client.snapshotQuery(held(name)).finally(() => { finished = true; });
    await waitFor(async () => {
      const [rows] = await db.admin.query<mysql.RowDataPacket[]>("SELECT 1 FROM information_schema.processlist WHERE state = 'User lock' AND info LIKE '%GET_LOCK%FROM (SELECT%'");
      return rows.length > 0;
    }, 'the fill to wait inside its transaction');
    return { fill, done: () => finished };
  }

  it('takes no lock: a writer into the gap of a key being filled commits while the fill is open', async () => {
    const name = `${db.name}_snapshot`;
    const hold = await mysql.createConnection({ uri: db.url });
    const writer = await mysql.createConnection({ uri: db.url });
    await writer.query('SET SESSION innodb_lock_wait_timeout = 5');
    try {
      const { fill, done } = await heldFill(snapshot, name, hold);
      await writer.query('INSERT INTO c (k) VALUES (?)', [KEY]);
      assert.equal(done(), false, 'the writer committed while the fill was still open');
      const [waits] = await db.admin.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM information_schema.innodb_lock_waits');
      assert.equal(Number(waits[0].n), 0);
      await hold.query('SELECT RELEASE_LOCK(?)', [name]);
      const r = await fill;
      // Exact at its position: the snapshot predates the insert, whose batch comes after it.
      assert.equal(Number(r.rows[0][0]), 0);
      await caughtUp(stream, db.admin);
      assert.ok(r.position !== null);
      assert.equal(inside(r.position, KEY), 0);
      assert.ok(all.batches.some((b) => ones(b, KEY) > 0 && comparePositions(b.position, r.position!) > 0));
    } finally {
      await Promise.all([hold.end(), writer.end()]);
    }
  });

  // The writer is observed not to commit for a second while the fill holds its locks: blocked, it
  // cannot, however loaded the machine (a LOCK WAIT in innodb_trx was not always seen on a loaded
  // machine, though the writer did wait).
  it('the locking read, by contrast, makes the writer into its gap wait for its COMMIT', async () => {
    const name = `${db.name}_locking`;
    const hold = await mysql.createConnection({ uri: db.url });
    const writer = await mysql.createConnection({ uri: db.url });
    await writer.query('SET SESSION innodb_lock_wait_timeout = 60');
    let fill: Promise<SnapshotResult> | null = null;
    let write: Promise<unknown> | null = null;
    try {
      await caughtUp(stream, db.admin);
      const before = all.batches.reduce((sum, b) => sum + ones(b, KEY), 0);
      fill = (await heldFill(locking, name, hold)).fill;
      let wrote = false;
      write = writer.query('INSERT INTO c (k) VALUES (?)', [KEY]).then(() => { wrote = true; });
      await Promise.race([write, new Promise((resolve) => setTimeout(resolve, 1_000))]);
      assert.equal(wrote, false);
      await hold.query('SELECT RELEASE_LOCK(?)', [name]);
      const r = await fill;
      await write;
      assert.equal(Number(r.rows[0][0]), before);
      await caughtUp(stream, db.admin);
      assert.ok(r.position !== null);
      assert.equal(inside(r.position, KEY), before);
    } finally {
      // Nothing left running after the test: the fill and the writer are let go and settled.
      await hold.query('SELECT RELEASE_LOCK(?)', [name]).catch(() => undefined);
      await Promise.allSettled([fill, write].filter((p) => p !== null));
      await Promise.all([hold.end(), writer.end()]);
    }
  });
});
