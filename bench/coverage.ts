/**
 * `npm run bench:coverage`: what share of real applications' read queries Rotor can register.
 * Loads bench/corpus/schema.sql into its own database on the private MariaDB, checks that every
 * query of bench/corpus/app-queries.sql runs there (prepared and executed, every `?` bound to 1),
 * then starts Rotor and asks `EXPLAIN CACHE` (registration's dry run) of each query as the corpus
 * spells it (`?` where a value changes per request: the form an operator registers).
 * Reports the registrable share overall and per source (ORM or application), and the refusals
 * grouped by reason (tables, columns and literals taken out so one kind of refusal is one group).
 *
 * `--baseline DIR` runs the Rotor of another checkout first (the "before") and this one (or
 * `--rotor-root`) after it, in the same run, and shows both side by side with the queries whose
 * answer changed.
 *
 * Writes bench/results/coverage.{json,md,svg}.
 *
 *   npm run bench:coverage
 *   npm run bench:coverage -- --rotor-root ../other-checkout
 *   npm run bench:coverage -- --baseline ../main-before   # another checkout as "before", same run
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import type mysql from 'mysql2/promise';
import {
  parseCorpus, percent, refusalGroups, schemaNames, sharesBySource, type CorpusEntry, type Outcome, type Share,
} from './lib/coverage.js';
import { table } from './lib/markdown.js';
import { note, ProgressBar } from './lib/progress.js';
import { machine, writeReport } from './lib/report.js';
import { startRotor } from './lib/rotor.js';
import { benchServers, connect } from './lib/servers.js';
import { barChart, svgDocument } from './lib/svg.js';

const here = dirname(fileURLToPath(import.meta.url));

const opts = new Command('bench:coverage')
  .description('Share of real applications\' read queries Rotor can register (EXPLAIN CACHE), before and after')
  .option('--corpus <path>', 'the queries', join(here, 'corpus', 'app-queries.sql'))
  .option('--schema <path>', 'the schema they run against', join(here, 'corpus', 'schema.sql'))
  .option('--database <name>', 'database the schema is loaded into (the corpus names it)', 'coverage_app')
  .option('--rotor-root <dir>', 'checkout whose Rotor is measured (default: this one)')
  .option('--baseline <dir>', 'also measure the Rotor of this checkout, as "before"')
  .option('--upstream <url>', 'MariaDB to use (default: the private MariaDB "bench")')
  .option('--json <path>', 'JSON result path (default bench/results/coverage.json)')
  .parse()
  .opts<{ corpus: string; schema: string; database: string; rotorRoot?: string; baseline?: string; upstream?: string; json?: string }>();

const entries = parseCorpus(readFileSync(opts.corpus, 'utf8'));
const schemaSql = readFileSync(opts.schema, 'utf8');
const names = schemaNames(schemaSql);
names.add(opts.database.toLowerCase());

const servers = await benchServers({ upstream: opts.upstream, needRedis: false });
const upstream = new URL(servers.upstreamUrl);
upstream.pathname = `/${opts.database}`;
const admin = await connect(servers.upstreamUrl);
note(`loading ${opts.schema} into ${opts.database}…`);
await admin.query(`DROP DATABASE IF EXISTS \`${opts.database}\`; CREATE DATABASE \`${opts.database}\`; USE \`${opts.database}\``);
await admin.query(schemaSql);

/** Why `sql` does not run on MariaDB (prepared, and executed with every `?` bound to 1), or null. */
async function runError(conn: mysql.Connection, sql: string): Promise<string | null> {
  try {
    const stmt = await conn.prepare(sql);
    try {
      await stmt.execute(Array.from(sql.matchAll(/\?/g), () => 1));
    } finally {
      stmt.close();
    }
    return null;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

const broken: string[] = [];
for (const e of entries) {
  const err = await runError(admin, e.sql);
  if (err !== null) broken.push(`line ${e.line} (${e.source}: ${e.shape}): ${err}`);
}
await admin.end();
if (broken.length > 0) {
  note(`${broken.length} corpus queries do not run on MariaDB:\n${broken.join('\n')}`);
  process.exit(1);
}
note(`${entries.length} queries run on MariaDB`);

/** EXPLAIN CACHE of every entry through the Rotor of checkout `root` (this one when undefined). */
async function explainAll(label: string, root: string | undefined): Promise<Outcome[]> {
  const rotor = await startRotor(upstream.href, root === undefined ? {} : { root });
  const conn = await connect(rotor.url);
  const out: Outcome[] = [];
  const bar = new ProgressBar(label, entries.length);
  try {
    for (const { sql } of entries) {
      try {
        const [rows] = await conn.query<mysql.RowDataPacket[]>(`EXPLAIN CACHE ${sql}`);
        const row = rows[0];
        out.push({ cacheable: row?.cacheable === 'yes', reason: row?.cacheable === 'yes' ? null : String(row?.reason ?? 'no answer') });
      } catch (e) {
        out.push({ cacheable: false, reason: `error: ${e instanceof Error ? e.message : String(e)}` });
      }
      bar.update(out.length);
    }
  } finally {
    bar.done(out.length);
    await conn.end();
    await rotor.stop();
  }
  return out;
}

interface Run { readonly name: string; readonly root: string; readonly outcomes: Outcome[] }
const runs: Run[] = [];
const thisRoot = resolve(opts.rotorRoot ?? join(here, '..'));
if (opts.baseline !== undefined) runs.push({ name: 'before', root: resolve(opts.baseline), outcomes: await explainAll('before', resolve(opts.baseline)) });
runs.push({ name: runs.length > 0 ? 'after' : 'rotor', root: thisRoot, outcomes: await explainAll(runs.length > 0 ? 'after' : 'rotor', thisRoot) });

const shares = runs.map((r) => sharesBySource(entries, r.outcomes));
const sources = [...shares[0].bySource.keys()];
const cell = (s: Share | undefined): string => (s === undefined ? '–' : `${s.registrable}/${s.total} (${percent(s)})`);
const last = runs[runs.length - 1];
const families = refusalGroups(entries, last.outcomes, names, true);
const groups = refusalGroups(entries, last.outcomes, names);
const before = (family: boolean): Map<string, number> | null =>
  runs.length > 1 ? new Map(refusalGroups(entries, runs[0].outcomes, names, family).map((g) => [g.group, g.entries.length])) : null;
const beforeFamilies = before(true);
const beforeGroups = before(false);
const example = (list: ReadonlyArray<CorpusEntry>): string => [...new Set(list.map((e) => `${e.source}: ${e.shape}`))].slice(0, 3).join('; ');

/** Refusal groups with their count after (and before, when compared; groups gone after listed with 0). */
function groupTable(title: string, after: ReadonlyArray<{ group: string; entries: CorpusEntry[] }>, beforeCounts: Map<string, number> | null): string {
  const rows = after.map((g) => [g.group, g.entries.length, ...(beforeCounts ? [beforeCounts.get(g.group) ?? 0] : []), example(g.entries)]);
  for (const [g, n] of beforeCounts ?? []) if (!after.some((a) => a.group === g)) rows.push([g, 0, n, '']);
  return table([title, 'queries', ...(beforeCounts ? ['before'] : []), 'e.g.'], rows);
}

const lines = [
  '# SQL coverage — application queries Rotor can register',
  '',
  `${entries.length} read queries from ${sources.length} sources (bench/corpus/app-queries.sql, schema bench/corpus/schema.sql), each asked with \`EXPLAIN CACHE\` as an operator registers it (\`?\` where a value changes per request). ${runs.map((r) => `${r.name}: ${r.root}`).join('; ')}.`,
  '',
  `**Registrable: ${runs.map((r, i) => `${r.name} ${cell(shares[i].overall)}`).join(', ')}.**`,
  '',
  '## Per source',
  '',
  table(['source', ...runs.map((r) => r.name)], [...sources.map((s) => [s, ...shares.map((x) => cell(x.bySource.get(s)))]), ['all', ...shares.map((x) => cell(x.overall))]]),
  '',
  `## Refusals by family${runs.length > 1 ? ' (after; before beside)' : ''}`,
  '',
  groupTable('family', families, beforeFamilies),
  '',
  `## Refusals by reason${runs.length > 1 ? ' (after; before beside)' : ''}`,
  '',
  groupTable('reason (grouped)', groups, beforeGroups),
];
if (runs.length > 1) {
  const changed = entries.map((e, i) => ({ e, i })).filter(({ i }) => runs[0].outcomes[i].cacheable !== last.outcomes[i].cacheable);
  lines.push('', '## Changed', '', changed.length === 0 ? 'No query changed.' : table(['line', 'source', 'shape', 'before', 'after'], changed.map(({ e, i }) => [
    e.line, e.source, e.shape, runs[0].outcomes[i].cacheable ? 'yes' : runs[0].outcomes[i].reason, last.outcomes[i].cacheable ? 'yes' : last.outcomes[i].reason,
  ])));
}
lines.push('', '## Every query', '', table(['line', 'source', 'shape', ...runs.map((r) => r.name), 'reason'], entries.map((e, i) => [
  e.line, e.source, e.shape, ...runs.map((r) => (r.outcomes[i].cacheable ? 'yes' : 'no')), last.outcomes[i].reason ?? '',
])));
const md = lines.join('\n');

const svg = svgDocument([
  barChart('Registrable share per source', '%', [...sources, 'all'], runs.map((r) => r.name), shares.map((x) => [
    ...sources.map((s) => { const v = x.bySource.get(s); return v === undefined || v.total === 0 ? null : Math.round((1000 * v.registrable) / v.total) / 10; }),
    Math.round((1000 * x.overall.registrable) / x.overall.total) / 10,
  ])),
]);
const json = {
  params: { ...opts, machine: machine() },
  runs: runs.map((r, i) => ({ name: r.name, root: r.root, registrable: shares[i].overall.registrable, total: shares[i].overall.total, bySource: Object.fromEntries(shares[i].bySource) })),
  families: families.map((g) => ({ family: g.group, count: g.entries.length, lines: g.entries.map((e) => e.line) })),
  refusals: groups.map((g) => ({ group: g.group, count: g.entries.length, lines: g.entries.map((e) => e.line) })),
  queries: entries.map((e, i) => ({ ...e, outcomes: Object.fromEntries(runs.map((r) => [r.name, r.outcomes[i]])) })),
};
for (const f of writeReport('coverage', { json, markdown: md, svg }, opts.json)) note(`wrote ${f}`);
process.stdout.write(`${md}\n`);
process.exit(0);
