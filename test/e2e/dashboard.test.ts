/**
 * The dashboard at `GET /` of the admin port, in a real browser (Debian's Chromium, headless,
 * driven by playwright-core): the page loads under its Content-Security-Policy without a console
 * error, shows a registered cache by name, draws the charts from GET /api/history and the cache's
 * dataflow from its DOT (Graphviz in WebAssembly), and its "Cache this" button registers a
 * proxied query. With --admin-token the page asks for the token once, then works.
 *
 * `ROTOR_SCREENSHOT=1` also runs a minute of varied traffic and saves the page as
 * docs/dashboard.png (the README's picture).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { e2eFixture } from '../support/e2e-fixture.js';
import { startTestRotor } from '../support/rotor.js';
import { launchBrowser, type TestBrowser } from '../support/browser.js';

const BY_K = 'SELECT v FROM kv WHERE k = ?';
const FANS = 'SELECT COUNT(*) FROM fan_of WHERE item_id = ?';
const TOKEN = 'dashboard-t0ken';

let browser: TestBrowser;
// User ids above the 200 of the fixture, one per inserted row.
let nextFan = 1000;

interface CacheInfo { id: string; name: string; sql: string }

const fx = e2eFixture('e2e_dashboard', {
  schema: `CREATE TABLE kv (k INT PRIMARY KEY, v VARCHAR(20) NOT NULL);
    INSERT INTO kv SELECT seq, CONCAT('v', seq) FROM seq_1_to_100;
    CREATE TABLE fan_of (user_id INT NOT NULL, item_id INT NOT NULL, PRIMARY KEY (user_id, item_id), KEY (item_id));
    INSERT INTO fan_of SELECT seq, seq % 10 FROM seq_1_to_200`,
  async arrange() {
    browser = await launchBrowser();
  },
});

after(async () => {
  await browser?.close();
});

/** Reads through Rotor: hits of the registered cache, and the uncached count read several times. */
async function traffic(rounds: number): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await fx.viaRotor.query(`SELECT v FROM kv WHERE k = ${1 + (i % 20)}`);
    await fx.viaRotor.query(`SELECT COUNT(*) FROM fan_of WHERE item_id = ${i % 10}`);
    if (i % 3 === 0) await fx.viaRotor.query(`SELECT k FROM kv WHERE v = 'v${i % 50}'`);
    if (i % 5 === 0) await fx.viaRotor.query(`INSERT INTO fan_of VALUES (${nextFan++}, ${i % 10})`);
    if (i % 10 === 0) await fx.viaRotor.query(`INSERT INTO fan_of VALUES (${nextFan++}, ${i % 7}), (${nextFan++}, ${i % 3})`);
  }
}

/** A page that fails the test on any console error (a CSP violation is one) or uncaught exception. */
async function openPage(url: string): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.context();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  const res = await page.goto(url);
  assert.equal(res?.status(), 200);
  return { page, errors };
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The points of a chart's lines, in SVG coordinates. */
async function chartPoints(page: Page, figureId: string): Promise<Array<[number, number]>> {
  return page.$$eval(`#${figureId} polyline`, (lines) =>
    lines.flatMap((l) => (l.getAttribute('points') ?? '').trim().split(/\s+/).map((p: string) => p.split(',').map(Number) as [number, number])));
}

test('the page shows the registered cache, charts drawn from the history and its dataflow graph', async () => {
  const reg = await fx.rotor.api<CacheInfo>('POST', '/api/caches', { sql: BY_K, name: 'kv_by_k', database: fx.db.name });
  assert.equal(reg.status, 201, JSON.stringify(reg.body));
  await traffic(30);

  const { page, errors } = await openPage(`${fx.rotor.adminUrl}/`);
  const csp = (await page.request.get(`${fx.rotor.adminUrl}/`)).headers()['content-security-policy'];
  assert.match(csp ?? '', /default-src 'self'/);

  await page.locator(`#caches tr[data-key="${reg.body.id}"]`).getByText('kv_by_k').waitFor();
  const cells = await page.locator(`#caches tr[data-key="${reg.body.id}"] td`).allTextContents();
  assert.equal(cells[1], BY_K);
  assert.equal(cells[2], 'ready');
  assert.match(cells[3], /%$/, 'a hit rate');

  // Two samples make a line (the first arrives two seconds after Rotor started); reads keep going
  // meanwhile so the statements chart has something above its axis.
  const more = traffic(40);
  await page.locator('#chart-statements polyline').first().waitFor({ timeout: 20_000 });
  await more;
  await until(async () => Number(await page.locator('#chart-statements').getAttribute('data-points')) >= 3, 'three samples charted');
  const points = await chartPoints(page, 'chart-statements');
  assert.ok(points.length >= 3, JSON.stringify(points));
  const axisY = await page.$eval('#chart-statements line.axis', (l) => Number(l.getAttribute('y1')));
  assert.ok(points.some(([, y]) => y < axisY - 1), `a rate above zero: ${JSON.stringify(points)} (axis at ${axisY})`);
  assert.match(await page.locator('#chart-statements figcaption').innerText(), /from caches/);
  for (const id of ['chart-lag', 'chart-binlog', 'chart-fills', 'chart-memory']) {
    assert.ok(await page.locator(`#${id} svg`).count() === 1, `${id} is drawn`);
  }

  // The dataflow, drawn from the DOT by Graphviz in the page: a node per operator, the reader last.
  await page.locator('#graph svg.dataflow').waitFor({ timeout: 20_000 });
  const graphText = await page.locator('#graph svg.dataflow').textContent();
  assert.match(graphText ?? '', /reader/);
  assert.match(graphText ?? '', /kv/);
  assert.ok(await page.locator('#graph svg.dataflow g.node').count() >= 2);
  assert.ok(await page.locator('#graph svg.dataflow g.edge').count() >= 1);
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('"Cache this" on a suggested proxied query registers it', async () => {
  await traffic(10);
  const { page, errors } = await openPage(`${fx.rotor.adminUrl}/`);
  const row = page.locator('#queries tbody tr', { hasText: FANS });
  await row.waitFor();
  assert.equal(await row.getAttribute('class'), 'suggested');
  // Suggested reads come first.
  const firstRows = await page.locator('#queries tbody tr').evaluateAll((rows) => rows.map((r) => r.classList.contains('suggested')));
  assert.deepEqual(firstRows, [...firstRows].sort((a, b) => Number(b) - Number(a)));

  await row.getByRole('button', { name: 'Cache this' }).click();
  await page.locator('#cache-result').getByText(/^Cached as /).waitFor();
  const caches = await fx.rotor.api<CacheInfo[]>('GET', '/api/caches');
  const created = caches.body.find((c) => c.sql === FANS);
  assert.ok(created !== undefined, JSON.stringify(caches.body));
  // The new cache appears in the table, is picked for the graph, and the query says where it is cached.
  await page.locator(`#caches tr[data-key="${created.id}"]`).waitFor();
  await row.getByText(`cached as ${created.name}`).waitFor();
  assert.equal(await row.getByRole('button', { name: 'Cache this' }).isVisible(), false);
  await page.locator('#graph-name').getByText(created.name).waitFor();
  await page.locator('#graph svg.dataflow', { hasText: 'aggregate' }).waitFor({ timeout: 20_000 });

  if (process.env.ROTOR_SCREENSHOT) {
    // A minute of uneven traffic, so the charts have a shape worth showing.
    const until = Date.now() + 60_000;
    let i = 0;
    while (Date.now() < until) {
      await traffic(5 + (Math.floor(i / 40) % 3) * 10);
      await new Promise((r) => setTimeout(r, 20 + (i % 7) * 5));
      i++;
    }
    await page.waitForTimeout(2_500);
    await page.screenshot({ path: 'docs/dashboard.png', fullPage: true });
  }
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('with --admin-token the page asks for the token once, then works', async () => {
  const guarded = await startTestRotor(fx.db, { adminToken: TOKEN });
  try {
    const reg = await guarded.api<CacheInfo>('POST', '/api/caches', { sql: BY_K, name: 'kv_guarded', database: fx.db.name });
    assert.equal(reg.status, 201);
    // The page and its assets carry no data: they load without the token; the API does not.
    for (const path of ['/', '/dashboard/app.js', '/dashboard/style.css', '/dashboard/vendor/viz.js']) {
      assert.equal((await fetch(guarded.adminUrl + path)).status, 200, path);
    }
    assert.equal((await fetch(`${guarded.adminUrl}/api/caches`)).status, 401);

    const { page, errors } = await openPage(`${guarded.adminUrl}/`);
    await page.locator('#login').waitFor();
    assert.equal(await page.locator('#main').isVisible(), false);
    await page.fill('#token', 'not-the-token');
    await page.click('#login-form button[type=submit]');
    await page.locator('#login-error').getByText(/refused/).waitFor();

    await page.fill('#token', TOKEN);
    await page.click('#login-form button[type=submit]');
    await page.locator('#caches').getByText('kv_guarded').waitFor();
    assert.equal(await page.locator('#login').isVisible(), false);
    // Entered once: a reload in the same tab does not ask again.
    await page.reload();
    await page.locator('#caches').getByText('kv_guarded').waitFor();
    assert.equal(await page.locator('#login').isVisible(), false);
    // The browser's 401s from the wrong token are console errors of their own; nothing else is.
    assert.deepEqual(errors.filter((e) => !/401/.test(e)), []);
    await page.context().close();
  } finally {
    await guarded.stop();
  }
});
