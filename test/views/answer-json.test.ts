/**
 * [note: http-values]: a cache's rows as JSON, each value what mysql2's text protocol reads
 * (supportBigNumbers, bigNumberStrings, dateStrings), bytes as base64, from the packets a hit serves.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Row } from '../../src/dataflow/delta.js';
import type { ColumnDefinition } from '../../src/proxy/protocol/column-definition.js';
import { Type } from '../../src/proxy/protocol/constants.js';
import { AnswerJson } from '../../src/views/answer-json.js';
import { answerText } from '../../src/views/answer-text.js';

const UTF8 = 45, BINARY = 63;

function col(name: string, type: number, characterSet = BINARY, decimals = 0, extra: Partial<ColumnDefinition> = {}): ColumnDefinition {
  return { catalog: 'def', schema: 'd', table: 't', orgTable: 't', name, orgName: name, characterSet, columnLength: 255, type, flags: 0, decimals, ...extra };
}

/** The JSON of rows served as packets (compact) and as values (loose): both must agree. */
function both(columns: ColumnDefinition[], rows: Row[]): unknown {
  const json = new AnswerJson(columns);
  const packets = answerText(columns).encode(rows, columns.length);
  assert.ok(packets !== null, 'the rows pack');
  const packed = json.make({ packets, fits: () => true, binaryPackets: () => null, values: () => rows });
  const loose = json.make(rows);
  assert.equal(packed.json.toString(), loose.json.toString());
  assert.equal(packed.etag, loose.etag);
  return JSON.parse(packed.json.toString());
}

describe('answers as JSON', () => {
  it('writes numbers as numbers, BIGINT and DECIMAL as exact strings, dates as MariaDB prints them', () => {
    const columns = [
      col('ti', Type.TINY), col('i', Type.LONG), col('m', Type.INT24), col('y', Type.YEAR), col('bi', Type.LONGLONG),
      col('de', Type.NEWDECIMAL, BINARY, 2), col('d', Type.DOUBLE, BINARY, 31), col('dt', Type.DATETIME, BINARY, 3),
      col('day', Type.DATE), col('t', Type.TIME),
    ];
    const rows: Row[] = [[-1, 2147483647, 5, 2024, 2n ** 63n - 1n, '-12.30', 1e-7, '2024-01-02 03:04:05.678', '2024-02-29', '-838:59:59']];
    assert.deepEqual(both(columns, rows), [{
      ti: -1, i: 2147483647, m: 5, y: 2024, bi: '9223372036854775807', de: '-12.30', d: 1e-7, dt: '2024-01-02 03:04:05.678', day: '2024-02-29', t: '-838:59:59',
    }]);
    assert.deepEqual(both([col('small', Type.LONGLONG)], [[7]]), [{ small: '7' }], 'BIGINT is a string at every size');
  });

  it('writes text as JSON strings (any character), bytes as base64, NULL as null', () => {
    const columns = [col('s', Type.VAR_STRING, UTF8), col('b', Type.BLOB), col('bit', Type.BIT), col('n', Type.VAR_STRING, UTF8)];
    const rows: Row[] = [['quote " backslash \\ newline \n ü ✓ 😀 \u0001', Buffer.from([0, 255, 16]), Buffer.from([2, 170]), null]];
    assert.deepEqual(both(columns, rows), [{ s: 'quote " backslash \\ newline \n ü ✓ 😀 \u0001', b: 'AP8Q', bit: 'Aqo=', n: null }]);
  });

  it('writes a JSON column as its document, and text that is not JSON as a string', () => {
    const columns = [col('j', Type.BLOB, UTF8, 0, { extendedFormat: 'json' })];
    assert.deepEqual(both(columns, [['{"k": [1, 2.5, "x"]}'], ['not json']]), [{ j: { k: [1, 2.5, 'x'] } }, { j: 'not json' }]);
  });

  it('names each row\'s values by column, a later column of the same name replacing an earlier one, and lists every column', () => {
    const columns = [col('id', Type.LONG), col('id', Type.LONG), col('v', Type.VAR_STRING, UTF8)];
    const json = new AnswerJson(columns);
    assert.equal(json.make([[1, 2, 'x']]).json.toString(), '[{"id":2,"v":"x"}]');
    assert.deepEqual(JSON.parse(json.columnsJson), [{ name: 'id', type: 'INT' }, { name: 'id', type: 'INT' }, { name: 'v', type: 'VARCHAR' }]);
  });

  it('gives an empty answer as [] and a tag that differs from every other answer\'s', () => {
    const json = new AnswerJson([col('i', Type.LONG)]);
    const empty = json.make([]);
    assert.equal(empty.json.toString(), '[]');
    assert.notEqual(empty.etag, json.make([[1]]).etag);
    assert.notEqual(json.make([[1]]).etag, json.make([[2]]).etag);
    assert.match(empty.etag, /^"[A-Za-z0-9_-]+"$/);
  });
});
