// The dashboard: asks for the admin token when the API wants one, then every REFRESH_MS reads
// /api/status, /api/history, /api/caches and /api/queries and redraws what changed.

import { api, ApiError, clearToken, hasToken, setToken, Unauthorized } from './api.js';
import { drawChart } from './charts.js';
import { bytes, count, decimal, duration, ms, percent } from './format.js';
import { drawDot } from './graph.js';
import { row, syncRows, text } from './tables.js';

const REFRESH_MS = 2000;
// The graph's DOT carries key and row counts: fetched again this often while a cache is picked.
const GRAPH_REFRESH_MS = 10_000;

/** @type {(id: string) => any} The page's elements by id (their types are the HTML's). */
const $ = (id) => document.getElementById(id);

// Each query row's current report: rows are reused across refreshes, so a click reads it here.
const reports = new WeakMap();

let timer = null;
let selected = null;
let graphShown = { id: null, dot: null, at: 0 };

function showLogin(message) {
  stop();
  $('main').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message;
  $('token').focus();
}

function showMain() {
  $('login').hidden = true;
  $('main').hidden = false;
}

function stop() {
  if (timer !== null) clearTimeout(timer);
  timer = null;
}

function schedule() {
  stop();
  timer = setTimeout(refresh, REFRESH_MS);
}

function summary(status) {
  const b = status.binlog ?? {};
  const q = status.queries ?? {};
  const m = status.memory ?? {};
  const c = status.caches ?? {};
  const items = [
    ['Status', status.status],
    ['Version', status.version],
    ['Upstream', status.upstream ? `${status.upstream.host}:${status.upstream.port} (${status.upstream.flavor} ${status.upstream.version})` : '–'],
    ['Uptime', duration(status.uptimeSec)],
    ['Clients', count(status.clients)],
    ['From caches', count(q.servedFromCache)],
    ['Relayed', count(q.relayed)],
    ['Binlog', b.connected ? `connected, lag ${ms(b.lagMs)} ms` : 'disconnected'],
    ['Cache state', `${bytes(m.stateBytes)} of ${bytes(m.limitBytes)}`],
    ['Serving', c.servingFromCaches === false ? `no: ${c.staleReason}` : 'from caches'],
  ];
  const dl = $('summary');
  const parts = items.map(([k, v]) => {
    const pair = document.createElement('div');
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    dd.textContent = v ?? '–';
    pair.append(dt, dd);
    return pair;
  });
  dl.replaceChildren(...parts);
}

function charts(history) {
  const s = history.samples;
  const times = s.map((x) => x.t);
  const pick = (k) => s.map((x) => x[k]);
  const rate = (v) => `${decimal(v)}/s`;
  const span = times.length > 1 ? (times.at(-1) - times[0]) / 1000 : 0;
  $('charts-span').textContent = times.length > 1 ? `(${duration(span)}, a sample every ${history.intervalMs / 1000} s)` : '(the first samples arrive within seconds)';
  drawChart($('chart-statements'), {
    title: 'Statements per second',
    times, format: rate,
    series: [{ label: 'from caches', values: pick('servedPerSec') }, { label: 'relayed', values: pick('relayedPerSec') }],
  });
  drawChart($('chart-lag'), { title: 'Binlog lag', times, format: (v) => `${ms(v)} ms`, series: [{ label: 'lag', values: pick('lagMs') }] });
  drawChart($('chart-binlog'), {
    title: 'Binlog throughput',
    times, format: rate,
    series: [{ label: 'transactions', values: pick('binlogTransactionsPerSec') }, { label: 'rows', values: pick('binlogRowsPerSec') }],
  });
  drawChart($('chart-fills'), { title: 'Upstream fills (upqueries)', times, format: rate, series: [{ label: 'fills', values: pick('fillsPerSec') }] });
  drawChart($('chart-memory'), {
    title: 'Memory',
    times, format: bytes, minTop: 1024 * 1024,
    series: [{ label: 'process RSS', values: pick('rssBytes') }, { label: 'cache state', values: pick('stateBytes') }],
  });
}

function cacheRow(c) {
  const tr = row(10, [3, 4, 5, 6, 7, 8, 9]);
  const pick = document.createElement('button');
  pick.type = 'button';
  pick.className = 'link';
  pick.addEventListener('click', () => select(c.id, true));
  tr.cells[0].append(pick);
  const code = document.createElement('code');
  tr.cells[1].append(code);
  return tr;
}

function updateCacheRow(tr, c) {
  const s = c.stats ?? {};
  text(tr.cells[0].firstChild, c.name);
  tr.cells[0].firstChild.setAttribute('aria-pressed', String(c.id === selected));
  tr.classList.toggle('selected', c.id === selected);
  text(tr.cells[1].firstChild, c.sql);
  tr.cells[1].title = c.database ? `in ${c.database}` : '';
  text(tr.cells[2], c.reason ? `${c.status}: ${c.reason}` : c.status);
  text(tr.cells[3], percent(s.hits ?? 0, (s.hits ?? 0) + (s.misses ?? 0)));
  text(tr.cells[4], count(s.hits));
  text(tr.cells[5], s.hitLatencyMs ? `${ms(s.hitLatencyMs.p50)} / ${ms(s.hitLatencyMs.p99)}` : '–');
  text(tr.cells[6], count(s.keys));
  text(tr.cells[7], bytes(s.bytes));
  text(tr.cells[8], count(s.upqueries));
  text(tr.cells[9], count(s.evictions));
}

function cachesTable(list) {
  syncRows($('caches').tBodies[0], list, (c) => c.id, cacheRow, updateCacheRow);
  $('caches-empty').hidden = list.length > 0;
  $('caches').hidden = list.length === 0;
  $('caches-count').textContent = list.length > 0 ? `(${list.length})` : '';
  if (selected !== null && !list.some((c) => c.id === selected)) selected = null;
  selected ??= list[0]?.id ?? null;
  const name = list.find((c) => c.id === selected)?.name;
  $('graph-name').textContent = name === undefined ? '' : `of ${name}`;
}

async function graph(force) {
  if (selected === null) {
    $('graph').replaceChildren();
    graphShown = { id: null, dot: null, at: 0 };
    return;
  }
  const now = Date.now();
  if (!force && graphShown.id === selected && now - graphShown.at < GRAPH_REFRESH_MS) return;
  const id = selected;
  let dot;
  try {
    dot = await api(`/api/caches/${encodeURIComponent(id)}/graph`);
  } catch (err) {
    // Dropped since the list was read: the next refresh picks another.
    if (err instanceof ApiError && err.status === 404) return;
    throw err;
  }
  if (graphShown.id === id && graphShown.dot === dot) {
    graphShown.at = now;
    return;
  }
  graphShown = { id, dot, at: now };
  await drawDot($('graph'), dot);
}

function select(id, redraw) {
  selected = id;
  for (const tr of $('caches').tBodies[0].rows) {
    tr.classList.toggle('selected', tr.dataset.key === id);
    tr.cells[0].firstChild.setAttribute('aria-pressed', String(tr.dataset.key === id));
  }
  if (redraw) graph(true).catch(problem);
}

async function cacheThis(q, button) {
  const out = $('cache-result');
  button.disabled = true;
  out.className = 'result';
  out.textContent = 'Registering…';
  try {
    const c = await api('/api/caches', { method: 'POST', body: { sql: q.id } });
    const as = c.name === c.id ? c.name : `${c.name} (${c.id})`;
    out.textContent = c.created === false ? `Already cached, as ${as}.` : `Cached as ${as}.`;
    out.classList.add('ok');
    selected = c.id;
    graphShown.at = 0;
  } catch (err) {
    if (err instanceof Unauthorized) return showLogin('The token was refused; enter it again.');
    out.textContent = `Not cached: ${err instanceof Error ? err.message : String(err)}`;
    out.classList.add('error');
  } finally {
    button.disabled = false;
  }
  refresh();
}

function queryRow() {
  const tr = row(8, [2, 3, 4, 5]);
  const code = document.createElement('code');
  tr.cells[0].append(code);
  const badge = document.createElement('span');
  badge.className = 'badge';
  badge.textContent = 'suggested';
  tr.cells[0].append(badge);
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'cache-this';
  button.textContent = 'Cache this';
  button.addEventListener('click', () => cacheThis(reports.get(tr), button));
  const cachedAs = document.createElement('span');
  tr.cells[7].append(button, cachedAs);
  return tr;
}

function updateQueryRow(tr, q) {
  reports.set(tr, q);
  text(tr.cells[0].firstChild, q.query);
  tr.cells[0].lastChild.hidden = !q.suggested;
  tr.classList.toggle('suggested', q.suggested);
  tr.title = q.id;
  text(tr.cells[1], q.database ?? '–');
  text(tr.cells[2], count(q.count));
  text(tr.cells[3], count(q.servedFromCache));
  text(tr.cells[4], ms(q.upstream.totalMs));
  text(tr.cells[5], `${ms(q.upstream.p50Ms)} / ${ms(q.upstream.p99Ms)}`);
  text(tr.cells[6], q.cacheable ? 'yes' : `no: ${q.reason}`);
  const [button, cachedAs] = tr.cells[7].children;
  button.hidden = !q.cacheable || q.cachedAs !== null;
  text(cachedAs, q.cachedAs === null ? '' : `cached as ${q.cachedAs}`);
}

function queriesTable(list) {
  // The suggested reads first (most upstream time saved first), then the rest in the API's order.
  const suggested = list.filter((q) => q.suggested).sort((a, b) => b.savingMs - a.savingMs);
  const ordered = [...suggested, ...list.filter((q) => !q.suggested)];
  syncRows($('queries').tBodies[0], ordered, (q) => q.id, queryRow, updateQueryRow);
  $('queries-empty').hidden = list.length > 0;
  $('queries').hidden = list.length === 0;
}

function problem(err) {
  if (err instanceof Unauthorized) {
    const had = hasToken();
    clearToken();
    showLogin(had ? 'The token was refused; enter it again.' : 'This Rotor needs its admin token.');
    return;
  }
  const p = $('problem');
  p.hidden = false;
  p.textContent = `Could not read Rotor's admin API: ${err instanceof Error ? err.message : String(err)}`;
}

async function refresh() {
  try {
    const [status, history, caches, queries] = await Promise.all([
      api('/api/status'),
      api('/api/history').catch((e) => (e instanceof ApiError && e.status === 404 ? { intervalMs: 2000, samples: [] } : Promise.reject(e))),
      api('/api/caches'),
      api('/api/queries?limit=50'),
    ]);
    showMain();
    $('problem').hidden = true;
    summary(status);
    charts(history);
    cachesTable(caches);
    queriesTable(queries);
    await graph(false);
    document.body.dataset.ready = 'true';
    schedule();
  } catch (err) {
    problem(err);
    if (!(err instanceof Unauthorized)) schedule();
  }
}

$('login-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const token = $('token').value.trim();
  if (token === '') return;
  setToken(token);
  $('token').value = '';
  $('login-error').textContent = '';
  refresh();
});

document.addEventListener('visibilitychange', () => {
  if (document.hidden) stop();
  else if (!$('main').hidden) refresh();
});

refresh();
