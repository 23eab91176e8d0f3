/**
 * The setup end-to-end files share, as one fixture: a fresh database with its schema, a test Rotor
 * in front of it, a client connection through Rotor and one straight to MariaDB (the same user,
 * database and connection options), all closed after the file; and the helpers their tests use to
 * register caches and to compare Rotor's answers with MariaDB's.
 */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { freshDatabase, type TestDatabase } from './servers.js';
import { startTestRotor, type TestRotor, type TestRotorOptions } from './rotor.js';

export interface E2eOptions {
  /** What the fresh database holds before Rotor starts: statements (several, `;`-separated), or a function that writes them. */
  readonly schema?: string | ((db: TestDatabase) => Promise<void>);
  readonly rotor?: TestRotorOptions;
  /** Options of both connections (a charset, say). */
  readonly connection?: mysql.ConnectionOptions;
  /**
   * What the file arranges once all is open (caches registered, keys filled), in the same hook:
   * a second top-level `before` would not wait for the fixture's (node 20 starts each as it is
   * declared).
   */
  readonly arrange?: (fx: E2eFixture) => Promise<void>;
}

export interface E2eFixture {
  readonly db: TestDatabase;
  readonly rotor: TestRotor;
  /** A client connection through Rotor. */
  readonly viaRotor: mysql.Connection;
  /** A connection straight to MariaDB as the same user, to the same database. */
  readonly direct: mysql.Connection;
  /** Another client connection through Rotor (with `extra` options), ended with the fixture's. */
  connect(extra?: mysql.ConnectionOptions): Promise<mysql.Connection>;
  /** Another connection straight to MariaDB, as `direct` but with `extra` options; the caller ends it. */
  connectDirect(extra?: mysql.ConnectionOptions): Promise<mysql.Connection>;
  /**
   * Registers `sql` over the test database through the admin API and asserts 201; its cache id.
   * More than 20 registrations a second are refused (429), as for any client: it waits and asks again.
   */
  register(sql: string): Promise<string>;
  /** How many reads a cache has answered from memory. */
  hits(cacheId: string): Promise<number>;
  /**
   * The same answer through Rotor as straight from MariaDB, each read twice through Rotor (a fill,
   * then a hit): `text` in the text protocol (values as the bytes MariaDB printed, column
   * definitions as `meta` reduces them), then `prepared` with its parameters in the binary protocol.
   */
  sameTextAndBinary(text: string, meta: (fields: unknown) => unknown, prepared: { sql: string; params: ReadonlyArray<number | string> }): Promise<void>;
  /**
   * The `id`s Rotor answers to `sql` (read twice through Rotor: a fill, then what a hit answers)
   * and MariaDB's, sorted and joined, and whether Rotor answered the second read from memory; text
   * protocol, or the binary one with `values` bound when `prepared`.
   */
  answeredIds(sql: string, values: ReadonlyArray<string | number | Date>, prepared: boolean): Promise<{ got: string; want: string; served: boolean }>;
}

/** Every value as the text protocol carries it: the bytes MariaDB printed. */
export const rawText = { typeCast: (field: { string(): string | null }) => field.string() };

/** The column definitions a client sees, each reduced to `keys` in that order: to compare Rotor's with MariaDB's. */
export function columnDefs(fields: unknown, keys: ReadonlyArray<keyof mysql.FieldPacket>): unknown[][] {
  return (fields as mysql.FieldPacket[]).map((f) => keys.map((k) => f[k]));
}

/**
 * Sets the fixture up in a `before` hook of the calling file and closes it in an `after` hook:
 * database `prefix` (with a random suffix), `opts.schema`, Rotor with `opts.rotor`, then the two
 * connections. Its members MUST be read only once the hook has run (inside a test or a later hook).
 */
export function e2eFixture(prefix: string, opts: E2eOptions = {}): E2eFixture {
  let db: TestDatabase | undefined;
  let rotor: TestRotor | undefined;
  let viaRotor: mysql.Connection | undefined;
  let direct: mysql.Connection | undefined;
  const more: mysql.Connection[] = [];

  before(async () => {
    db = await freshDatabase(prefix);
    if (typeof opts.schema === 'string') await db.admin.query(opts.schema);
    else await opts.schema?.(db);
    rotor = await startTestRotor(db, opts.rotor);
    viaRotor = await rotor.connect(opts.connection);
    direct = await fixture.connectDirect(opts.connection);
    await opts.arrange?.(fixture);
  });

  after(async () => {
    // A test may have broken a connection already; the rest is closed all the same.
    await viaRotor?.end().catch(() => undefined);
    await direct?.end().catch(() => undefined);
    for (const c of more) await c.end().catch(() => undefined);
    await rotor?.stop();
    await db?.drop();
  });

  const ready = <T>(name: string, value: T | undefined): T => {
    if (value === undefined) throw new Error(`the e2e fixture's ${name} is read before its before hook ran`);
    return value;
  };

  const fixture: E2eFixture = {
    get db() { return ready('db', db); },
    get rotor() { return ready('rotor', rotor); },
    get viaRotor() { return ready('viaRotor', viaRotor); },
    get direct() { return ready('direct', direct); },

    async connect(extra) {
      const c = await fixture.rotor.connect(extra);
      more.push(c);
      return c;
    },

    connectDirect(extra = {}) {
      const { host, port, user, password, name } = fixture.db;
      return mysql.createConnection({ host, port, user, password, database: name, ...extra });
    },

    async register(sql) {
      const ask = () => fixture.rotor.api<{ id: string }>('POST', '/api/caches', { sql, database: fixture.db.name });
      let res = await ask();
      for (let i = 0; res.status === 429 && i < 50; i++) {
        await new Promise((r) => setTimeout(r, 100));
        res = await ask();
      }
      assert.equal(res.status, 201, `${sql}: ${JSON.stringify(res.body)}`);
      return res.body.id;
    },

    hits: (cacheId) => fixture.rotor.hits(cacheId),

    async sameTextAndBinary(text, meta, prepared) {
      const [want, wantFields] = await fixture.direct.query({ sql: text, rowsAsArray: true, ...rawText });
      for (let n = 0; n < 2; n++) {
        const [got, gotFields] = await fixture.viaRotor.query({ sql: text, rowsAsArray: true, ...rawText });
        assert.deepEqual(got, want, `${text} (text, read ${n + 1})`);
        assert.deepEqual(meta(gotFields), meta(wantFields), `column definitions of ${text}`);
      }
      // The binary protocol: mysql2 decodes FLOAT/DOUBLE from their bytes, so equal numbers are equal bits.
      const [wantBin] = await fixture.direct.execute({ sql: prepared.sql, rowsAsArray: true }, [...prepared.params]);
      for (let n = 0; n < 2; n++) {
        const [gotBin] = await fixture.viaRotor.execute({ sql: prepared.sql, rowsAsArray: true }, [...prepared.params]);
        assert.deepEqual(gotBin, wantBin, `${prepared.sql} ${JSON.stringify(prepared.params)} (binary, read ${n + 1})`);
      }
    },

    async answeredIds(sql, values, prepared) {
      const run = async (c: mysql.Connection): Promise<string> => {
        const [rows] = prepared ? await c.execute(sql, [...values]) : await c.query(sql, [...values]);
        return (rows as Array<{ id: number }>).map((r) => r.id).sort().join(',');
      };
      const stats = () => fixture.rotor.rotor.proxy.stats().servedFromCache;
      await run(fixture.viaRotor);
      const before = stats();
      const got = await run(fixture.viaRotor);
      return { got, want: await run(fixture.direct), served: stats() > before };
    },
  };
  return fixture;
}
