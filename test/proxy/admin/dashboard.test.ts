/**
 * The dashboard's files as the admin app serves them (inject(), no browser; the page itself is
 * tested in Chromium by test/e2e/dashboard.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildAdminApp, type AdminBackend } from '../../../src/proxy/admin/app.js';

function backend(over: Partial<AdminBackend> = {}): AdminBackend {
  return {
    serving: () => true, status: () => ({}), caches: null,
    history: () => ({ intervalMs: 2000, samples: [] }),
    ...over,
  };
}

test('the page, its modules, styles and Graphviz load without the token, each with its content type and the CSP', async () => {
  const app = buildAdminApp(backend(), { token: 's3cret' });
  const want: Array<[string, RegExp]> = [
    ['/', /^text\/html; charset=utf-8/],
    ['/dashboard/app.js', /^text\/javascript/],
    ['/dashboard/charts.js', /^text\/javascript/],
    ['/dashboard/style.css', /^text\/css/],
    ['/dashboard/favicon.svg', /^image\/svg\+xml/],
    ['/dashboard/vendor/viz.js', /^text\/javascript/],
  ];
  for (const [url, type] of want) {
    const res = await app.inject({ method: 'GET', url });
    assert.equal(res.statusCode, 200, url);
    assert.match(String(res.headers['content-type']), type, url);
    assert.match(String(res.headers['content-security-policy']), /default-src 'self'.*script-src 'self' 'wasm-unsafe-eval'/, url);
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
  }
  const page = await app.inject({ method: 'GET', url: '/' });
  assert.doesNotMatch(page.body, /<script>|<script [^>]*>[^<]/, 'no inline script');
  assert.match((await app.inject({ method: 'GET', url: '/dashboard/vendor/viz.js' })).body, /export \{[^}]*instance/);
});

test('every module the page imports is served', async () => {
  const app = buildAdminApp(backend(), { token: null });
  const seen = new Set<string>();
  const queue = ['/dashboard/app.js'];
  while (queue.length > 0) {
    const url = queue.pop() as string;
    if (seen.has(url)) continue;
    seen.add(url);
    const res = await app.inject({ method: 'GET', url });
    assert.equal(res.statusCode, 200, url);
    if (url.includes('/vendor/')) continue;
    for (const m of res.body.matchAll(/(?:from |import\()'(\.\/[^']+)'/g)) queue.push(new URL(m[1], `http://x${url}`).pathname);
  }
  assert.ok(seen.has('/dashboard/vendor/viz.js') && seen.size >= 6, [...seen].join(' '));
});

test('a file is answered 304 when the browser holds its ETag; other paths are not served', async () => {
  const app = buildAdminApp(backend(), { token: null });
  const first = await app.inject({ method: 'GET', url: '/dashboard/style.css' });
  const etag = String(first.headers.etag);
  const again = await app.inject({ method: 'GET', url: '/dashboard/style.css', headers: { 'if-none-match': etag } });
  assert.equal(again.statusCode, 304);
  assert.equal(again.body, '');
  for (const url of ['/dashboard/tsconfig.json', '/dashboard/../app.ts', '/dashboard/%2e%2e/app.ts', '/dashboard/vendor/viz.cjs', '/index.html']) {
    assert.equal((await app.inject({ method: 'GET', url })).statusCode, 404, url);
  }
});

test('GET /api/history needs the token, like every /api/ route', async () => {
  const samples = [{ t: 1, lagMs: 0, servedPerSec: 1, relayedPerSec: 0, fillsPerSec: 0, binlogTransactionsPerSec: 0, binlogRowsPerSec: 0, rssBytes: 1, stateBytes: 0 }];
  const app = buildAdminApp(backend({ history: () => ({ intervalMs: 2000, samples }) }), { token: 's3cret' });
  assert.equal((await app.inject({ method: 'GET', url: '/api/history' })).statusCode, 401);
  const ok = await app.inject({ method: 'GET', url: '/api/history', headers: { authorization: 'Bearer s3cret' } });
  assert.equal(ok.statusCode, 200);
  assert.deepEqual(ok.json(), { intervalMs: 2000, samples });
});
