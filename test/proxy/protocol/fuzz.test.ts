/**
 * Seeded fuzz of the client-facing decoders: the framer, HandshakeResponse41 and COM_STMT_EXECUTE
 * parameters. Valid inputs round-trip; mutated ones (bit flips, truncation, huge length-encoded
 * integers, too-short null bitmaps, wrong parameter counts) decode or throw MalformedPacket, never
 * anything else, and give the same outcome however the bytes are split. ROTOR_FUZZ_CASES runs more.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PacketFramer, PacketTooLarge, type Packet } from '../../../src/proxy/protocol/framer.js';
import { PacketWriter } from '../../../src/proxy/protocol/packet-writer.js';
import { MalformedPacket, PacketReader } from '../../../src/proxy/protocol/packet-reader.js';
import { Cap, Type } from '../../../src/proxy/protocol/constants.js';
import { decodeHandshakeResponse, encodeHandshakeResponse, type HandshakeResponse } from '../../../src/proxy/protocol/handshake.js';
import { decodeExecuteParams, encodeExecutePayload } from '../../../src/proxy/protocol/statement-execute.js';
import type { Value } from '../../../src/values.js';
import { eachSplit } from './split.js';
import { fuzzRun, Mutator } from './mutate.js';

const { seed, cases } = fuzzRun(400);
const CLIENT_FLAGS = (Cap.PROTOCOL_41 | Cap.LONG_PASSWORD | Cap.SECURE_CONNECTION | Cap.CONNECT_WITH_DB) >>> 0;

function frame(payload: Buffer, seq = 1): Buffer {
  return Buffer.from(new PacketWriter(payload.length + 8).begin(seq).bytes(payload).end().finish());
}

function collect(framer: PacketFramer, chunks: ReadonlyArray<Buffer>): Packet[] {
  const out: Packet[] = [];
  for (const c of chunks) framer.push(c, (p) => out.push({ seq: p.seq, payload: Buffer.from(p.payload), raw: Buffer.from(p.raw) }));
  return out;
}

/** What a decoder made of its input: the value as JSON, or the kind of error it threw. */
function outcome(f: () => unknown): string {
  try {
    return JSON.stringify(f(), (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
  } catch (err) {
    if (err instanceof MalformedPacket) return 'malformed';
    throw err;
  }
}

/** Decodes `payload` whole, and framed then split at every offset: every way gives the same outcome. */
function sameEverySplit(payload: Buffer, decode: (p: Buffer) => unknown, label: string): string {
  const whole = outcome(() => decode(payload));
  eachSplit(frame(payload), (chunks, how) => {
    const packets = collect(new PacketFramer(), chunks);
    assert.equal(packets.length, 1, `${label}, ${how}`);
    assert.equal(outcome(() => decode(packets[0].payload)), whole, `${label}, ${how}`);
  });
  return whole;
}

test('the framer returns random packet streams intact under random chunking', () => {
  const m = new Mutator(seed);
  for (let c = 0; c < cases; c++) {
    const payloads = Array.from({ length: 1 + m.int(6) }, () => m.bytes(m.chance(0.2) ? 0 : m.int(m.chance(0.1) ? 5000 : 200)));
    const w = new PacketWriter();
    payloads.forEach((p, i) => w.begin(i).bytes(p).end());
    const bytes = Buffer.from(w.finish());
    const chunks: Buffer[] = [];
    for (let pos = 0; pos < bytes.length;) {
      const n = 1 + m.int(m.chance(0.5) ? 8 : 700);
      chunks.push(bytes.subarray(pos, pos + n));
      pos += n;
    }
    const framer = new PacketFramer();
    const got = collect(framer, chunks);
    assert.deepEqual(got.map((p) => p.payload), payloads, `seed ${seed}, case ${c}`);
    assert.ok(framer.idle, `seed ${seed}, case ${c}`);
  }
});

test('the framer holds no more than about twice the bytes that arrived, whatever a header declares', () => {
  const m = new Mutator(seed + 1);
  for (let c = 0; c < cases; c++) {
    const limit = m.pick([1000, 1 << 20, 1 << 30]);
    const framer = new PacketFramer(limit);
    let received = 0;
    try {
      for (let i = 0; i < 1 + m.int(20); i++) {
        const chunk = m.chance(0.3) ? Buffer.concat([Buffer.from([0xff, 0xff, m.int(256)]), m.bytes(m.int(300))]) : m.bytes(1 + m.int(2000));
        received += chunk.length;
        framer.push(chunk, () => undefined);
        assert.ok(framer.bufferedBytes <= 2 * received + 512, `seed ${seed}, case ${c}: ${framer.bufferedBytes} held after ${received}`);
      }
    } catch (err) {
      if (!(err instanceof PacketTooLarge)) throw err;
      assert.ok(err.length > limit, `seed ${seed}, case ${c}`);
    }
  }
});

test('a declared 16 MiB frame that never arrives costs the framer only the bytes that did', () => {
  const framer = new PacketFramer();
  framer.push(Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0, 3]), Buffer.alloc(10)]), () => assert.fail('no packet'));
  assert.ok(framer.bufferedBytes <= 512, `${framer.bufferedBytes}`);
  const chunk = Buffer.alloc(64 * 1024, 1);
  for (let i = 0; i < 16; i++) framer.push(chunk, () => assert.fail('no packet'));
  assert.ok(framer.bufferedBytes <= 2 * (16 * chunk.length + 15) + 512, `${framer.bufferedBytes}`);
  assert.equal(framer.idle, false);
});

test('a framer\'s limit can be raised after it was created', () => {
  const framer = new PacketFramer(100);
  assert.throws(() => framer.push(frame(Buffer.alloc(200)), () => undefined), PacketTooLarge);
  const raised = new PacketFramer(100);
  raised.maxPacket = 1000;
  assert.equal(collect(raised, [frame(Buffer.alloc(200))]).length, 1);
});

function randomHandshake(m: Mutator): HandshakeResponse {
  let caps = Cap.PROTOCOL_41 | (m.chance(0.8) ? Cap.LONG_PASSWORD : 0);
  for (const f of [Cap.SECURE_CONNECTION, Cap.PLUGIN_AUTH, Cap.PLUGIN_AUTH_LENENC_CLIENT_DATA, Cap.CONNECT_WITH_DB, Cap.CONNECT_ATTRS]) {
    if (m.chance(0.6)) caps |= f;
  }
  const text = (n: number): string => m.bytes(n).toString('hex').slice(0, n);
  const lenenc = (caps & Cap.PLUGIN_AUTH_LENENC_CLIENT_DATA) !== 0;
  const secure = (caps & Cap.SECURE_CONNECTION) !== 0;
  return {
    capabilities: caps >>> 0, maxPacket: m.int(2 ** 32), charset: m.int(256),
    mariadbCapabilities: caps & Cap.LONG_PASSWORD ? 0 : m.int(2 ** 32),
    user: text(m.int(40)),
    // Without either flag the auth response is NUL-terminated, so it cannot hold a NUL.
    authResponse: lenenc ? m.bytes(m.int(300)) : secure ? m.bytes(m.int(40)) : Buffer.from(text(m.int(20))),
    database: caps & Cap.CONNECT_WITH_DB ? text(m.int(20)) : null,
    authPlugin: caps & Cap.PLUGIN_AUTH ? m.pick(['mysql_native_password', 'caching_sha2_password', 'ed25519', text(10)]) : null,
    attributes: caps & Cap.CONNECT_ATTRS ? m.bytes(m.int(100)) : null,
  };
}

test('HandshakeResponse41: random responses round-trip, mutated ones decode or are malformed, split anywhere', () => {
  const m = new Mutator(seed + 2);
  for (let c = 0; c < cases; c++) {
    const h = randomHandshake(m);
    const bytes = encodeHandshakeResponse(h, 1).subarray(4);
    const back = decodeHandshakeResponse(bytes);
    assert.deepEqual({ ...back, authResponse: Buffer.from(back.authResponse), attributes: back.attributes && Buffer.from(back.attributes) }, h, `seed ${seed}, case ${c}`);
    const mutated = m.mutate(bytes);
    if (c % 8 === 0) sameEverySplit(mutated, decodeHandshakeResponse, `seed ${seed}, case ${c}`);
    else outcome(() => decodeHandshakeResponse(mutated));
    outcome(() => decodeHandshakeResponse(m.bytes(m.int(120))));
  }
});

function randomParam(m: Mutator): { value: Value; type: number } {
  switch (m.int(5)) {
    case 0:
      return { value: null, type: m.pick([Type.LONGLONG, Type.VAR_STRING, Type.NULL]) };
    case 1: {
      const v = m.int(2 ** 31) - 2 ** 30;
      return { value: v, type: Type.LONGLONG };
    }
    case 2:
      return { value: m.bytes(m.int(12)).toString('hex'), type: Type.VAR_STRING };
    case 3:
      return { value: m.bytes(m.int(12)), type: Type.BLOB };
    default:
      // Never an integer: encodeExecutePayload sends integers as LONGLONG.
      return { value: (m.int(1000) - 500) / 8 + 1 / 16, type: Type.DOUBLE };
  }
}

test('COM_STMT_EXECUTE parameters: random ones round-trip, mutated ones, wrong counts and short bitmaps decode or are malformed', () => {
  const m = new Mutator(seed + 3);
  const anyType = (): number => (m.chance(0.5) ? m.pick(Object.values(Type)) : m.int(256)) | (m.chance(0.2) ? 0x8000 : 0);
  for (let c = 0; c < cases; c++) {
    const params = Array.from({ length: m.int(10) }, () => randomParam(m));
    const types = params.map((p) => p.type);
    const payload = encodeExecutePayload(1 + m.int(100), params.map((p) => p.value), types);
    const decoded = decodeExecuteParams(payload, params.length, null);
    assert.deepEqual(decoded.values, params.map((p) => (p.type === Type.BLOB && p.value !== null ? Buffer.from(p.value as Buffer) : p.value)), `seed ${seed}, case ${c}`);
    const label = `seed ${seed}, case ${c}`;
    // Another parameter count than the statement has, remembered types of another length, any types.
    const wrongCount = Math.max(0, params.length + m.int(7) - 3) + (m.chance(0.05) ? 5000 : 0);
    const previous = m.chance(0.5) ? Array.from({ length: m.int(12) }, anyType) : null;
    outcome(() => decodeExecuteParams(payload, wrongCount, previous));
    const mutated = m.mutate(payload);
    if (c % 8 === 0) sameEverySplit(mutated, (p) => decodeExecuteParams(p, params.length, previous), label);
    else outcome(() => decodeExecuteParams(mutated, params.length, previous));
    // A packet that is only the header and a few bytes of bitmap.
    outcome(() => decodeExecuteParams(payload.subarray(0, 10 + m.int(3)), 1 + m.int(40), previous));
    // Random types with random values.
    const n = 1 + m.int(6);
    const w = new PacketWriter(64).u8(0x17).u32(1).u8(0).u32(1).bytes(Buffer.alloc((n + 7) >> 3)).u8(1);
    for (let i = 0; i < n; i++) w.u16(anyType());
    w.bytes(m.bytes(m.int(40)));
    outcome(() => decodeExecuteParams(Buffer.from(w.finish()), n, null));
  }
});

test('PacketReader: any sequence of reads over random bytes returns values or throws MalformedPacket', () => {
  const m = new Mutator(seed + 4);
  const reads: Array<(r: PacketReader) => unknown> = [
    (r) => r.u8(), (r) => r.u16(), (r) => r.u24(), (r) => r.u32(), (r) => r.u64(), (r) => r.lenencOrNull(),
    (r) => r.lenencBytes(), (r) => r.lenencString(), (r) => r.nulString(), (r) => r.nulOrRestString(), (r) => r.skip(m.int(10)),
    (r) => r.restBytes(),
  ];
  for (let c = 0; c < cases * 4; c++) {
    const buf = m.chance(0.5) ? m.bytes(m.int(40)) : m.mutate(m.hugeLenenc());
    const start = m.int(buf.length + 1);
    const r = new PacketReader(buf, start, start + m.int(buf.length - start + 1));
    outcome(() => {
      for (let i = 0; i < 6; i++) {
        reads[m.int(reads.length)](r);
        assert.ok(r.pos <= r.end, `seed ${seed}, case ${c}: read past the end`);
      }
    });
  }
});

test('an auth response its handshake form cannot carry is refused, never sent with a wrapped length', () => {
  const base = randomHandshake(new Mutator(1));
  const oneByte = { ...base, capabilities: (Cap.PROTOCOL_41 | Cap.SECURE_CONNECTION) >>> 0, authResponse: Buffer.alloc(300, 7) };
  assert.throws(() => encodeHandshakeResponse(oneByte, 1), MalformedPacket);
  const nulTerminated = { ...base, capabilities: Cap.PROTOCOL_41, authResponse: Buffer.from([1, 0, 2]) };
  assert.throws(() => encodeHandshakeResponse(nulTerminated, 1), MalformedPacket);
  const lenenc = { ...oneByte, capabilities: (oneByte.capabilities | Cap.PLUGIN_AUTH_LENENC_CLIENT_DATA) >>> 0 };
  assert.deepEqual(decodeHandshakeResponse(encodeHandshakeResponse(lenenc, 1).subarray(4)).authResponse, lenenc.authResponse);
});

test('user and database names reach upstream byte for byte in the client\'s character set', () => {
  for (const [charset, user] of [[8, Buffer.from('josé', 'latin1')], [45, Buffer.from('josé ✓', 'utf8')]] as const) {
    const w = new PacketWriter(128).u32(CLIENT_FLAGS).u32(1 << 24).u8(charset).zeros(19).u32(0);
    w.bytes(user).u8(0).u8(0).bytes(user).u8(0);
    const payload = Buffer.from(w.finish());
    const decoded = decodeHandshakeResponse(payload);
    assert.equal(decoded.user, charset === 8 ? 'josé' : 'josé ✓');
    assert.deepEqual(encodeHandshakeResponse(decoded, 1).subarray(4), payload, `charset ${charset}`);
  }
});
