/** The rotating-blades report: markdown tables (stdout and bench/results/) and the SVG chart. */
import type { BladesContenderResult, BladesReport } from './blades-run.js';
import { QUERY_NAMES } from './blades-queries.js';
import { fmt, table } from './lib/markdown.js';
import { barChart, lineChart, svgDocument } from './lib/svg.js';

function ratio(a: number | undefined, b: number | undefined): string {
  return a && b ? `${fmt(a / b, 1)}×` : '–';
}

function hits(r: BladesContenderResult): string {
  if (r.ttlHits !== null) {
    const reads = r.queries.read_count.count;
    return reads ? `${fmt((100 * r.ttlHits) / reads, 1)}%` : '–';
  }
  const s = r.cacheStats?.read_count as Record<string, number> | null | undefined;
  if (!s || typeof s.hits !== 'number') return '–';
  // The benchmark's own probe and catch-up reads are hits on the same cache: leave them out.
  const own = r.benchReads ?? 0;
  const hitCount = Math.max(0, s.hits - own);
  const total = hitCount + (typeof s.misses === 'number' ? s.misses : 0);
  return total ? `${fmt((100 * hitCount) / total, 1)}%` : '–';
}

/** The title's words for each `--pin` topology (true: a report written before `--pin` took a value). */
const PINNED: Readonly<Record<string, string>> = {
  db: ', pinned (MariaDB and clients on CPU 0, Rotor, the pipe or Redis on CPU 1)',
  true: ', pinned (MariaDB and clients on CPU 0, Rotor, the pipe or Redis on CPU 1)',
  app: ', pinned beside the application (MariaDB alone on CPU 0; clients and Rotor, the pipe or Redis on CPU 1)',
};

/** µs per iteration of a CPU time in ms, or undefined. */
function perIteration(ms: number | undefined, iterations: number): number | undefined {
  return ms === undefined ? undefined : (ms * 1000) / iterations;
}

/** Markdown: a summary table, a per-query table, and notes on skipped or failed contenders. */
export function bladesMarkdown(report: BladesReport): string {
  const p = report.params;
  const entries = Object.entries(report.contenders);
  const direct = report.contenders.direct;
  const ok = entries.filter(([, r]) => r.status === 'ok' || r.status === 'failed');
  const lines: string[] = [];
  const rate = p.rate === null || p.rate === undefined ? '' : `, at most ${Number(p.rate).toLocaleString('en-US')} iterations/s (open loop)`;
  lines.push(`### Rotating blades: ${Number(p.clients).toLocaleString('en-US')} clients, ${Number(p.iterations).toLocaleString('en-US')} iterations, item ${p.item}${PINNED[String(p.pin)] ?? ''}${rate}`);
  lines.push('');
  lines.push(table(
    ['contender', 'status', 'total s', 'it/s', 'retries', 'final', 'read_count avg ms', 'read_count p99 ms', 'read speedup vs direct (avg)', 'read hit rate', 'repl. delay p99 ms', 'commit→visible p99 ms', 'client CPU (cores)', 'MariaDB CPU µs/iteration', 'relay CPU µs/iteration (Rotor or pipe)', 'warm (2nd half)', 'cached answer at Rotor p50/p99 ms', 'loop delay p50 ms: clients / Rotor'],
    ok.map(([name, r]) => [
      name, r.status, fmt(r.totalMs / 1000, 1), fmt(r.iterationsPerSec, 0), r.retries, r.finalCount,
      fmt(r.queries.read_count.avg, 3), fmt(r.queries.read_count.p99, 3),
      name === 'direct' ? '1.0×' : ratio(direct?.queries.read_count.avg, r.queries.read_count.avg),
      hits(r), fmt(r.replicationDelayMs?.p99, 1), fmt(r.commitToVisibleMs?.p99, 1), fmt(r.clientCores, 2), fmt(perIteration(r.cpuMs.mariadb, Number(p.iterations)), 0), fmt(r.rotorCpuUsPerIteration ?? undefined, 0), fmt(r.rotorCpuUsPerIterationWarm ?? undefined, 0),
      r.rotorAnswerMs ? `${r.rotorAnswerMs.p50}/${r.rotorAnswerMs.p99}` : '–',
      r.loopDelayMs ? `${fmt(r.loopDelayMs.client.p50, 2)} / ${r.loopDelayMs.rotor ? fmt(r.loopDelayMs.rotor.p50, 2) : '–'}` : '–',
    ]),
  ));
  lines.push('');
  lines.push(table(
    ['contender', 'query', 'count', 'min ms', 'avg ms', 'p50 ms', 'p99 ms', 'max ms'],
    ok.flatMap(([name, r]) => QUERY_NAMES.map((q) => {
      const s = r.queries[q];
      return [name, q, s.count, fmt(s.min, 3), fmt(s.avg, 3), fmt(s.p50, 3), fmt(s.p99, 3), fmt(s.max, 3)];
    })),
  ));
  lines.push('');
  lines.push('`become_fan` is the whole transaction (BEGIN, INSERT, UPDATE, COMMIT); rotor-count has no fan_count to update. ' +
    'Read hit rate leaves out the benchmark\'s own probe reads. "repl. delay" is Rotor\'s binlog lag from /api/status sampled every 250 ms (the age of the oldest upstream binlog ' +
    'end Rotor has not applied, sampled every 25 ms); "commit→visible" is measured by the benchmark (a commit to a ' +
    'probe row until Rotor\'s cached read shows it, every 200 ms). The clock of a Rotor contender stops when Rotor serves the final ' +
    'count. Client CPU near the core count means the load generator was the limit. "MariaDB CPU µs/iteration" is mariadbd\'s CPU (user + system, ' +
    'every thread: the statements, and the binlog sender for Rotor) over the run divided by the iterations. "relay CPU µs/iteration" is Rotor\'s (or the pipe\'s) CPU (user + system) over the run ' +
    'divided by the iterations; "warm (2nd half)" counts only the iterations after the first half was done, once V8 has compiled Rotor\'s hot paths. ' +
    '"cached answer at Rotor" is Rotor\'s own time for the reads it answered from a cache, from a command\'s arrival to its answer written ' +
    '(its rotor_query_duration_seconds histogram, bucket bounds): a client\'s read latency above it was spent before Rotor read the command ' +
    '(in the socket, waiting for Rotor\'s event loop to come to it), in the kernel, or on the client\'s own core. ' +
    '"loop delay" is how late an event loop ran a due callback, p50 over the run: the load generator\'s workers (the worst) and Rotor\'s; ' +
    'every response waits about that long in each loop it crosses.');
  const other = entries.filter(([, r]) => r.status !== 'ok');
  if (other.length) {
    lines.push('');
    for (const [name, r] of other) lines.push(`- **${name}**: ${r.status} — ${r.reason}`);
  }
  return lines.join('\n');
}

/** SVG: average and p99 latency per query per contender, throughput, and lag over time. */
export function bladesSvg(report: BladesReport): string {
  const ran = Object.entries(report.contenders).filter(([, r]) => r.status !== 'skipped');
  const names = ran.map(([n]) => n);
  const p = report.params;
  return svgDocument([
    barChart('Average latency per query (ms)', 'ms', [...QUERY_NAMES], names, ran.map(([, r]) => QUERY_NAMES.map((q) => r.queries[q].avg))),
    barChart('p99 latency per query (ms)', 'ms', [...QUERY_NAMES], names, ran.map(([, r]) => QUERY_NAMES.map((q) => r.queries[q].p99))),
    barChart('Throughput (iterations/s)', 'it/s', ['iterations/s'], names, ran.map(([, r]) => [r.iterationsPerSec])),
    lineChart('Throughput over time', 's', 'it/s', ran.map(([n, r]) => ({ name: n, points: r.series.throughput }))),
    lineChart('Rotor replication delay over time (binlog lag; commit→visible)', 's', 'ms', ran
      .filter(([, r]) => r.series.lag.length || r.series.commitToVisible.length)
      .flatMap(([n, r]) => [
        { name: `${n} binlog lag`, points: r.series.lag },
        { name: `${n} commit→visible`, points: r.series.commitToVisible },
      ])),
  ], `rotating blades: ${p.clients} clients, ${p.iterations} iterations, ${p.finishedAt}`);
}
