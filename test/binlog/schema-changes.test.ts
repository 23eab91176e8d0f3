import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { BinlogStream } from '../../src/binlog/stream.js';
import { freshDatabase, type TestDatabase } from '../support/servers.js';
import { RecordingSink, caughtUp, uniqueServerId, waitFor } from './support.js';

describe('binlog schema changes', () => {
  let db: TestDatabase;
  let sink: RecordingSink;
  let stream: BinlogStream;

  before(async () => {
    db = await freshDatabase('binlog_ddl');
    sink = new RecordingSink(db.name);
    stream = new BinlogStream({ url: db.url, serverId: uniqueServerId(), sink, heartbeatMs: 250, reconnectBackoffMs: { first: 10, max: 100 } });
    await stream.start();
  });

  after(async () => {
    await stream.stop();
    await db.drop();
  });

  it('reports CREATE, ALTER, RENAME, TRUNCATE and DROP with the tables they touch', async () => {
    await db.admin.query('CREATE TABLE s1 (id INT PRIMARY KEY); CREATE TABLE s2 (id INT PRIMARY KEY)');
    await db.admin.query('INSERT INTO s1 VALUES (1)');
    await db.admin.query('ALTER TABLE s1 ADD COLUMN x INT');
    await db.admin.query('RENAME TABLE s1 TO s3, s2 TO s4');
    await db.admin.query('TRUNCATE TABLE s3');
    await db.admin.query('DROP TABLE s3, s4');
    await caughtUp(stream, db.admin);
    assert.deepEqual(sink.schema.map((c) => [c.kind, ...c.tables]), [
      ['create', 's1'], ['create', 's2'], ['alter', 's1'], ['rename', 's1', 's3', 's2', 's4'], ['truncate', 's3'], ['drop', 's3', 's4'],
    ]);
    for (const c of sink.schema) {
      assert.equal(c.database, db.name);
      assert.match(c.gtid ?? '', /^\d+-\d+-\d+$/);
    }
  });

  it('reports CREATE TABLE … SELECT and delivers its rows in the same group', async () => {
    await db.admin.query("CREATE TABLE src (id INT PRIMARY KEY, v VARCHAR(8)); INSERT INTO src VALUES (1, 'x'), (2, 'y')");
    await db.admin.query('CREATE TABLE copy SELECT * FROM src');
    await caughtUp(stream, db.admin);
    const create = sink.schema.find((c) => c.kind === 'create' && c.tables[0] === 'copy')!;
    const batch = sink.batches.find((b) => b.changes.some((c) => c.table === 'copy'))!;
    assert.deepEqual(batch.changes[0].deltas.map((d) => d.row), [[1, 'x'], [2, 'y']]);
    assert.deepEqual(create.position, batch.position);
    assert.equal(create.gtid, batch.gtid);
  });

  it('never mislabels a column while ALTER TABLE runs under concurrent writes, also across a resume', async () => {
    // Every column's default is its own name, so a row shows at once whether its labels are right.
    await db.admin.query("CREATE TABLE w (id INT PRIMARY KEY, a VARCHAR(8) NOT NULL DEFAULT 'a')");
    const cutAfterSchema = (): void => stream.disconnect('cut after a schema change');
    stream.on('schema', cutAfterSchema);
    const reconnectsBefore = stream.status().reconnects;
    const writer = await mysql.createConnection({ uri: db.url });
    let id = 0;
    let writing = true;
    const load = (async () => {
      while (writing) await writer.query('INSERT INTO w (id) VALUES (?)', [++id]);
    })();
    const alters = [
      "ALTER TABLE w ADD COLUMN b VARCHAR(8) NOT NULL DEFAULT 'b' FIRST",
      "ALTER TABLE w ADD COLUMN c VARCHAR(8) NOT NULL DEFAULT 'c' AFTER id",
      'ALTER TABLE w DROP COLUMN a',
      "ALTER TABLE w ADD COLUMN a VARCHAR(8) NOT NULL DEFAULT 'a' FIRST, ALGORITHM=COPY",
      "ALTER TABLE w CHANGE COLUMN b d VARCHAR(8) NOT NULL DEFAULT 'd'",
    ];
    for (const sql of alters) {
      await new Promise((r) => setTimeout(r, 60));
      await db.admin.query(sql);
    }
    await new Promise((r) => setTimeout(r, 60));
    writing = false;
    await load;
    await writer.end();
    await caughtUp(stream, db.admin);
    stream.off('schema', cutAfterSchema);
    await waitFor(() => stream.status().connected, 'the stream to be connected');

    let checked = 0;
    const seen = new Set<number>();
    for (const b of sink.batches) {
      for (const change of b.changes.filter((c) => c.table === 'w')) {
        for (const { row } of change.deltas) {
          change.columns.forEach((name, i) => {
            // The renamed column keeps the value written under its old name.
            if (name !== 'id') assert.ok(row[i] === name || (name === 'd' && row[i] === 'b'), `${name} = ${String(row[i])}`);
          });
          const rid = row[change.columns.indexOf('id')] as number;
          assert.ok(!seen.has(rid), `row ${rid} delivered once`);
          seen.add(rid);
          checked++;
        }
      }
    }
    assert.equal(checked, id);
    assert.equal(sink.schema.filter((c) => c.kind === 'alter' && c.tables[0] === 'w').length, alters.length);
    assert.ok(stream.status().reconnects >= reconnectsBefore + alters.length);
  });
});
