/**
 * [note: warm-fill] and [note: hot-keys-exact]: hot keys recorded by one engine are filled by the
 * next one over the same data dir, through the normal fill path, at a bounded number of fills in
 * flight; stale or garbage files are skipped; a dropped cache stops its warm-up.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { Engine, type EngineOptions } from '../../src/views/engine.js';
import { BinlogStream } from '../../src/binlog/stream.js';
import { decodeValue, encodeValue, FileHotKeyStore, HOT_KEYS_FORMAT, HOT_KEYS_VERSION, MAX_HOT_KEYS_FILE_BYTES } from '../../src/views/hot-keys.js';
import { WarmPacer } from '../../src/views/warm-start.js';
import type { Value } from '../../src/values.js';
import { uniqueServerId } from '../binlog/support.js';
import { EngineFixture, GatedUpstream, route } from './support.js';

/** The gated upstream, remembering each upquery's SQL. */
class Recording extends GatedUpstream {
  readonly sqls: string[] = [];
  override snapshotQuery(sql: string, locking?: boolean): ReturnType<GatedUpstream['snapshotQuery']> {
    this.sqls.push(sql);
    return super.snapshotQuery(sql, locking);
  }
}

const log = pino({ level: process.env.ROTOR_TEST_LOG ?? 'silent' });

describe('hot keys: values', () => {
  it('reads back every value exactly as it was recorded', () => {
    const values: Value[] = [
      null, 0, -7, 1.5, 0.1, 2 ** 53 - 1, 9007199254740993n, -9223372036854775808n, 18446744073709551615n,
      '12.30', '-0.000', '2024-02-29', '2024-02-29 23:59:59.123456', '838:59:59', '', 'it\'s "quoted" \u0000 ü',
      Buffer.from([0, 255, 10, 13]), Buffer.alloc(0),
    ];
    const back = JSON.parse(JSON.stringify(values.map(encodeValue))) as unknown[];
    const decoded = back.map(decodeValue);
    assert.equal(decoded.length, values.length);
    for (let i = 0; i < values.length; i++) {
      const a = values[i], b = decoded[i];
      if (Buffer.isBuffer(a)) assert.ok(Buffer.isBuffer(b) && a.equals(b), `value ${i}`);
      else assert.equal(b, a, `value ${i}`);
      assert.equal(typeof b, typeof a, `type of value ${i}`);
    }
  });

  it('refuses what is not a recorded value', () => {
    for (const j of [{}, [], { big: '1.5' }, { hex: 'zz' }, { hex: 'abc' }, { big: '1', hex: '00' }, { n: 1 }, true, Infinity]) {
      assert.equal(decodeValue(j), undefined, JSON.stringify(j));
    }
  });
});

describe('hot keys: the file store', () => {
  it('refuses a file larger than any record unread, instead of parsing it before the proxy listens', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rotor-hot-big-'));
    try {
      const store = new FileHotKeyStore(dir);
      await mkdir(join(dir, 'hot'));
      const file = join(dir, 'hot', 'q_000000000000.json');
      await writeFile(file, '{"format":"rotor-hot-keys","keys":[');
      await truncate(file, MAX_HOT_KEYS_FILE_BYTES + 1);
      assert.deepEqual(await store.read('q_000000000000'), [{ tooLarge: true }]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('warm start: the pacer', () => {
  it('lets through at most its rate per second of its clock, counted over simulated time', () => {
    let now = 0;
    const pacer = new WarmPacer(50, now);
    let taken = 0;
    // Asked every simulated millisecond for 10 s: 50 a second, plus one burst of a tenth of that.
    for (; now <= 10_000; now++) while (pacer.take(now)) taken++;
    assert.ok(taken <= 50 * 10 + 5, `took ${taken}`);
    assert.ok(taken >= 50 * 10 - 1, `took ${taken}`);
  });
});

describe('warm start', () => {
  let f: EngineFixture;
  let dir: string;
  let cacheId: string;
  const engines: Array<{ engine: Engine; stream: BinlogStream }> = [];

  /** Another engine over the same database and data dir, its stream started, its warm-up begun. */
  async function restart(engine: Partial<EngineOptions> = {}, upstream?: GatedUpstream, warm = true): Promise<Engine> {
    const e = new Engine({ upstreamUrl: f.db.url, defaultDatabase: f.db.name, dataDir: dir, missPolicy: 'fill', privilegeRefreshMs: 3_600_000, logger: log, ...engine }, upstream);
    await e.start();
    const stream = new BinlogStream({ url: f.db.url, serverId: uniqueServerId(), sink: e, heartbeatMs: 250 });
    await stream.start();
    engines.push({ engine: e, stream });
    if (warm) await e.warmUp();
    return e;
  }

  async function done(e: Engine): Promise<void> {
    while (e.warmStatus()?.done !== true) await sleep(10);
    await e.settled();
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rotor-warm-'));
    const rows = Array.from({ length: 150 }, (_, i) => `(${i + 1}, ${9007199254740993n + BigInt(i)}, 'b${i}', '${i}.50', '2024-01-0${(i % 9) + 1}', 'v${i}')`).join(', ');
    f = await EngineFixture.create('views_warm', `
      CREATE TABLE item (id INT PRIMARY KEY, big BIGINT UNSIGNED, bin VARBINARY(8), amount DECIMAL(10,2), at DATE, v VARCHAR(20), KEY (big, bin), KEY (amount, at));
      INSERT INTO item VALUES ${rows};
    `, { dataDir: dir });
    cacheId = (await f.engine.register({ sql: 'SELECT id, v FROM item WHERE big = ? AND bin = ?', name: 'by_big' })).id;
    await f.engine.register({ sql: 'SELECT id, v FROM item WHERE amount = ? AND at = ?', name: 'by_amount' });
    await f.engine.register({ sql: 'SELECT v FROM item WHERE id = ?', name: 'by_id' });
  });
  after(async () => {
    for (const { engine, stream } of engines) {
      await stream.stop();
      await engine.close();
    }
    await f.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('records the hottest keys, with BIGINT beyond 2^53, binary strings, DECIMAL and dates exactly, and fills them after a restart', async () => {
    // Key 2 read last and twice: hottest; key 1 next.
    for (const sql of [
      "SELECT id, v FROM item WHERE big = 9007199254740993 AND bin = 'b0'",
      "SELECT id, v FROM item WHERE big = 9007199254740994 AND bin = 'b1'",
      "SELECT id, v FROM item WHERE amount = 1.50 AND at = '2024-01-02'",
      "SELECT id, v FROM item WHERE big = 9007199254740994 AND bin = 'b1'",
    ]) { const a = await f.ask(sql); assert.equal(a.rows?.length, 1, sql + ' ' + String(a.reason)); }
    await f.engine.recordHotKeys();
    const doc = JSON.parse(await readFile(join(dir, 'hot', `${cacheId}.json`), 'utf8')) as { format: string; version: number; arity: number; keys: unknown[][] };
    assert.equal(doc.format, HOT_KEYS_FORMAT);
    assert.equal(doc.version, HOT_KEYS_VERSION);
    assert.equal(doc.arity, 2);
    assert.deepEqual(doc.keys, [[{ big: '9007199254740994' }, { hex: '6231' }], [{ big: '9007199254740993' }, { hex: '6230' }]]);

    // A write the next engine never sees in its stream: made before it starts.
    await f.db.admin.query("UPDATE item SET v = 'changed' WHERE id = 2");
    const e = await restart();
    await done(e);
    assert.deepEqual({ ...e.warmStatus(), inFlight: 0 }, { keys: 3, filled: 3, present: 0, failed: 0, skipped: 0, pending: 0, inFlight: 0, done: true });
    for (const sql of [
      "SELECT id, v FROM item WHERE big = 9007199254740994 AND bin = 'b1'",
      "SELECT id, v FROM item WHERE big = 9007199254740993 AND bin = 'b0'",
      "SELECT id, v FROM item WHERE amount = 1.50 AND at = '2024-01-02'",
    ]) {
      // (A session's first read of a cache waits for its grants: a hit all the same, counted below.)
      const a = await route(e.router, sql, f.session);
      assert.deepEqual(a.rows, (await f.upstream(sql)).rows, sql);
    }
    assert.deepEqual(e.get('by_big')?.stats, { ...e.get('by_big')!.stats, hits: 2, misses: 0 });
    assert.deepEqual(e.get('by_amount')?.stats, { ...e.get('by_amount')!.stats, hits: 1, misses: 0 });
    assert.equal((await route(e.router, "SELECT id, v FROM item WHERE big = 9007199254740994 AND bin = 'b1'", f.session)).rows?.[0]?.[1], 'changed');
  });

  it('skips garbage, other versions, other definitions and keys of the wrong arity, and deletes the files of caches no longer registered', async () => {
    const hot = join(dir, 'hot');
    await mkdir(hot, { recursive: true });
    const good = JSON.parse(await readFile(join(hot, `${cacheId}.json`), 'utf8')) as Record<string, unknown>;
    const byId = f.engine.get('by_id')!.id;
    const byAmount = f.engine.get('by_amount')!.id;
    await writeFile(join(hot, `${byId}.json`), '{"format": "rotor-hot-keys", "version": 1, "keys": [[1]');
    await writeFile(join(hot, `${byAmount}.json`), JSON.stringify({ ...good, cache: byAmount }));
    await writeFile(join(hot, `${cacheId}.json`), JSON.stringify({ ...good, keys: [[{ big: '9007199254740995' }, { hex: '6232' }], [1], 'x', [{ big: '1' }, { hex: 'zz' }]] }));
    await writeFile(join(hot, 'q_gone.json'), JSON.stringify({ ...good, cache: 'q_gone' }));
    const e = await restart();
    await done(e);
    const s = e.warmStatus()!;
    // Two whole files refused, three keys of the third.
    assert.equal(s.skipped, 2 + 3);
    assert.equal(s.keys, 1);
    assert.equal(s.filled, 1);
    assert.ok(!(await readdir(hot)).includes('q_gone.json'));
    await route(e.router, "SELECT id, v FROM item WHERE big = 9007199254740995 AND bin = 'b2'", f.session);
    assert.equal(e.get('by_big')?.stats.hits, 1);
    assert.equal(e.get('by_big')?.stats.misses, 0);
    // Every file good again but one, of a version this Rotor does not read.
    await writeFile(join(hot, `${cacheId}.json`), JSON.stringify(good));
    await rm(join(hot, `${byId}.json`));
    await writeFile(join(hot, `${byAmount}.json`), JSON.stringify({ ...good, cache: byAmount, version: 2 }));
    const v2 = await restart();
    await done(v2);
    assert.equal(v2.warmStatus()!.skipped, 1);
    assert.equal(v2.warmStatus()!.filled, 2);
  });

  it('keeps at most its bound of fills in flight, hottest keys first', async () => {
    // 120 keys of one cache, read in order: key 120 is the hottest.
    // Each read twice: a key read once is installed first-to-go, unranked ([note: memory-budget]).
    for (let id = 1; id <= 120; id++) for (let n = 0; n < 2; n++) await f.ask(`SELECT v FROM item WHERE id = ${id}`);
    await f.engine.recordHotKeys();
    const up = new Recording(f.db.url);
    let open!: () => void;
    up.gate = new Promise((r) => { open = r; });
    const e = await restart({ warm: { rate: 1_000_000, fills: 3 } }, up);
    await sleep(50);
    const s = e.warmStatus()!;
    assert.equal(s.inFlight, 3);
    assert.equal(s.pending, s.keys);
    open();
    await done(e);
    assert.equal(e.warm?.peakInFlight, 3);
    const st = e.warmStatus()!;
    assert.equal(st.filled, st.keys, JSON.stringify(st));
    assert.equal(e.get('by_id')!.stats.keys, 120);
    // Hottest first: the first upquery of by_id asks for key 120, and key 1 comes last.
    const byId = up.sqls.filter((q) => /`v`/.test(q) && !/`big`|`amount`/.test(q));
    assert.match(byId[0], /\b120\b/);
    assert.match(byId.at(-1)!, /\b1\b/);
  });

  it('starts no more keys than its rate allows: at one key a second, one key, though four fills may be in flight', async () => {
    const e = await restart({ warm: { rate: 1, fills: 4 } });
    const s = e.warmStatus()!;
    assert.ok(s.keys > 100);
    assert.equal(s.inFlight, 1);
    assert.equal(s.pending, s.keys);
    assert.equal(e.warm?.peakInFlight, 1);
  });

  it('stops the warm-up of a cache dropped while it warms, and forgets its hot keys', async () => {
    const up = new GatedUpstream(f.db.url);
    let open!: () => void;
    up.gate = new Promise((r) => { open = r; });
    const e = await restart({ warm: { rate: 1_000_000, fills: 2 } }, up);
    await sleep(50);
    const id = e.get('by_id')!.id;
    assert.ok(e.warmStatus()!.pending > 100);
    assert.equal(e.warmStatus()!.inFlight, 2);
    assert.ok(e.drop('by_id'));
    const asked = up.snapshots.length;
    open();
    await done(e);
    const s = e.warmStatus()!;
    assert.ok(s.skipped >= 100, JSON.stringify(s));
    // At most the two fills in flight when it was dropped (16 keys each), and the other caches' keys.
    assert.ok(s.filled <= 2 * 16 + 3, JSON.stringify(s));
    // Only the fills in flight when it was dropped (and those of the other caches) asked the upstream.
    assert.ok(up.snapshots.length - asked <= 3, `${up.snapshots.length - asked} upqueries after the drop`);
    await sleep(20);
    assert.ok(!(await readdir(join(dir, 'hot'))).includes(`${id}.json`));
  });

  it('writes nothing when nothing was read or filled since the last record, nor a cache whose keys did not change', async () => {
    const hot = join(dir, 'hot');
    const file = `${cacheId}.json`;
    await f.engine.recordHotKeys();
    await rm(join(hot, file));
    await f.engine.recordHotKeys();
    assert.ok(!(await readdir(hot)).includes(file));
    // A read of another cache: this one's list is the same.
    await f.ask('SELECT v FROM item WHERE id = 130');
    await f.ask('SELECT v FROM item WHERE id = 130');
    await f.engine.recordHotKeys();
    assert.ok(!(await readdir(hot)).includes(file));
    await f.ask("SELECT id, v FROM item WHERE big = 9007199254741000 AND bin = 'b7'");
    await f.engine.recordHotKeys();
    assert.ok((await readdir(hot)).includes(file));
  });
});
