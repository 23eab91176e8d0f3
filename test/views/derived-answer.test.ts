/**
 * [note: derived-answer]: a reader key keeps the answer in its caller's form (an HTTP read's JSON)
 * from the first such read until its rows change, counted in its bytes; every change drops it.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { keyString } from '../../src/dataflow/state.js';
import type { KeyFold } from '../../src/dataflow/state.js';
import { Reader } from '../../src/operators/reader.js';
import type { ColumnDefinition } from '../../src/proxy/protocol/column-definition.js';
import { Type } from '../../src/proxy/protocol/constants.js';
import { AnswerJson } from '../../src/views/answer-json.js';
import { answerText } from '../../src/views/answer-text.js';
import { del, Harness, ins, source } from '../operators/harness.js';

function col(name: string, type: number, characterSet = 45, decimals = 0): ColumnDefinition {
  return { catalog: 'def', schema: 'd', table: 't', orgTable: 't', name, orgName: name, characterSet, columnLength: 255, type, flags: 0, decimals };
}

function setup(columns: ColumnDefinition[], names: string[], key: number[]): { r: Reader; h: Harness; json: AnswerJson } {
  const r = new Reader(source(names), { key, fold: key.map((): KeyFold => 'exact'), visible: columns.length, orderBy: [], limit: null, distinct: false }, 'c1');
  r.useText(answerText(columns));
  return { r, h: new Harness(r), json: new AnswerJson(columns) };
}

describe('derived answers', () => {
  const columns = [col('id', Type.LONG, 63), col('name', Type.VAR_STRING)];

  it('is made once and kept while the key does not change', () => {
    const { r, h, json } = setup(columns, ['id', 'name', 'g'], [2]);
    h.seed([[1]], [[1, 'a', 1], [2, 'b', 1]]);
    let made = 0;
    const make = (a: Parameters<typeof json.make>[0]) => { made++; return json.make(a); };
    const first = r.answerAs(keyString([1]), make);
    const again = r.answerAs(keyString([1]), make);
    assert.equal(made, 1);
    assert.equal(again, first, 'the very same object');
    assert.equal(first?.json.toString(), '[{"id":1,"name":"a"},{"id":2,"name":"b"}]');
    assert.equal(r.answerAs(keyString([9]), make), undefined, 'a missing key has none');
  });

  it('is dropped by a change of the key\'s rows, and a new tag comes with the new rows', () => {
    const { r, h, json } = setup(columns, ['id', 'name', 'g'], [2]);
    h.seed([[1], [2]], [[1, 'a', 1], [5, 'x', 2]]);
    const before = r.answerAs(keyString([1]), json.make);
    const other = r.answerAs(keyString([2]), json.make);
    h.expect([ins(3, 'c', 1)], []);
    const after = r.answerAs(keyString([1]), json.make);
    assert.notEqual(after, before);
    assert.notEqual(after?.etag, before?.etag);
    assert.equal(after?.json.toString(), '[{"id":1,"name":"a"},{"id":3,"name":"c"}]');
    assert.equal(r.answerAs(keyString([2]), json.make), other, 'another key keeps its own');
    h.expect([del(3, 'c', 1)], []);
    const back = r.answerAs(keyString([1]), json.make);
    assert.equal(back?.etag, before?.etag, 'the same rows give the same tag');
  });

  it('counts what it holds in the key\'s bytes', () => {
    const { r, h, json } = setup(columns, ['id', 'name', 'g'], [2]);
    h.seed([[1]], [[1, 'a', 1]]);
    const bare = r.usage().bytes;
    const a = r.answerAs(keyString([1]), json.make);
    assert.equal(r.usage().bytes, bare + (a?.bytes ?? NaN));
  });

  it('is made from the values of a key kept loose (a FLOAT that does not read back)', () => {
    const cols = [col('f', Type.FLOAT, 63, 31)];
    const { r, h, json } = setup(cols, ['f', 'g'], [1]);
    h.seed([[1]], [[Math.fround(0.1), 1]]);
    assert.ok(Array.isArray(r.answer(keyString([1]))), 'kept as values');
    assert.equal(r.answerAs(keyString([1]), json.make)?.json.toString(), '[{"f":0.1}]', 'as MariaDB prints a FLOAT');
  });
});
