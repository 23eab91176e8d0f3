/** The vote benchmark's report: markdown tables and the SVG chart. */
import { fmt, table } from './lib/markdown.js';
import { barChart, lineChart, svgDocument } from './lib/svg.js';
import type { VoteReport } from './vote-run.js';

function pct(x: number | null | undefined): string {
  return x === null || x === undefined ? '–' : `${fmt(x * 100, 1)}%`;
}

function mib(b: number | null): string {
  return b === null ? '–' : fmt(b / 2 ** 20, 1);
}

export function voteMarkdown(report: VoteReport): string {
  const p = report.params;
  const entries = Object.entries(report.contenders);
  const ran = entries.filter(([, r]) => r.status === 'ok');
  const direct = report.contenders.direct;
  const skew = Number(p.skew) === 0 ? 'uniform' : `Zipf ${p.skew}`;
  const lines = [
    `### Vote: ${Number(p.articles).toLocaleString('en-US')} articles, ${Number(p.votes).toLocaleString('en-US')} votes preloaded, ${skew}, ` +
      `${Math.round(Number(p.readShare) * 100)}% reads, ${p.clients} clients, ${p.durationSec} s per contender`,
    '',
    table(
      ['contender', 'ops/s', 'vs direct', 'read p50 ms', 'read p95 ms', 'read p99 ms', 'write p50 ms', 'write p95 ms', 'write p99 ms', 'hit rate', 'Rotor RSS MiB', 'client CPU (cores)'],
      ran.map(([name, r]) => [
        name, fmt(r.opsPerSec, 0), direct?.opsPerSec ? `${fmt(r.opsPerSec / direct.opsPerSec, 2)}×` : '–',
        fmt(r.ops.read.p50, 3), fmt(r.ops.read.p95, 3), fmt(r.ops.read.p99, 3),
        fmt(r.ops.write.p50, 3), fmt(r.ops.write.p95, 3), fmt(r.ops.write.p99, 3),
        pct(r.hitRate), mib(r.rotorRssBytes), fmt(r.clientCores, 2),
      ]),
    ),
  ];
  const cold = ran.filter(([n]) => n === 'rotor' || n === 'lookaside');
  if (cold.length) {
    lines.push('', `Cold start (first ${p.coldSeconds} s, empty caches):`, '');
    const secs = Math.max(...cold.map(([, r]) => r.coldStart.length));
    lines.push(table(
      ['second', ...cold.flatMap(([n]) => [`${n} ops/s`, `${n} read avg ms`, `${n} hit rate`])],
      Array.from({ length: secs }, (_, i) => [
        i + 1,
        ...cold.flatMap(([, r]) => {
          const s = r.coldStart[i];
          return s ? [fmt(s.opsPerSec, 0), fmt(s.readAvgMs, 3), pct(s.hitRate)] : ['–', '–', '–'];
        }),
      ]),
    ));
  }
  lines.push('', 'direct runs the natural join with a derived COUNT; denormalized reads a votes column its writer keeps ' +
    '(INSERT + UPDATE in one transaction); lookaside caches the read\'s rows in Redis, filled on miss and deleted on write; ' +
    'rotor serves the natural query from its view. Hit rate: lookaside from its own GETs, rotor from /api/caches/:id stats.');
  const plan = Array.isArray(p.directPlan) ? (p.directPlan as Record<string, unknown>[]) : [];
  const derived = plan.find((row) => String(row.table).startsWith('<derived'));
  if (derived && derived.type === 'ALL') {
    lines.push('', `MariaDB's plan for the natural query scans the whole derived COUNT (${derived.table}: type ALL, ~${derived.rows} rows) on every read; ` +
      'that is what "direct" measures.');
  }
  for (const [name, r] of entries.filter(([, x]) => x.status !== 'ok')) lines.push(`- **${name}**: ${r.status} — ${r.reason}`);
  return lines.join('\n');
}

export function voteSvg(report: VoteReport): string {
  const ran = Object.entries(report.contenders).filter(([, r]) => r.status === 'ok');
  const names = ran.map(([n]) => n);
  return svgDocument([
    barChart('Throughput (operations/s)', 'ops/s', ['ops/s'], names, ran.map(([, r]) => [r.opsPerSec])),
    barChart('Latency (ms)', 'ms', ['read p50', 'read p95', 'read p99', 'write p50', 'write p99'], names,
      ran.map(([, r]) => [r.ops.read.p50, r.ops.read.p95, r.ops.read.p99, r.ops.write.p50, r.ops.write.p99])),
    lineChart('Throughput over time', 's', 'ops/s', ran.map(([n, r]) => ({ name: n, points: r.throughput }))),
    lineChart('Cold start: hit rate per second (%)', 's', '%', ran
      .filter(([, r]) => r.coldStart.some((s) => s.hitRate !== null))
      .map(([n, r]) => ({ name: n, points: r.coldStart.filter((s) => s.hitRate !== null).map((s) => [s.second, (s.hitRate ?? 0) * 100] as const) }))),
  ], `vote benchmark, ${report.params.finishedAt}`);
}
