/**
 * [note: kept-response] A key read again in the same form is answered with the response bytes kept
 * from its last read, byte for byte what encoding its rows gives, until its rows change or it
 * leaves; [note: held-key] a caller holding a key's entry reads it without the map only while the
 * entry is the key's.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Row } from '../../src/dataflow/delta.js';
import { keyString } from '../../src/dataflow/state.js';
import { answerValues, Reader, type PackedAnswer } from '../../src/operators/reader.js';
import type { ColumnDefinition } from '../../src/proxy/protocol/column-definition.js';
import { Type } from '../../src/proxy/protocol/constants.js';
import { encodeResultSet, encodeResultSetOnce, type ResultSetOptions } from '../../src/proxy/protocol/result-set.js';
import { answerText } from '../../src/views/answer-text.js';
import { del, Harness, ins, source } from '../operators/harness.js';

const UTF8MB4 = 45, BINARY = 63;

function col(name: string, type: number, characterSet = UTF8MB4): ColumnDefinition {
  return { catalog: 'def', schema: 'd', table: 't', orgTable: 't', name, orgName: name, characterSet, columnLength: 255, type, flags: 0, decimals: 0 };
}

const columns = [col('id', Type.LONG, BINARY), col('v', Type.VAR_STRING)];
const text: ResultSetOptions = { binary: false, deprecateEof: true, statusFlags: 2, startSeq: 1, resultCharset: UTF8MB4 };

function reader(limit: { count: number; offset: number } | null = null): Reader {
  const r = new Reader(source(['id', 'v', 'g']), { key: [2], fold: ['exact'], visible: 2, orderBy: [], limit, distinct: false }, 'c1');
  r.useText(answerText(columns));
  return r;
}

const K = keyString([5]);
const answer = (r: Reader): PackedAnswer => r.answer(K) as PackedAnswer;
const visible = (rows: ReadonlyArray<Row>): Row[] => rows.map((x) => x.slice(0, 2));

describe('kept responses ([note: kept-response])', () => {
  it('keeps a key\'s response from its second read in a form, in a buffer of its own, and serves it again', () => {
    const r = reader();
    const rows = [[1, 'a', 5], [2, 'b', 5]];
    new Harness(r).seed([[5]], rows);
    const want = encodeResultSet(columns, visible(rows), text);
    const first = encodeResultSetOnce(columns, answer(r), text);
    const second = encodeResultSetOnce(columns, answer(r), text);
    const third = encodeResultSetOnce(columns, answer(r), text);
    assert.deepEqual(first, want);
    assert.deepEqual(second, want);
    assert.equal(third, second, 'the kept bytes themselves');
    assert.notEqual(first, second, 'a key read once keeps nothing');
    assert.equal(second.byteOffset, 0);
    assert.equal(second.buffer.byteLength, second.length, 'not a slice of a larger buffer');
  });

  it('answers another form (binary, status flags, columns) with its own encoding', () => {
    const r = reader();
    const rows = [[1, 'a', 5]];
    new Harness(r).seed([[5]], rows);
    for (let i = 0; i < 3; i++) encodeResultSetOnce(columns, answer(r), text);
    const others: Array<[ReadonlyArray<ColumnDefinition>, ResultSetOptions]> = [
      [columns, { ...text, binary: true }],
      [columns, { ...text, statusFlags: 3 }],
      [columns, { ...text, deprecateEof: false }],
      [columns, { ...text, startSeq: 2 }],
      [columns, { ...text, warnings: 1 }],
      [[col('id', Type.LONG, BINARY), col('renamed', Type.VAR_STRING)], text],
    ];
    for (const [cols, form] of others) {
      for (let i = 0; i < 3; i++) assert.deepEqual(encodeResultSetOnce(cols, answer(r), form), encodeResultSet(cols, visible(rows), form), JSON.stringify(form));
    }
  });

  it('drops a kept response when the key\'s rows change, and counts it in the key\'s bytes while kept', () => {
    const r = reader();
    const h = new Harness(r).seed([[5]], [[1, 'a', 5]]);
    const bare = r.usage().bytes;
    encodeResultSetOnce(columns, answer(r), text);
    const kept = encodeResultSetOnce(columns, answer(r), text);
    assert.ok(r.usage().bytes >= bare + kept.length, 'counted');
    const before = answer(r);
    h.expect([ins(2, 'b', 5), del(1, 'a', 5)], []);
    const fresh = reader();
    new Harness(fresh).seed([[5]], [[2, 'b', 5]]);
    assert.equal(r.usage().bytes, fresh.usage().bytes, 'the kept response left with the rows it was made of');
    const changed = encodeResultSetOnce(columns, answer(r), text);
    assert.deepEqual(changed, encodeResultSet(columns, [[2, 'b']], text));
    assert.deepEqual(encodeResultSetOnce(columns, answer(r), text), changed);
    assert.deepEqual(encodeResultSetOnce(columns, answer(r), text), changed);
    // An answer made before the change still answers the rows of its moment.
    assert.deepEqual(encodeResultSetOnce(columns, before, text), encodeResultSet(columns, [[1, 'a']], text));
  });

  it('keeps nothing for a read with a LIMIT of its own', () => {
    const r = reader();
    const rows = [[1, 'a', 5], [2, 'b', 5], [3, 'c', 5]];
    new Harness(r).seed([[5]], rows);
    for (const limit of [{ count: 1, offset: 1 }, { count: 2, offset: 0 }, { count: 1, offset: 1 }]) {
      const a = r.answer(K, limit) as PackedAnswer;
      assert.deepEqual(encodeResultSetOnce(columns, a, text), encodeResultSet(columns, visible(rows).slice(limit.offset, limit.offset + limit.count), text));
    }
    assert.deepEqual(encodeResultSetOnce(columns, answer(r), text), encodeResultSet(columns, visible(rows), text));
  });
});

describe('held keys ([note: held-key])', () => {
  it('answers a held key as a lookup does, until it is evicted', () => {
    const r = reader();
    new Harness(r).seed([[5], [6]], [[1, 'a', 5], [2, 'b', 6]]);
    const held = r.hold(K);
    assert.ok(held !== undefined);
    assert.deepEqual(answerValues(r.answerHeld(held) ?? []), [[1, 'a']]);
    assert.equal(r.hold(keyString([7])), undefined, 'a missing key holds nothing');
    r.evict(K);
    assert.equal(held.gone, true);
    assert.equal(r.answerHeld(held), undefined, 'an evicted key is looked up again');
    const other = r.hold(keyString([6]));
    assert.ok(other !== undefined);
    r.evictAll();
    assert.equal(r.answerHeld(other), undefined, 'every key leaves with evictAll');
  });

  it('does not answer from an entry a fill replaced, nor keep its rows', () => {
    const r = reader();
    const h = new Harness(r).seed([[5]], [[1, 'a', 5]]);
    const held = r.hold(K);
    assert.ok(held !== undefined);
    h.seed([[5]], [[1, 'z', 5]]);
    assert.equal(r.answerHeld(held), undefined);
    assert.deepEqual(answerValues(r.answer(K) ?? []), [[1, 'z']]);
    assert.equal((held as unknown as { text: unknown }).text, null, 'a left entry lets go of its rows');
  });

  it('answers a held key changed in place by deltas with its new rows', () => {
    const r = reader();
    const h = new Harness(r).seed([[5]], [[1, 'a', 5]]);
    const held = r.hold(K);
    assert.ok(held !== undefined);
    h.expect([ins(2, 'b', 5)], []);
    assert.deepEqual(answerValues(r.answerHeld(held) ?? []), [[1, 'a'], [2, 'b']]);
  });
});
