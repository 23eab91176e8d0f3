import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PacketFramer, type Packet } from '../../../src/proxy/protocol/framer.js';
import { PacketWriter } from '../../../src/proxy/protocol/packet-writer.js';
import { Cap, Status } from '../../../src/proxy/protocol/constants.js';
import {
  decodeHandshakeResponse, decodeServerHandshake, encodeAuthSwitch, encodeHandshakeResponse, encodeServerHandshake, encodeSslRequest, isSslRequest, takeSslRequest,
  type HandshakeResponse, type ServerHandshake,
} from '../../../src/proxy/protocol/handshake.js';
import { decodeErr, decodeOk, eofStatus, okStatus, writeEof, writeErr, writeOk } from '../../../src/proxy/protocol/generic-response.js';
import { decodeColumnDefinition, writeColumnDefinition } from '../../../src/proxy/protocol/column-codec.js';
import type { ColumnDefinition } from '../../../src/proxy/protocol/column-definition.js';
import { MalformedPacket, PacketReader } from '../../../src/proxy/protocol/packet-reader.js';
import { eachSplit } from './split.js';

function packetsOf(chunks: Buffer[]): Packet[] {
  const framer = new PacketFramer();
  const out: Packet[] = [];
  for (const c of chunks) framer.push(c, (p) => out.push({ seq: p.seq, payload: Buffer.from(p.payload), raw: Buffer.from(p.raw) }));
  return out;
}

const handshake: ServerHandshake = {
  serverVersion: '5.5.5-10.11.19-MariaDB-log', connectionId: 77, scramble: Buffer.from('abcdefgh0123456789AB'),
  capabilities: 0xf7fe | (0x81ff << 16), charset: 45, status: Status.AUTOCOMMIT, authPlugin: 'mysql_native_password', mariadbCapabilities: 0,
};

test('a Handshake v10 decodes to what was encoded, split at every byte offset', () => {
  eachSplit(encodeServerHandshake(handshake), (chunks, label) => {
    const [p] = packetsOf(chunks);
    assert.equal(p.seq, 0);
    assert.deepEqual(decodeServerHandshake(p.payload), { ...handshake, capabilities: handshake.capabilities >>> 0 }, label);
  });
});

test('a HandshakeResponse41 round-trips with database, plugin and attributes, split at every byte offset', () => {
  const resp: HandshakeResponse = {
    capabilities: (Cap.PROTOCOL_41 | Cap.SECURE_CONNECTION | Cap.PLUGIN_AUTH | Cap.CONNECT_WITH_DB | Cap.CONNECT_ATTRS | Cap.PLUGIN_AUTH_LENENC_CLIENT_DATA | Cap.DEPRECATE_EOF) >>> 0,
    maxPacket: 1 << 24, charset: 45, mariadbCapabilities: 0, user: 'rotor', authResponse: Buffer.alloc(20, 5), database: 'rotor',
    authPlugin: 'mysql_native_password', attributes: Buffer.from([3, 0x61, 0x62, 0x63, 1, 0x78]),
  };
  eachSplit(encodeHandshakeResponse(resp, 1), (chunks, label) => {
    const [p] = packetsOf(chunks);
    assert.equal(p.seq, 1, label);
    assert.deepEqual(decodeHandshakeResponse(p.payload), resp, label);
    assert.equal(isSslRequest(p.payload), false);
  });
});

test('a 32-byte response with CLIENT_SSL is an SSLRequest', () => {
  const p = Buffer.alloc(32);
  p.writeUInt32LE(Cap.SSL | Cap.PROTOCOL_41, 0);
  assert.equal(isSslRequest(p), true);
});

test('Rotor\'s own SSLRequest (to upstream) is the first 32 bytes of the response that follows it, with CLIENT_SSL', () => {
  const resp: HandshakeResponse = {
    capabilities: (Cap.PROTOCOL_41 | Cap.SECURE_CONNECTION | Cap.PLUGIN_AUTH) >>> 0, maxPacket: 1 << 24, charset: 45,
    mariadbCapabilities: 0x8, user: 'u', authResponse: Buffer.alloc(20, 1), database: null, authPlugin: 'mysql_native_password', attributes: null,
  };
  eachSplit(encodeSslRequest(resp, 1), (chunks, label) => {
    const [p] = packetsOf(chunks);
    assert.equal(p.seq, 1, label);
    assert.equal(isSslRequest(p.payload), true, label);
    const full = encodeHandshakeResponse({ ...resp, capabilities: (resp.capabilities | Cap.SSL) >>> 0 }, 2);
    assert.deepEqual(p.payload, full.subarray(4, 36), label);
  });
});

test('an SSLRequest followed by the start of a TLS ClientHello is recognised however the bytes are split', () => {
  const request = Buffer.alloc(32);
  request.writeUInt32LE((Cap.SSL | Cap.PROTOCOL_41) >>> 0, 0);
  const hello = Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05]);
  const bytes = Buffer.concat([Buffer.from([32, 0, 0, 1]), request, hello]);
  eachSplit(bytes, (chunks, label) => {
    let seen = Buffer.alloc(0);
    let result: ReturnType<typeof takeSslRequest> = 'more';
    for (const c of chunks) {
      seen = Buffer.concat([seen, c]);
      result = takeSslRequest(seen);
      if (result !== 'more') break;
    }
    assert.notEqual(result, 'more', label);
    assert.notEqual(result, 'no', label);
    if (typeof result === 'object') assert.deepEqual(hello.subarray(0, result.rest.length), result.rest, label);
  });
  const plain = encodeHandshakeResponse({
    capabilities: (Cap.PROTOCOL_41 | Cap.SECURE_CONNECTION) >>> 0, maxPacket: 1, charset: 45, mariadbCapabilities: 0, user: 'u',
    authResponse: Buffer.alloc(0), database: null, authPlugin: null, attributes: null,
  }, 1);
  assert.equal(takeSslRequest(plain.subarray(0, 2)), 'more');
  assert.equal(takeSslRequest(plain), 'no');
});

test('AuthSwitchRequest carries the plugin name and the scramble with its NUL', () => {
  const [p] = packetsOf([encodeAuthSwitch('mysql_native_password', handshake.scramble, 2)]);
  assert.equal(p.seq, 2);
  const r = new PacketReader(p.payload);
  assert.equal(r.u8(), 0xfe);
  assert.equal(r.nulString(), 'mysql_native_password');
  assert.deepEqual(r.restBytes(), Buffer.concat([handshake.scramble, Buffer.from([0])]));
});

test('OK packets write info as a length-encoded string and decode back, with SESSION_TRACK schema changes', () => {
  const w = new PacketWriter();
  writeOk(w, { affectedRows: 3, insertId: 300, status: Status.AUTOCOMMIT, warnings: 1, info: 'Rows matched: 3' }, 1);
  writeOk(w, { affectedRows: 0, insertId: 2n ** 60n, status: 0, warnings: 0, info: '' }, 2, 0xfe);
  eachSplit(Buffer.from(w.finish()), (chunks, label) => {
    const [a, b] = packetsOf(chunks);
    const ok = decodeOk(a.payload, Cap.SESSION_TRACK);
    assert.deepEqual([ok.affectedRows, ok.insertId, ok.status, ok.warnings, ok.info], [3, 300, Status.AUTOCOMMIT, 1, 'Rows matched: 3'], label);
    assert.equal(a.payload[a.payload.length - 16], 15, 'info length prefix');
    assert.equal(b.payload[0], 0xfe);
    assert.equal(okStatus(a.payload), Status.AUTOCOMMIT);
  });
  // A schema change as MariaDB reports it: type 1, data = lenenc schema name.
  const sw = new PacketWriter();
  sw.begin(1).u8(0).u8(0).u8(0).u16(Status.AUTOCOMMIT | Status.SESSION_STATE_CHANGED).u16(0).u8(0).u8(6).u8(1).u8(4).u8(3).string('abc').end();
  const [p] = packetsOf([Buffer.from(sw.finish())]);
  assert.equal(decodeOk(p.payload, Cap.SESSION_TRACK).schema, 'abc');
});

test('ERR and EOF packets round-trip, split at every byte offset', () => {
  const w = new PacketWriter();
  writeErr(w, { errno: 1146, sqlState: '42S02', message: "Table 'x.y' doesn't exist" }, 1);
  writeEof(w, Status.AUTOCOMMIT | Status.MORE_RESULTS_EXISTS, 2, 2);
  eachSplit(Buffer.from(w.finish()), (chunks, label) => {
    const [e, eof] = packetsOf(chunks);
    assert.deepEqual(decodeErr(e.payload), { errno: 1146, sqlState: '42S02', message: "Table 'x.y' doesn't exist" }, label);
    assert.equal(eofStatus(eof.payload), Status.AUTOCOMMIT | Status.MORE_RESULTS_EXISTS, label);
  });
});

test('column definitions round-trip, split at every byte offset', () => {
  const col: ColumnDefinition = {
    catalog: 'def', schema: 'rotor', table: 'r', orgTable: 'repos', name: 'n', orgName: 'name',
    characterSet: 45, columnLength: 1020, type: 253, flags: 0x1001, decimals: 0,
  };
  const w = new PacketWriter();
  writeColumnDefinition(w, col, 2);
  eachSplit(Buffer.from(w.finish()), (chunks, label) => {
    const [p] = packetsOf(chunks);
    assert.deepEqual(decodeColumnDefinition(p.payload), col, label);
  });
});

test('column definitions carry MariaDB extended metadata when the session negotiated it', () => {
  const col: ColumnDefinition = {
    catalog: 'def', schema: 'rotor', table: 't', orgTable: 't', name: 'j', orgName: 'j',
    characterSet: 45, columnLength: 4294967295, type: 252, flags: 0x10, decimals: 0, extendedFormat: 'json',
  };
  const w = new PacketWriter();
  writeColumnDefinition(w, col, 2, true);
  writeColumnDefinition(w, { ...col, extendedFormat: undefined }, 3, true);
  eachSplit(Buffer.from(w.finish()), (chunks, label) => {
    const [a, b] = packetsOf(chunks);
    assert.deepEqual(decodeColumnDefinition(a.payload, true), col, label);
    assert.equal(decodeColumnDefinition(b.payload, true).extendedFormat, undefined, label);
  });
});

test('reading past the end of a payload is a MalformedPacket, never a crash', () => {
  const r = new PacketReader(Buffer.from([0xfc, 1]));
  assert.throws(() => r.lenenc(), MalformedPacket);
  assert.throws(() => new PacketReader(Buffer.from('abc')).nulString(), MalformedPacket);
  assert.throws(() => decodeHandshakeResponse(Buffer.from([0, 2, 0, 0, 1])), MalformedPacket);
});
