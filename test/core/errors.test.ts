import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ERRORS, RotorError, invariant } from '../../src/errors.js';

test('the error catalog and docs/errors.md list the same codes', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const documented = [...doc.matchAll(/^\|\s*`(ERR_[A-Z_]+)`/gm)].map((m) => m[1]).sort();
  assert.deepEqual(documented, Object.keys(ERRORS).sort());
});

test('every catalog entry has a MySQL errno, a five-character SQLSTATE and an HTTP status', () => {
  for (const [code, spec] of Object.entries(ERRORS)) {
    assert.ok(spec.errno > 0 && spec.errno < 65536, code);
    assert.match(spec.sqlState, /^[0-9A-Z]{5}$/, code);
    assert.ok(spec.http >= 400 && spec.http < 600, code);
  }
});

test('a RotorError fills its message template and keeps its detail', () => {
  const e = new RotorError('ERR_CACHE_UNKNOWN_COLUMN', ['fans', 'field list'], { clause: 'SELECT' });
  assert.equal(e.message, "Unknown column 'fans' in 'field list'");
  assert.equal(e.errno, 1054);
  assert.deepEqual(e.detail, { clause: 'SELECT' });
  assert.throws(() => invariant(false, 'broken'), /Internal error: broken/);
});
