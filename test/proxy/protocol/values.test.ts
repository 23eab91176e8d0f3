import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatFloating, writeBinaryValue } from '../../../src/proxy/protocol/value-codec.js';
import { PacketWriter } from '../../../src/proxy/protocol/packet-writer.js';
import { PacketFramer, type Packet } from '../../../src/proxy/protocol/framer.js';
import { Type } from '../../../src/proxy/protocol/constants.js';
import { bindTypes, decodeExecuteParams, encodeExecutePayload } from '../../../src/proxy/protocol/statement-execute.js';
import { eachSplit } from './split.js';

test('prints DOUBLE and FLOAT values the way MariaDB 10.11 does', () => {
  // Pairs measured with the mariadb CLI against MariaDB 10.11.
  const doubles: Array<[number, string]> = [
    [1.1, '1.1'], [1e20, '1e20'], [1e-7, '0.0000001'], [123456789012345680, '1.2345678901234568e17'], [0.000123, '0.000123'],
    [1.7976931348623157e308, '1.7976931348623157e308'], [1e15, '1e15'], [1e14, '100000000000000'], [1e-15, '0.000000000000001'],
    [1e-16, '1e-16'], [1.5e-20, '1.5e-20'], [1.2345e-10, '0.00000000012345'], [1234567e8, '123456700000000'], [-2.5e-300, '-2.5e-300'],
    [0, '0'], [3, '3'], [0.00001, '0.00001'],
  ];
  for (const [v, s] of doubles) assert.equal(formatFloating(v, false), s, String(v));
  const floats: Array<[number, string]> = [
    [Math.fround(1.1), '1.1'], [Math.fround(1e20), '1e20'], [Math.fround(123456789), '123457000'], [Math.fround(12345.678), '12345.7'],
    [Math.fround(-3.4e38), '-3.4e38'], [Math.fround(1234567), '1234570'], [Math.fround(1e-4), '0.0001'], [100, '100'],
  ];
  for (const [v, s] of floats) assert.equal(formatFloating(v, true), s, String(v));
});

test('prints SUM/AVG doubles, float32 ties and fixed decimals the way MariaDB 10.11 does', () => {
  // Measured with the mariadb CLI: SUM/AVG over FLOAT and DOUBLE columns, FLOAT(M,D), DOUBLE(M,D).
  const f = Math.fround;
  const doubles: Array<[number, string]> = [
    [f(0.1) + f(0.2) + f(0.3), '0.6000000163912773'], [0.1 + 0.2 + 0.3, '0.6000000000000001'],
    [4166666666666666.5, '4166666666666666.5'], [41666666666666664, '4.1666666666666664e16'], [1.25e15, '1.25e15'],
    [1234567890123456.8, '1234567890123456.8'], [0.0000000000000012500000000000002, '0.0000000000000012500000000000002'],
    [4.1666666666666675e-16, '4.1666666666666675e-16'], [f(3.4028234e38), '3.4028234663852886e38'],
  ];
  for (const [v, s] of doubles) assert.equal(formatFloating(v, false), s, String(v));
  // Six significant digits of the float32, half to even on an exact tie.
  assert.equal(formatFloating(f(1234565), true), '1234560');
  assert.equal(formatFloating(f(1234575), true), '1234580');
  assert.equal(formatFloating(f(1 / 3), true), '0.333333');
  // Fixed decimals: the shortest digits when they fit, else rounded half to even; a negative
  // value rounded to zero keeps its sign.
  const fixed: Array<[number, boolean, number, string]> = [
    [f(0.1), true, 3, '0.100'], [f(1234.568), true, 3, '1234.568'], [0.0078125, false, 6, '0.007812'],
    [2.675, false, 16, '2.6750000000000000'], [0.30000000000000004, false, 17, '0.30000000000000004'],
    [0.30000000000000004, false, 15, '0.300000000000000'], [-16234791278839.111, false, 4, '-16234791278839.1110'],
    [-0.01 / 30000, false, 6, '-0.000000'], [0, false, 2, '0.00'],
  ];
  for (const [v, single, d, s] of fixed) assert.equal(formatFloating(v, single, d), s, `${v} with ${d} decimals`);
});

function binary(v: string | number | bigint, type: number): number[] {
  const w = new PacketWriter();
  writeBinaryValue(w, v, type, 45);
  return [...w.finish()];
}

test('encodes dates and times as the binary protocol structs MariaDB sends', () => {
  assert.deepEqual(binary('2024-02-29', Type.DATE), [4, 0xe8, 0x07, 2, 29]);
  assert.deepEqual(binary('0000-00-00 00:00:00', Type.DATETIME), [0]);
  assert.deepEqual(binary('2024-02-29 00:00:00', Type.DATETIME), [4, 0xe8, 0x07, 2, 29]);
  assert.deepEqual(binary('2024-02-29 13:14:15', Type.TIMESTAMP), [7, 0xe8, 0x07, 2, 29, 13, 14, 15]);
  assert.deepEqual(binary('2024-02-29 13:14:15.5', Type.DATETIME), [11, 0xe8, 0x07, 2, 29, 13, 14, 15, 0x20, 0xa1, 0x07, 0]);
  assert.deepEqual(binary('-26:00:01', Type.TIME), [8, 1, 1, 0, 0, 0, 2, 0, 1]);
  assert.deepEqual(binary('00:00:00', Type.TIME), [0]);
  assert.deepEqual(binary(-1, Type.TINY), [0xff]);
  assert.deepEqual(binary(2n ** 64n - 1n, Type.LONGLONG), [255, 255, 255, 255, 255, 255, 255, 255]);
  assert.deepEqual(binary('12.30', Type.NEWDECIMAL), [5, ...Buffer.from('12.30')]);
});

function executePacket(payload: Buffer): Buffer {
  return Buffer.from(new PacketWriter().begin(0).bytes(payload).end().finish());
}

test('decodes COM_STMT_EXECUTE parameters split at every byte offset, and reuses the types of the last execution', () => {
  const types = [Type.LONGLONG, Type.VAR_STRING, Type.DOUBLE, Type.NULL, Type.BLOB];
  const values = [-5, 'héllo', 2.5, null, Buffer.from([1, 2])];
  eachSplit(executePacket(encodeExecutePayload(9, values, types)), (chunks, label) => {
    const framer = new PacketFramer();
    const got: Packet[] = [];
    for (const c of chunks) framer.push(c, (p) => got.push({ ...p, payload: Buffer.from(p.payload) }));
    const d = decodeExecuteParams(got[0].payload, 5, null);
    assert.deepEqual(d.values, values, label);
    assert.equal(d.newParamsBound, true);
  });
  const again = encodeExecutePayload(9, [7, 'x', 1.5, null, Buffer.from([3])], null);
  assert.throws(() => decodeExecuteParams(again, 5, null));
  const d = decodeExecuteParams(again, 5, types);
  assert.deepEqual(d.values, [7, 'x', 1.5, null, Buffer.from([3])]);
  assert.equal(d.newParamsBound, false);
  // Rebinding the remembered types gives the packet a client would have sent with them.
  assert.deepEqual(bindTypes(again, 5, types), encodeExecutePayload(9, [7, 'x', 1.5, null, Buffer.from([3])], types));
});

test('decodes unsigned, date and time parameters', () => {
  const w = new PacketWriter();
  w.u8(0x17).u32(1).u8(0).u32(1).u8(0).u8(1);
  w.u16(Type.TINY | 0x8000).u16(Type.TINY).u16(Type.DATETIME).u16(Type.TIME).u16(Type.DATE);
  w.u8(200).u8(200).bytes(Buffer.from([7, 0xe8, 0x07, 1, 2, 3, 4, 5])).bytes(Buffer.from([12, 1, 1, 0, 0, 0, 2, 3, 4, 1, 0, 0, 0])).bytes(Buffer.from([4, 0xe8, 0x07, 12, 31]));
  const d = decodeExecuteParams(Buffer.from(w.finish()), 5, null);
  assert.deepEqual(d.values, [200, -56, '2024-01-02 03:04:05', '-26:03:04.000001', '2024-12-31']);
});
