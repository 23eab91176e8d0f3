/** An HTTP read's route, query string, credentials and lookup body, parsed without a throw. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RotorError } from '../../../src/errors.js';
import { credentials, lookupKeys, queryPairs, route } from '../../../src/proxy/http-read/request.js';

function code(x: unknown): string | null {
  return x instanceof RotorError ? x.code : null;
}

describe('HTTP read requests', () => {
  it('routes a read, a lookup and the health check; refuses other paths and methods', () => {
    assert.deepEqual(route('GET', '/v1/caches/fans?key=1'), { kind: 'get', cache: 'fans', query: 'key=1' });
    assert.deepEqual(route('HEAD', '/v1/caches/a%20b'), { kind: 'get', cache: 'a b', query: '' });
    assert.deepEqual(route('POST', '/v1/caches/fans/lookup'), { kind: 'lookup', cache: 'fans' });
    assert.deepEqual(route('GET', '/v1/health'), { kind: 'health' });
    assert.equal(code(route('GET', '/v1/caches/fans/other')), 'ERR_HTTP_NOT_FOUND');
    assert.equal(code(route('GET', '/')), 'ERR_HTTP_NOT_FOUND');
    assert.equal(code(route('POST', '/v1/caches/fans')), 'ERR_HTTP_METHOD_NOT_ALLOWED');
    assert.equal(code(route('GET', '/v1/caches/fans/lookup')), 'ERR_HTTP_METHOD_NOT_ALLOWED');
    assert.equal(code(route('GET', '/v1/caches/%zz')), 'ERR_HTTP_BAD_REQUEST');
    assert.equal(code(route('GET', '/v1/caches/')), 'ERR_HTTP_BAD_REQUEST');
  });

  it('reads query pairs in order, decoded, and refuses a badly escaped one', () => {
    assert.deepEqual(queryPairs('key=1&key=a%26b&name=x+y&flag'), { kind: 'query', pairs: [['key', '1'], ['key', 'a&b'], ['name', 'x y'], ['flag', '']] });
    assert.deepEqual(queryPairs(''), { kind: 'query', pairs: [] });
    assert.equal(code(queryPairs('key=%E0%A4%A')), 'ERR_HTTP_BAD_REQUEST');
    assert.equal(code(queryPairs(Array.from({ length: 65 }, (_, i) => `k${i}=1`).join('&'))), 'ERR_HTTP_BAD_REQUEST');
  });

  it('reads Basic and Bearer credentials; no header is none; anything else is refused', () => {
    assert.deepEqual(credentials(undefined), { kind: 'none' });
    assert.deepEqual(credentials(`Basic ${Buffer.from('app:pa:ss wörd').toString('base64')}`), { kind: 'basic', user: 'app', password: 'pa:ss wörd' });
    assert.deepEqual(credentials('Bearer rtk_abc'), { kind: 'bearer', token: 'rtk_abc' });
    assert.equal(code(credentials('Basic bm9jb2xvbg==')), 'ERR_HTTP_UNAUTHORIZED', 'no colon');
    assert.equal(code(credentials('Digest x')), 'ERR_HTTP_UNAUTHORIZED');
  });

  it('reads a lookup body: a number as the SQL literal of its own text, strings and null as given', () => {
    const r = lookupKeys('{"keys": [[42, "x"], [1.50, null], [9007199254740993, -0, 1e3, "-1.5 \\" 2"], [ -1.5E-2 ]]}');
    assert.ok(!(r instanceof RotorError));
    assert.deepEqual(r.request, { kind: 'keys', keys: [[42, 'x'], [{ number: '1.50' }, null], [9007199254740993n, 0, { number: '1e3' }, '-1.5 " 2'], [{ number: '-1.5E-2' }]] });
    assert.deepEqual(r.given, ['[42,"x"]', '[1.50,null]', '[9007199254740993,-0,1e3,"-1.5 \\" 2"]', '[-1.5E-2]'], 'each key echoed in its own digits');
  });

  it('refuses malformed JSON, another shape, booleans, nested values and "keys" given twice', () => {
    for (const body of ['{"keys": [[1]', '[]', '{"keys": 1}', '{"keys": [1]}', '{"keys": [[true]]}', '{"keys": [[[1]]]}', '{"keys": [[1]], "x": 1}', '{"keys": [[1]], "keys": [[2]]}', '{"keys": [[7]], "keys": [["7"]]}']) {
      assert.equal(code(lookupKeys(body)), 'ERR_HTTP_BAD_JSON', body);
    }
  });
});
