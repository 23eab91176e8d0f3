/**
 * [note: one-refresh] The upstream's global settings are read one refresh at a time, so a value
 * read before a change cannot be applied after the value read since. The first read below is held
 * and answers an older div_precision_increment (as a read sent just before `SET GLOBAL` would);
 * refreshes asked for meanwhile share one read made after it, whose value stays.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Engine } from '../../src/views/engine.js';
import { UpstreamClient } from '../../src/upstream/upstream-client.js';
import { freshDatabase, type TestDatabase } from '../support/servers.js';
import { route, sessionFor } from './support.js';

class HeldSettings extends UpstreamClient {
  /** While set, the next read of the settings waits for it and answers the older value. */
  hold: Promise<void> | null = null;
  reads = 0;
  inFlight = 0;
  mostInFlight = 0;
  override async globalSettings(): ReturnType<UpstreamClient['globalSettings']> {
    this.reads++;
    this.mostInFlight = Math.max(this.mostInFlight, ++this.inFlight);
    try {
      const g = await super.globalSettings();
      const h = this.hold;
      if (h === null) return g;
      this.hold = null;
      await h;
      return { ...g, divPrecisionIncrement: g.divPrecisionIncrement + 5 };
    } finally {
      this.inFlight--;
    }
  }
}

describe('global settings refresh', () => {
  let db: TestDatabase, engine: Engine, up: HeldSettings;
  before(async () => {
    db = await freshDatabase('views_settings');
    up = new HeldSettings(db.url);
    engine = new Engine({ upstreamUrl: db.url, defaultDatabase: db.name, dataDir: null, privilegeRefreshMs: 3_600_000, logger: pino({ level: process.env.ROTOR_TEST_LOG ?? 'silent' }) }, up);
    await engine.start();
  });
  after(async () => {
    await engine?.close();
    await db?.drop();
  });

  it('applies the settings in the order they were read: a late answer read before a change does not win', async () => {
    const current = engine.divPrecisionIncrement;
    const readsAtStart = up.reads;
    let open!: () => void;
    up.hold = new Promise((resolve) => { open = resolve; });
    const first = engine.refresh();
    const later = [engine.refresh(), engine.refresh(), engine.refresh()];
    // The held read has not answered: the others wait for it rather than read beside it.
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(up.reads, readsAtStart + 1, 'one read in flight');
    open();
    await Promise.all([first, ...later]);
    assert.equal(up.mostInFlight, 1, 'never two reads of the settings at once');
    assert.equal(up.reads, readsAtStart + 2, 'the refreshes asked for meanwhile shared one read after the held one');
    assert.equal(engine.divPrecisionIncrement, current, 'the value read last stays');
    await engine.refresh();
    assert.equal(up.reads, readsAtStart + 3, 'a refresh asked for later reads again');
  });
});

class SerializableServer extends UpstreamClient {
  isolation = 'SERIALIZABLE';
  override async globalSettings(): ReturnType<UpstreamClient['globalSettings']> {
    return { ...(await super.globalSettings()), isolation: this.isolation };
  }
}

describe('[note: transaction-reads] an upstream whose default isolation is SERIALIZABLE', () => {
  let db: TestDatabase, engine: Engine, up: SerializableServer;
  before(async () => {
    db = await freshDatabase('views_serializable');
    await db.admin.query(`CREATE TABLE kv (k INT PRIMARY KEY, v INT); INSERT INTO kv VALUES (1, 10)`);
    up = new SerializableServer(db.url);
    engine = new Engine({ upstreamUrl: db.url, defaultDatabase: db.name, dataDir: null, privilegeRefreshMs: 3_600_000, missPolicy: 'fill', logger: pino({ level: process.env.ROTOR_TEST_LOG ?? 'silent' }) }, up);
    await engine.start();
  });
  after(async () => {
    await engine?.close();
    await db?.drop();
  });

  it('keeps every read inside a transaction upstream, ALWAYS caches included, until it is not', async () => {
    await engine.register({ sql: 'SELECT v FROM kv WHERE k = ?', database: db.name, always: true });
    const inside = sessionFor(db.name, { inTransaction: true, transactionBlocker: null });
    assert.equal((await route(engine.router, 'SELECT v FROM kv WHERE k = 1', sessionFor(db.name))).source, 'fill');
    const r = await route(engine.router, 'SELECT v FROM kv WHERE k = 1', inside);
    assert.equal(r.source, 'upstream');
    assert.match(r.reason ?? '', /SERIALIZABLE/);
    up.isolation = 'REPEATABLE-READ';
    await engine.refresh();
    // From the cache (no binlog stream runs here, so a read may wait on its fill's position: 'fill').
    assert.notEqual((await route(engine.router, 'SELECT v FROM kv WHERE k = 1', inside)).source, 'upstream');
  });
});
