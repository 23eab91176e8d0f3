/**
 * [note: compact-reader]: a cache's reader keeps each key as the text-protocol packets a hit serves,
 * and gives back exactly the values they were encoded from wherever values are needed.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Row } from '../../src/dataflow/delta.js';
import type { Collation } from '../../src/dataflow/collation.js';
import { keyString, type KeyFold } from '../../src/dataflow/state.js';
import { answerValues, PackedAnswer, Reader, type ReaderSpec, type SortKey } from '../../src/operators/reader.js';
import type { ColumnDefinition } from '../../src/proxy/protocol/column-definition.js';
import { Type } from '../../src/proxy/protocol/constants.js';
import { encodeResultSet, encodeResultSetOnce, type ResultSetOptions } from '../../src/proxy/protocol/result-set.js';
import { answerText } from '../../src/views/answer-text.js';
import { compareValues, type Value } from '../../src/values.js';
import { del, Harness, ins, source } from '../operators/harness.js';

const UTF8MB4 = 45, LATIN1 = 8, BINARY = 63;

function col(name: string, type: number, characterSet = UTF8MB4, decimals = 0): ColumnDefinition {
  return { catalog: 'def', schema: 'd', table: 't', orgTable: 't', name, orgName: name, characterSet, columnLength: 255, type, flags: 0, decimals };
}

const byValue = (column: number, desc = false): SortKey => ({ column, desc, order: compareValues });

/** A reader over input columns `names` (visible first), compact for `columns`. */
function reader(names: string[], columns: ColumnDefinition[], spec: Partial<ReaderSpec> & { key: number[] }): Reader {
  const r = new Reader(source(names), {
    fold: spec.key.map((): KeyFold => 'exact'), visible: columns.length, orderBy: [], limit: null, distinct: false, ...spec,
  }, 'c1');
  r.useText(answerText(columns));
  return r;
}

/** Every form a session may ask in: both EOF styles, text and binary, UTF-8 and latin1 results. */
const FORMS: ResultSetOptions[] = [true, false].flatMap((deprecateEof) => [false, true].flatMap((binary) =>
  [UTF8MB4, 224, LATIN1].map((resultCharset) => ({ binary, deprecateEof, statusFlags: 2, startSeq: 1, resultCharset }))));

function assertServedAs(r: Reader, key: Row, columns: ColumnDefinition[], rows: ReadonlyArray<Row>): void {
  const a = r.answer(keyString(key, r.fold));
  assert.ok(a instanceof PackedAnswer, 'the key is compact');
  assert.deepEqual(answerValues(a), rows);
  for (const form of FORMS) {
    assert.deepEqual(encodeResultSetOnce(columns, a, form), encodeResultSet(columns, rows, form), JSON.stringify(form));
  }
}

describe('compact reader keys', () => {
  const columns = [
    col('id', Type.LONG, BINARY), col('name', Type.VAR_STRING), col('price', Type.NEWDECIMAL, BINARY, 2),
    col('at', Type.DATETIME, BINARY), col('data', Type.BLOB, BINARY), col('big', Type.LONGLONG, BINARY),
    col('ratio', Type.DOUBLE, BINARY, 31), col('note', Type.VAR_STRING, LATIN1),
  ];
  const names = ['id', 'name', 'price', 'at', 'data', 'big', 'ratio', 'note', 'g'];
  const row = (id: number, name: string | null, g: number): Row =>
    [id, name, '12.30', '2024-02-29 23:59:59.123456', Buffer.from([0, 0xff, id]), 2n ** 63n - BigInt(id), id / 7, 'café', g];

  it('answers every form byte for byte as the values would, for every kind of value', () => {
    const r = reader(names, columns, { key: [8] });
    const rows = [row(1, 'Ünïcødé ✓ 𝄞', 5), row(2, null, 5), row(3, '', 5)];
    new Harness(r).seed([[5]], rows);
    assertServedAs(r, [5], columns, rows.map((x) => x.slice(0, 8)));
    // The hidden key column is the key row's own value: it is not stored, and comes back.
    assert.deepEqual(r.rows(keyString([5])), rows);
  });

  it('gives a key changed by deltas the same packets as a fresh fill of its rows', () => {
    const spec = { key: [8], orderBy: [byValue(0, true)] };
    const changed = reader(names, columns, spec);
    const h = new Harness(changed).seed([[5], [6]], [row(1, 'a', 5), row(2, 'b', 5), row(3, 'c', 6)]);
    h.expect([ins(...row(4, 'd', 5)), del(...row(1, 'a', 5)), ins(...row(5, 'e', 6)), ins(...row(6, 'f', 7))], []);
    const fresh = reader(names, columns, spec);
    new Harness(fresh).seed([[5], [6]], [row(2, 'b', 5), row(4, 'd', 5), row(5, 'e', 6), row(3, 'c', 6)]);
    for (const k of [5, 6]) {
      const a = changed.answer(keyString([k])) as PackedAnswer, b = fresh.answer(keyString([k])) as PackedAnswer;
      assert.equal(a.packets, b.packets);
    }
    assertServedAs(changed, [5], columns, [row(4, 'd', 5), row(2, 'b', 5)].map((x) => x.slice(0, 8)));
  });

  it('keeps each row\'s own spelling of a hidden key column under a _ci collation, and removes one equal row', () => {
    const ci = { key: (v: string) => v.toLowerCase() } as unknown as Collation;
    const cols = [col('v', Type.VAR_STRING)];
    const r = reader(['v', 'k'], cols, { key: [1], fold: [ci] });
    const h = new Harness(r).seed([['abc']], [['x', 'abc'], ['x', 'ABC']]);
    assertServedAs(r, ['abc'], cols, [['x'], ['x']]);
    h.expect([del('x', 'ABC')], []);
    assert.deepEqual(r.rows(keyString(['abc'], r.fold)), [['x', 'abc']]);
    // A row the key never held, though it shows the same: the key is not what MySQL holds.
    h.expect([del('x', 'AbC')], [], { evicted: [['abc']] });
  });

  it('sorts by hidden ORDER BY columns and serves a LIMIT\'s rows after its offset', () => {
    const cols = [col('v', Type.VAR_STRING)];
    const r = reader(['v', 'g', 'score'], cols, { key: [1], orderBy: [byValue(2)], limit: { count: 2, offset: 1 } });
    const h = new Harness(r).seed([[1]], [['a', 1, 30], ['b', 1, 10], ['a', 1, 20]]);
    assertServedAs(r, [1], cols, [['a'], ['a']]);
    // The row removed is the one equal in its hidden column too: 'a' at 20 goes, 'a' at 30 stays.
    h.expect([del('a', 1, 20), ins('c', 1, 5)], []);
    assertServedAs(r, [1], cols, [['b'], ['a']]);
    assert.deepEqual(r.rows(keyString([1])), [['c', 1, 5], ['b', 1, 10], ['a', 1, 30]]);
  });

  it('keeps as values the rows whose text would not read back exactly (a FLOAT\'s six digits)', () => {
    const cols = [col('f', Type.FLOAT, BINARY, 31)];
    const r = reader(['f', 'g'], cols, { key: [1] });
    const h = new Harness(r).seed([[1], [2]], [[Math.fround(0.1), 1], [0.5, 2]]);
    const loose = r.answer(keyString([1]));
    assert.ok(Array.isArray(loose), 'a FLOAT of 0.1 prints 0.1, which is not its value');
    assert.deepEqual(loose, [[Math.fround(0.1)]]);
    assertServedAs(r, [2], cols, [[0.5]]);
    h.expect([del(Math.fround(0.1), 1)], []);
    assert.deepEqual(answerValues(r.answer(keyString([1])) ?? [[]]), []);
  });

  it('counts a compact key\'s packets as its bytes', () => {
    const cols = [col('v', Type.VAR_STRING)];
    const r = reader(['v', 'g'], cols, { key: [1] });
    new Harness(r).seed([[1]], [['x'.repeat(300), 1], ['y', 1]]);
    assert.deepEqual(r.usage(), { rows: 2, bytes: (4 + 3 + 300) + (4 + 1 + 1) });
  });

  it('answers from values a form its packets do not fit (another column type)', () => {
    const cols = [col('v', Type.VAR_STRING)];
    const r = reader(['v', 'g'], cols, { key: [1] });
    new Harness(r).seed([[1]], [['é', 1]]);
    const a = r.answer(keyString([1])) as PackedAnswer;
    const other = [col('v', Type.BLOB, BINARY)];
    const form = FORMS[0];
    assert.equal(a.fits(other, form.resultCharset), false);
    assert.deepEqual(encodeResultSetOnce(other, a, form), encodeResultSet(other, [['é'] as Value[]], form));
  });
});

describe('binary packets of compact keys ([note: binary-rows])', () => {
  const columns = [col('id', Type.LONG, BINARY), col('name', Type.VAR_STRING), col('big', Type.LONGLONG, BINARY), col('at', Type.DATETIME, BINARY)];
  const names = ['id', 'name', 'big', 'at', 'g'];
  const row = (id: number, name: string | null, g: number): Row => [id, name, BigInt(id) - 2n ** 62n, '2024-02-29 23:59:59', g];
  const binary: ResultSetOptions = { binary: true, deprecateEof: true, statusFlags: 2, startSeq: 1, resultCharset: UTF8MB4 };

  it('are made at the first binary read and reused by the next ones, byte for byte the values\' encoding', () => {
    const r = reader(names, columns, { key: [4] });
    const rows = [row(1, 'é', 5), row(2, null, 5)];
    new Harness(r).seed([[5]], rows);
    const first = r.answer(keyString([5])) as PackedAnswer;
    const made = first.binaryPackets();
    assert.ok(made !== null);
    assert.equal((r.answer(keyString([5])) as PackedAnswer).binaryPackets(), made, 'the same string, not made again');
    const visible = rows.map((x) => x.slice(0, 4));
    assert.deepEqual(encodeResultSetOnce(columns, first, binary), encodeResultSet(columns, visible, binary));
  });

  it('are dropped when the key changes, and an answer made before keeps the rows of its moment', () => {
    const r = reader(names, columns, { key: [4] });
    const h = new Harness(r).seed([[5]], [row(1, 'a', 5)]);
    const before = r.answer(keyString([5])) as PackedAnswer;
    const old = before.binaryPackets();
    h.expect([ins(...row(2, 'b', 5))], []);
    const after = r.answer(keyString([5])) as PackedAnswer;
    assert.notEqual(after.binaryPackets(), old);
    assert.equal(before.binaryPackets(), old, 'the earlier answer still gives its own rows');
    assert.deepEqual(encodeResultSetOnce(columns, after, binary), encodeResultSet(columns, [row(1, 'a', 5), row(2, 'b', 5)].map((x) => x.slice(0, 4)), binary));
  });

  it('count in the key\'s bytes once made', () => {
    const r = reader(names, columns, { key: [4] });
    new Harness(r).seed([[5]], [row(1, 'xyz', 5)]);
    const text = r.usage().bytes;
    const made = (r.answer(keyString([5])) as PackedAnswer).binaryPackets() as string;
    assert.equal(r.usage().bytes, text + made.length);
  });

  it('serve a LIMIT\'s rows after its offset', () => {
    const cols = [col('v', Type.VAR_STRING), col('score', Type.LONG, BINARY)];
    const r = reader(['v', 'score', 'g'], cols, { key: [2], orderBy: [byValue(1)], limit: { count: 2, offset: 1 } });
    new Harness(r).seed([[1]], [['a', 30, 1], ['b', 10, 1], ['c', 20, 1]]);
    const a = r.answer(keyString([1])) as PackedAnswer;
    assert.deepEqual(encodeResultSetOnce(cols, a, binary), encodeResultSet(cols, [['c', 20], ['a', 30]], binary));
  });
});
