/**
 * [note: view-expansion] A view replaced while a cache over it is being registered: the DDL
 * reaches the binlog after the registration read the old definition but before the cache was
 * installed, so it found no cache to check; the registration checks its cache again itself, and
 * the cache answers the new definition's rows.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import mysql from 'mysql2/promise';
import type { FieldPacket } from 'mysql2';
import { Engine } from '../../src/views/engine.js';
import { toColumnDefinition, UpstreamClient } from '../../src/upstream/upstream-client.js';
import { BinlogStream } from '../../src/binlog/stream.js';
import { freshDatabase, type TestDatabase } from '../support/servers.js';
import { caughtUp, uniqueServerId } from '../binlog/support.js';
import { route, sessionFor, canonical } from './support.js';
import { upqueryConnectionOptions } from '../../src/upstream/mysql2-values.js';
import type { Row } from '../../src/dataflow/delta.js';

/** Holds the first loadTable after `gate` is set: the registration has read the view's definition by then. */
class GatedSchema extends UpstreamClient {
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

let db: TestDatabase, engine: Engine, stream: BinlogStream, up: GatedSchema, direct: mysql.Connection;
before(async () => {
  db = await freshDatabase('view_ddl_race');
  await db.admin.query(`
    CREATE TABLE u (id INT PRIMARY KEY, active TINYINT, name VARCHAR(20));
    INSERT INTO u VALUES (1, 1, 'ann'), (2, 0, 'bob');
    CREATE VIEW live AS SELECT id, name FROM u WHERE active = 1;
  `);
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

it('checks a cache again when its view changed while it was being registered', async () => {
  let open!: () => void;
  up.gate = new Promise((r) => { open = r; });
  const entered = new Promise<void>((r) => { up.entered = r; });
  const registering = engine.register({ sql: 'SELECT name FROM live WHERE id = ?' });
  await entered;
  await db.admin.query('CREATE OR REPLACE VIEW live AS SELECT id, name FROM u WHERE active = 0');
  await caughtUp(stream, db.admin);
  open();
  const c = await registering;
  for (let i = 0; engine.get(c.id)?.status !== 'ready'; i++) {
    assert.ok(i < 200, `never ready: ${JSON.stringify(engine.get(c.id))}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  for (const id of [1, 2]) {
    const sql = `SELECT name FROM live WHERE id = ${id}`;
    const [rows] = await direct.query({ sql, rowsAsArray: true });
    // A recheck the DDL started may still be under way (the cache goes upstream meanwhile):
    // the cache must come back serving.
    let a = await ask(sql);
    for (let i = 0; a.source === 'upstream' && i < 200; i++) {
      await new Promise((r) => setTimeout(r, 25));
      a = await ask(sql);
    }
    assert.notEqual(a.source, 'upstream', a.reason ?? undefined);
    assert.equal(canonical(a.rows ?? [], false), canonical(rows as Row[], false), `the new definition's rows for id ${id}`);
  }
});
