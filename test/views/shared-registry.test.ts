/**
 * [note: shared-registry] What an entry of the shared registry must be before it is registered:
 * Redis is trusted no more than an HTTP request (test/e2e/shared-registry.test.ts runs the rest).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseShared, sharedText } from '../../src/views/shared-registry.js';

test('a well-formed entry is a definition of name, database and SQL, and nothing else is kept', () => {
  const raw = JSON.stringify({ v: 1, name: 'fans', database: 'shop', sql: 'SELECT fans FROM fan_count WHERE item_id = ?', password: 'x', schema: {} });
  assert.deepEqual(parseShared('q_0123456789ab', raw), { name: 'fans', database: 'shop', sql: 'SELECT fans FROM fan_count WHERE item_id = ?' });
});

test('[note: transaction-reads] ALWAYS travels as `always: true`, and round-trips', () => {
  const def = { name: 'fans', database: 'shop', sql: 'SELECT fans FROM fan_count WHERE item_id = ?', always: true };
  assert.deepEqual(parseShared('q_1', sharedText(def)), def);
  const { always: _, ...plain } = def;
  assert.deepEqual(parseShared('q_1', JSON.stringify({ ...def, always: false })), plain);
  assert.equal(sharedText({ ...def, always: false }).includes('always'), false);
});

test('anything else is refused with the reason, never thrown', () => {
  const ok = { name: 'n', database: 'd', sql: 'SELECT 1' };
  const cases: Array<[string, string, RegExp]> = [
    ['q_1', '{not json', /not JSON/],
    ['q_1', 'null', /not a JSON object/],
    ['q_1', '[]', /not a JSON object/],
    ['q_1', '"text"', /not a JSON object/],
    ['q_1', JSON.stringify({ ...ok, sql: 42 }), /sql/],
    ['q_1', JSON.stringify({ ...ok, sql: '   ' }), /sql/],
    ['q_1', JSON.stringify({ ...ok, sql: 'S'.repeat(70_000) }), /sql|large/],
    ['q_1', JSON.stringify({ ...ok, name: '' }), /name/],
    ['q_1', JSON.stringify({ ...ok, name: 'n'.repeat(65) }), /name/],
    ['q_1', JSON.stringify({ ...ok, database: ['d'] }), /database/],
    ['q_1', JSON.stringify({ ...ok, always: 'yes' }), /always/],
    ['../etc', JSON.stringify(ok), /id/],
    ['', JSON.stringify(ok), /id/],
    ['q_' + 'a'.repeat(80), JSON.stringify(ok), /id/],
  ];
  for (const [id, raw, reason] of cases) {
    const r = parseShared(id, raw);
    assert.equal(typeof r, 'string', `${id} ${raw.slice(0, 40)}`);
    assert.match(r as string, reason);
  }
});
