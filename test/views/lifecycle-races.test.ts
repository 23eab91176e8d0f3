/**
 * A recheck that outlives its cache (DROP CACHE, then the same query registered again under the
 * same id) must not act on the cache registered since.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import mysql from 'mysql2/promise';
import type { FieldPacket } from 'mysql2';
import { Engine } from '../../src/views/engine.js';
import { toColumnDefinition, UpstreamClient } from '../../src/upstream/upstream-client.js';
import { BinlogStream } from '../../src/binlog/stream.js';
import { freshDatabase, type TestDatabase } from '../support/servers.js';
import { caughtUp, uniqueServerId } from '../binlog/support.js';
import { route, sessionFor } from './support.js';
import { upqueryConnectionOptions } from '../../src/upstream/mysql2-values.js';

class GatedSchema extends UpstreamClient {
  /** While set, the next loadTable waits for it before asking MariaDB. */
  gate: Promise<void> | null = null;
  entered: (() => void) | null = null;
  override async loadTable(db: string, table: string): ReturnType<UpstreamClient['loadTable']> {
    const g = this.gate;
    if (g !== null) {
      this.gate = null;
      this.entered?.();
      await g;
    }
    return super.loadTable(db, table);
  }
}

describe('recheck vs DROP CACHE + re-registration', () => {
  let db: TestDatabase, engine: Engine, stream: BinlogStream, up: GatedSchema, direct: mysql.Connection;
  before(async () => {
    db = await freshDatabase('views_lc');
    await db.admin.query('CREATE TABLE g (id INT PRIMARY KEY, v INT); INSERT INTO g VALUES (1, 10), (2, 20)');
    up = new GatedSchema(db.url);
    engine = new Engine({ upstreamUrl: db.url, defaultDatabase: db.name, dataDir: null, privilegeRefreshMs: 3_600_000, missPolicy: 'fill', logger: pino({ level: process.env.ROTOR_TEST_LOG ?? 'silent' }) }, up);
    await engine.start();
    stream = new BinlogStream({ url: db.url, serverId: uniqueServerId(), sink: engine, heartbeatMs: 250 });
    await stream.start();
    direct = await mysql.createConnection({ host: db.host, port: db.port, user: db.user, password: db.password, database: db.name, ...upqueryConnectionOptions });
  });
  after(async () => {
    await stream?.stop();
    await engine?.close();
    await direct?.end();
    await db?.drop();
  });
  const ask = (sql: string) => route(engine.router, sql, sessionFor(db.name), async (text) => {
    const [, fields] = await direct.query({ sql: text, rowsAsArray: true });
    return (fields as FieldPacket[]).map(toColumnDefinition);
  });

  it('a dropped cache no longer answers', async () => {
    const sql = 'SELECT v FROM g WHERE id = ?';
    const c = await engine.register({ sql });
    assert.equal((await ask('SELECT v FROM g WHERE id = 1')).source, 'fill');
    let open!: () => void;
    up.gate = new Promise((r) => { open = r; });
    const entered = new Promise<void>((r) => { up.entered = r; });
    await db.admin.query('ALTER TABLE g ADD COLUMN w INT');
    await caughtUp(stream, db.admin);
    await entered; // the recheck of the old cache waits in loadTable
    assert.ok(await engine.drop(c.id));
    const again = await engine.register({ sql });
    assert.equal(again.id, c.id);
    open();
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(engine.list().filter((x) => x.id === c.id).length, 1);
    assert.ok(await engine.drop(c.id), 'DROP CACHE finds it');
    assert.equal(engine.get(c.id), null);
    const after = await ask('SELECT v FROM g WHERE id = 2');
    assert.equal(after.source, 'upstream', 'no cache is registered any more, yet one answered');
  });
});
