/**
 * Seeded protocol fuzz against a whole Rotor in front of the private MariaDB: random and mutated
 * packets at every stage (handshake response, auth switch response, commands, COM_STMT_EXECUTE
 * with wrong parameter counts and types and short null bitmaps, huge length-encoded integers),
 * hostile SQL, huge declared packet lengths and packets split at every byte.
 *
 * Every fuzzed session answers (an error, or whatever upstream makes of the bytes) or is closed;
 * none is left hanging. Meanwhile a healthy mysql2 connection keeps getting SELECT 1 and a cached
 * read answered, and what a stalled half-sent packet costs Rotor is what arrived
 * ([note: framer-memory]). A failure names the seed: ROTOR_FUZZ_SEED=<seed> replays it;
 * ROTOR_FUZZ_CASES=<n> runs more cases.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type mysql from 'mysql2/promise';
import { freshDatabase, type TestDatabase } from '../support/servers.js';
import { startTestRotor, type TestRotor } from '../support/rotor.js';
import { CLIENT_CAPS, nativeToken, RawClient } from './support.js';
import { Cap, Com, Type } from '../../src/proxy/protocol/constants.js';
import { decodeErr } from '../../src/proxy/protocol/generic-response.js';
import { encodeHandshakeResponse } from '../../src/proxy/protocol/handshake.js';
import { PacketWriter } from '../../src/proxy/protocol/packet-writer.js';
import { encodeExecutePayload } from '../../src/proxy/protocol/statement-execute.js';
import { fuzzRun, Mutator } from './protocol/mutate.js';

const { seed, cases } = fuzzRun(3000);
const WORKERS = 8;
/** A liveness bound, not a speed check: a fuzzed session that neither answers nor closes by then hangs. */
const ANSWER_WITHIN_MS = 30_000;
const CACHED_SQL = 'SELECT v FROM kv WHERE k = ?';

let db: TestDatabase;
let rotor: TestRotor;
let port: number;
let cacheId: string;

before(async () => {
  db = await freshDatabase('proxy_fuzz');
  await db.admin.query('CREATE TABLE kv (k INT PRIMARY KEY, v VARCHAR(20) NOT NULL); INSERT INTO kv VALUES (1, \'one\'), (2, \'two\'), (3, \'three\')');
  rotor = await startTestRotor(db);
  port = rotor.rotor.listen.port;
  const res = await rotor.api<{ id: string }>('POST', '/api/caches', { sql: CACHED_SQL, database: db.name });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  cacheId = res.body.id;
});

after(async () => {
  await rotor?.stop();
  await db?.drop();
});

function frame(payload: Buffer, seq: number): Buffer {
  return Buffer.from(new PacketWriter(payload.length + 8).begin(seq).bytes(payload).end().finish());
}

function command(com: number, body: string | Buffer = ''): Buffer {
  return Buffer.concat([Buffer.from([com]), Buffer.isBuffer(body) ? body : Buffer.from(body)]);
}

/** The next packet, 'closed', or 'silent' when neither came within the liveness bound. */
async function next(c: RawClient, ms = ANSWER_WITHIN_MS): Promise<Buffer | 'closed' | 'silent'> {
  let timer: NodeJS.Timeout | undefined;
  const silent = new Promise<'silent'>((res) => {
    timer = setTimeout(() => res('silent'), ms);
  });
  try {
    return await Promise.race([c.read().then((p) => p.payload, () => 'closed' as const), silent]);
  } finally {
    clearTimeout(timer);
  }
}

/** A logged-in raw session whose responses can be re-synchronised with a marker query. */
class Session {
  static #markers = 0;

  private constructor(readonly client: RawClient) {}

  static async open(): Promise<Session> {
    const { client, reply } = await RawClient.login(port, db.user, db.password, db.name);
    assert.equal(reply.payload[0], 0x00, `login: ${reply.payload.toString('latin1')}`);
    return new Session(client);
  }

  /** Sends a marker query and reads up to its answer: 'synced', or 'closed'; 'silent' is a hang. */
  async sync(): Promise<'synced' | 'closed' | 'silent'> {
    const marker = Buffer.from(`fz${++Session.#markers}x`);
    this.client.send(0, command(Com.QUERY, `SELECT '${marker.toString()}'`));
    let seen = 0;
    for (;;) {
      const p = await next(this.client);
      if (p === 'closed' || p === 'silent') return p;
      if (p.includes(marker)) seen++;
      // Column definition and row both carry the marker; the terminator follows.
      if (seen === 2) {
        const end = await next(this.client);
        return end === 'closed' || end === 'silent' ? end : 'synced';
      }
    }
  }
}

// Commands whose effects reach beyond the fuzzed session (KILL, REFRESH flags such as RESET MASTER,
// CREATE/DROP DATABASE, SHUTDOWN) are never sent: other test files share the server.
const FORBIDDEN = new Set<number>([Com.PROCESS_KILL, Com.REFRESH, Com.CREATE_DB, Com.DROP_DB, Com.DEBUG, Com.SHUTDOWN]);

const QUERIES = [
  'SELECT v FROM kv WHERE k = 1', 'SELECT v FROM kv WHERE k = 2', 'SELECT 1', 'SELECT k, v FROM kv ORDER BY k',
  "SET time_zone = '+00:00'", 'SHOW CACHES', 'DO 1', 'SELECT v FROM kv WHERE k IN (1, 2, 3)', 'BEGIN', 'COMMIT',
];

/** Hostile SQL: what once froze the process, and the shapes tokenizers and regular expressions choke on. */
function hostileSql(m: Mutator): string {
  const n = 1000 + m.int(20_000);
  const pick = m.int(10);
  switch (pick) {
    case 0: return `CREATE CACHE FROM x${' '.repeat(n)}y;z`;
    case 1: return `DROP CACHE x${' '.repeat(n)}y`;
    case 2: return `SHOW CACHES${' '.repeat(n)}x`;
    case 3: return `;${' /**/'.repeat(n / 5)}x set`;
    case 4: return `SELECT v FROM kv WHERE k = ${'('.repeat(n / 10)}1${')'.repeat(n / 10)}`;
    case 5: return `SELECT v FROM kv WHERE k IN (${Array.from({ length: n / 4 }, (_, i) => i).join(', ')})`;
    case 6: return `SELECT '${'\\'.repeat(n)}`;
    case 7: return `SELECT v FROM kv WHERE k = 1 ${'-- x\n'.repeat(n / 5)}`;
    case 8: return `SELECT ${"'a' '".repeat(n / 5)}`;
    default: return `${'/*'.repeat(n / 2)} SELECT 1`;
  }
}

/**
 * `p` with its command byte replaced by `instead` when it names a command that reaches beyond the
 * session. (A random COM_REFRESH once sent RESET MASTER and turned the test server's binlog off.)
 */
function harmless(p: Buffer, instead: number): Buffer {
  if (p.length > 0 && FORBIDDEN.has(p[0])) p[0] = instead;
  return p;
}

/** A command to fuzz with: a mutation of a plausible one, random bytes, or hostile SQL. */
function fuzzCommand(m: Mutator): Buffer {
  if (m.chance(0.05)) return command(m.pick([Com.QUERY, Com.QUERY, Com.STMT_PREPARE]), hostileSql(m));
  if (m.chance(0.1)) return harmless(m.bytes(m.int(60)), Com.PING);
  const base = m.pick([
    () => command(Com.QUERY, m.pick(QUERIES)),
    () => command(Com.INIT_DB, db.name),
    () => command(Com.FIELD_LIST, 'kv\0'),
    () => command(m.pick([Com.PING, Com.STATISTICS, Com.PROCESS_INFO, Com.RESET_CONNECTION, Com.SLEEP, Com.CONNECT, Com.QUIT])),
    () => command(Com.SET_OPTION, Buffer.from([m.int(2), 0])),
    () => command(m.pick([Com.STMT_CLOSE, Com.STMT_RESET, Com.STMT_SEND_LONG_DATA, Com.STMT_FETCH, Com.STMT_BULK_EXECUTE]), m.bytes(4 + m.int(12))),
    () => command(Com.STMT_PREPARE, m.pick(QUERIES)),
    () => encodeExecutePayload(1 + m.int(3), [m.int(5)], [Type.LONGLONG]),
    () => command(Com.CHANGE_USER, Buffer.concat([Buffer.from(`${db.user}\0`), Buffer.from([20]), m.bytes(20), Buffer.from(`${db.name}\0`), Buffer.from([45, 0])])),
  ])();
  return harmless(m.chance(0.8) ? m.mutate(base) : base, base[0]);
}

/** A COM_STMT_EXECUTE for `id` (a statement with one parameter) that is wrong in some way. */
function fuzzExecute(m: Mutator, id: number): Buffer {
  const head = new PacketWriter(16).u8(Com.STMT_EXECUTE).u32(id).u8(m.chance(0.9) ? 0 : m.int(256)).u32(1).finish();
  const anyType = (): number => (m.chance(0.5) ? m.pick(Object.values(Type)) : m.int(256)) | (m.chance(0.2) ? 0x8000 : 0);
  switch (m.int(7)) {
    case 0: { // the right shape, for a cached hit or miss
      const v = m.pick([1, 2, 3, 4, -1, 2 ** 40, 'two', null]);
      return encodeExecutePayload(id, [v], [typeof v === 'string' ? Type.VAR_STRING : Type.LONGLONG]);
    }
    case 1: { // another number of parameters than the statement has
      const values = Array.from({ length: m.pick([0, 2, 3, 9]) }, () => m.int(4));
      return encodeExecutePayload(id, values, values.map(() => Type.LONGLONG));
    }
    case 2: // a null bitmap that is too short, or nothing after the header
      return Buffer.from(head);
    case 3: // types never bound
      return Buffer.concat([head, Buffer.from([0, 0]), m.bytes(m.int(8))]);
    case 4: // any type, any bytes
      return Buffer.concat([head, Buffer.from([0, 1]), new PacketWriter(4).u16(anyType()).finish(), m.bytes(m.int(20))]);
    case 5: // a string parameter whose length-encoded length runs past the packet
      return Buffer.concat([head, Buffer.from([0, 1, Type.VAR_STRING, 0]), m.hugeLenenc(), m.bytes(m.int(8))]);
    default:
      return harmless(m.mutate(encodeExecutePayload(id, [m.int(4)], [m.pick([Type.LONGLONG, Type.VAR_STRING, Type.DOUBLE, Type.DATE, Type.TIME])])), Com.STMT_EXECUTE);
  }
}

function handshakeResponse(scramble: Buffer, plugin: string): Buffer {
  const auth = plugin === 'mysql_native_password' ? nativeToken(db.password, scramble) : Buffer.alloc(32, 1);
  return encodeHandshakeResponse({
    capabilities: CLIENT_CAPS | Cap.CONNECT_ATTRS, maxPacket: 1 << 24, charset: 45, mariadbCapabilities: 0, user: db.user,
    authResponse: auth, database: db.name, authPlugin: plugin, attributes: Buffer.from('\x04_pid\x0212'),
  }, 1).subarray(4);
}

type Outcome = 'answered' | 'closed';

function fail(what: string, c: number, bytes: Buffer): never {
  assert.fail(`${what} (seed ${seed}, case ${c}; replay with ROTOR_FUZZ_SEED=${seed}): ${bytes.subarray(0, 200).toString('hex')}`);
}

/** The connection phase: a mutated handshake response, then (when Rotor switches plugins) a mutated auth switch response. */
async function loginCase(m: Mutator, c: number): Promise<Outcome> {
  const client = await RawClient.open(port);
  try {
    const scramble = client.handshake?.scramble ?? Buffer.alloc(20);
    const plugin = m.pick(['mysql_native_password', 'caching_sha2_password', 'client_ed25519']);
    const valid = handshakeResponse(scramble, plugin);
    const bytes = m.chance(0.1) ? m.bytes(m.int(100)) : m.chance(0.85) ? m.mutate(valid) : valid;
    client.socket.write(frame(bytes, 1));
    let reply = await next(client);
    if (reply === 'silent') fail('a handshake response got no answer', c, bytes);
    if (reply !== 'closed' && reply[0] === 0xfe && reply.length > 1) {
      const switchBytes = m.chance(0.3) ? nativeToken(db.password, scramble) : m.bytes(m.int(300));
      client.send(3, m.chance(0.5) ? m.mutate(switchBytes) : switchBytes);
      reply = await next(client);
      if (reply === 'silent') fail('an auth switch response got no answer', c, switchBytes);
    }
    return reply === 'closed' ? 'closed' : 'answered';
  } finally {
    client.end();
  }
}

/** One worker: fuzzes commands over a session it keeps while the session survives, and logins. */
async function worker(w: number, count: number, outcomes: Map<string, number>): Promise<void> {
  const m = new Mutator(seed * 31 + w);
  let session: Session | null = null;
  const note = (kind: string, outcome: Outcome): void => {
    outcomes.set(`${kind} ${outcome}`, (outcomes.get(`${kind} ${outcome}`) ?? 0) + 1);
  };
  for (let i = 0; i < count; i++) {
    const c = w * count + i;
    if (m.chance(0.15)) {
      note('login', await loginCase(m, c));
      continue;
    }
    session ??= await Session.open();
    let sent: Buffer;
    let kind: string;
    if (m.chance(0.3)) {
      kind = 'execute';
      session.client.send(0, command(Com.STMT_PREPARE, CACHED_SQL));
      const ok = await next(session.client);
      if (ok === 'closed' || ok === 'silent' || ok[0] !== 0) fail(`prepare failed: ${String(ok)}`, c, Buffer.alloc(0));
      const id = ok.readUInt32LE(1);
      if ((await session.sync()) !== 'synced') fail('no answer after a prepare', c, Buffer.alloc(0));
      sent = harmless(fuzzExecute(m, id), Com.PING);
      session.client.send(0, sent);
      session.client.send(0, new PacketWriter(8).u8(Com.STMT_CLOSE).u32(id).finish());
    } else {
      kind = 'command';
      sent = harmless(fuzzCommand(m), Com.PING);
      session.client.send(0, sent);
    }
    const after = await session.sync();
    if (after === 'silent') fail(`a ${kind} left the session neither answering nor closed`, c, sent);
    note(kind, after === 'synced' ? 'answered' : 'closed');
    if (after === 'closed') session = null;
  }
  session?.client.end();
}

/** SELECT 1 and a cached read on one healthy mysql2 connection, over and over, until stopped. */
function heartbeat(conn: mysql.Connection): { stop(): Promise<number> } {
  let running = true;
  const loop = (async () => {
    let rounds = 0;
    while (running) {
      assert.deepEqual((await conn.query('SELECT 1 AS one'))[0], [{ one: 1 }]);
      assert.deepEqual((await conn.query('SELECT v FROM kv WHERE k = 2'))[0], [{ v: 'two' }]);
      rounds++;
      await sleep(5);
    }
    return rounds;
  })();
  return {
    stop: async () => {
      running = false;
      return loop;
    },
  };
}

async function cacheHits(): Promise<number> {
  return (await rotor.api<{ stats: { hits: number } }>('GET', `/api/caches/${cacheId}`)).body.stats.hits;
}

test('fuzzed sessions at every stage are answered or closed while a healthy connection keeps being served', async (t) => {
  const healthy = await rotor.connect();
  await healthy.query('SELECT v FROM kv WHERE k = 2');
  const hitsBefore = await cacheHits();
  const beat = heartbeat(healthy);
  const outcomes = new Map<string, number>();
  try {
    const per = Math.ceil(cases / WORKERS);
    await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w, per, outcomes)));
  } finally {
    const rounds = await beat.stop();
    assert.ok(rounds > 0, `the healthy connection answered during the fuzz (seed ${seed})`);
  }
  assert.deepEqual((await healthy.query('SELECT v FROM kv WHERE k = 3'))[0], [{ v: 'three' }]);
  assert.ok((await cacheHits()) > hitsBefore, 'the cached read was served from the cache throughout');
  await healthy.end();
  const summary = [...outcomes].sort().map(([k, n]) => `${k}: ${n}`).join(', ');
  t.diagnostic(`seed ${seed}, ${cases} cases: ${summary}`);
  assert.ok(outcomes.size > 3, `every kind of case ran (seed ${seed}): ${summary}`);
});

test('a login and a query split at every byte offset are answered as if sent whole', async () => {
  const probe = await RawClient.open(port);
  const loginLength = frame(handshakeResponse(probe.handshake?.scramble ?? Buffer.alloc(20), 'mysql_native_password'), 1).length;
  probe.end();
  for (let cut = 1; cut < loginLength; cut++) {
    const c = await RawClient.open(port);
    c.socket.setNoDelay(true);
    const login = frame(handshakeResponse(c.handshake?.scramble ?? Buffer.alloc(20), 'mysql_native_password'), 1);
    c.socket.write(login.subarray(0, cut));
    await sleep(1);
    c.socket.write(login.subarray(cut));
    const ok = await next(c);
    assert.ok(ok !== 'closed' && ok !== 'silent' && ok[0] === 0x00, `login split at ${cut}: ${String(ok)}`);
    c.end();
  }
  const { client } = await RawClient.login(port, db.user, db.password, db.name);
  client.socket.setNoDelay(true);
  const query = frame(command(Com.QUERY, 'SELECT v FROM kv WHERE k = 1'), 0);
  for (let cut = 1; cut < query.length; cut++) {
    client.socket.write(query.subarray(0, cut));
    await sleep(1);
    client.socket.write(query.subarray(cut));
    const packets: Buffer[] = [];
    for (let i = 0; i < 4; i++) {
      const p = await next(client);
      assert.ok(p !== 'closed' && p !== 'silent', `query split at ${cut}`);
      packets.push(p);
    }
    assert.equal(packets[2].toString('latin1', 1), 'one', `query split at ${cut}`);
  }
  client.end();
});

test('a declared 16 MiB packet that never arrives costs Rotor only the bytes that did, before and after login', async () => {
  const healthy = await rotor.connect();
  const stalled: RawClient[] = [];
  // Before login, more than 1 MiB is refused outright.
  const early = await RawClient.open(port);
  early.socket.write(Buffer.from([0xff, 0xff, 0xff, 1, 0x8d]));
  const refusal = await early.read();
  assert.equal(decodeErr(refusal.payload).errno, 1153);
  assert.equal(refusal.seq, 2, 'in sequence after the client\'s packet 1');
  await early.closedByServer();
  const before = process.memoryUsage().arrayBuffers;
  for (let i = 0; i < 48; i++) {
    const { client } = await RawClient.login(port, db.user, db.password, db.name);
    client.socket.write(Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0, Com.QUERY]), Buffer.from('SELECT 1 /* and then nothing')]));
    stalled.push(client);
  }
  assert.deepEqual((await healthy.query('SELECT 1 AS one'))[0], [{ one: 1 }]);
  const grown = process.memoryUsage().arrayBuffers - before;
  // Buffering each declared length would be 48 × 16 MiB = 768 MiB.
  assert.ok(grown < 64 * 1024 * 1024, `buffers grew by ${grown} bytes`);
  assert.equal(stalled.filter((c) => c.closed).length, 0, 'a stalled client keeps its connection, as with MariaDB');
  for (const c of stalled) c.end();
  await healthy.end();
});

test('an auth switch answer too long for the negotiated handshake form gets Bad handshake, in sequence', async () => {
  const c = await RawClient.open(port);
  const caps = (CLIENT_CAPS & ~Cap.PLUGIN_AUTH_LENENC_CLIENT_DATA) >>> 0;
  c.socket.write(encodeHandshakeResponse({
    capabilities: caps, maxPacket: 1 << 24, charset: 45, mariadbCapabilities: 0, user: db.user,
    authResponse: Buffer.alloc(32, 1), database: db.name, authPlugin: 'caching_sha2_password', attributes: null,
  }, 1));
  const switchRequest = await c.read();
  assert.equal(switchRequest.payload[0], 0xfe);
  c.send(switchRequest.seq + 1, Buffer.alloc(300, 9));
  const err = await c.read();
  assert.equal(decodeErr(err.payload).errno, 1043);
  assert.equal(err.seq, switchRequest.seq + 2);
  await c.closedByServer();
});
