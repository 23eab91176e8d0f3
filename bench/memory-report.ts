/** The memory benchmark's report: a markdown summary with its targets, and the SVG charts. */
import { fmt, table } from './lib/markdown.js';
import { barChart, lineChart, svgDocument } from './lib/svg.js';
import type { CachesResult } from './memory-caches.js';
import { PAYLOAD_BYTES, type ZipfRunResult } from './memory-run.js';

const KIB = 1024;
const MIB = 1024 * 1024;
/** RSS growth past the limit that still counts as "within the budget". */
export const RSS_FACTOR_TARGET = 2;
/** The Zipf clients' hit rate may drop this much (absolute) during a cold scan and still count as kept. */
export const SCAN_DROP_TARGET = 0.05;
export const PER_CACHE_TARGET_KIB = 50;
/** The fitted registration time at the last step against the first: at most this ratio (plus 1 ms of noise). */
export const REGISTRATION_GROWTH_TARGET = 1.25;
/** "Near zero": % of one core. */
export const IDLE_CPU_TARGET = 1;
/** id (4 bytes) and payload: the row as the wire carries it, roughly. */
export const ROW_BYTES = 4 + PAYLOAD_BYTES;

export interface MemoryReport {
  readonly params: Record<string, unknown>;
  readonly budget: ReadonlyArray<ZipfRunResult>;
  readonly policies: ReadonlyArray<ZipfRunResult>;
  readonly caches: CachesResult | null;
  readonly summary: Record<string, unknown>;
}

/** "16MiB" for 16777216; "default" for null. */
export function sizeLabel(bytes: number | null): string {
  if (bytes === null) return 'default';
  for (const [unit, n] of [['GiB', 2 ** 30], ['MiB', MIB], ['KiB', KIB]] as const) if (bytes % n === 0) return `${bytes / n}${unit}`;
  return `${bytes} B`;
}

function pct(x: number | null | undefined, digits = 1): string {
  return x === null || x === undefined ? '–' : `${fmt(x * 100, digits)}%`;
}

function mib(x: number | null | undefined, digits = 1): string {
  return x === null || x === undefined ? '–' : fmt(x / MIB, digits);
}

function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  return a === null || a === undefined || b === null || b === undefined || b === 0 ? null : a / b;
}

function times(x: number | null): string {
  return x === null ? '–' : `${fmt(x, 2)}×`;
}

/** The limit a run was held to: what Rotor reported, else what it was given. */
function limitOf(r: ZipfRunResult): number | null {
  return r.limitReported ?? r.spec.limitBytes;
}

function verdict(met: boolean | null): string {
  return met === null ? '**not measured**' : met ? '**met**' : '**not met**';
}

/** Per-row cost from the reference run (default limit): RSS and heap growth after GC over the keys held. */
export function perRow(ref: ZipfRunResult | undefined): { keys: number | null; rssBytes: number | null; heapBytes: number | null; rotorBytes: number | null; overhead: number | null } {
  const keys = ref?.afterGc.keys ?? ref?.keysFinal ?? null;
  const rss = keys ? ratio(ref?.afterGc.rssGrowthBytes, keys) : null;
  return {
    keys,
    rssBytes: rss,
    heapBytes: keys ? ratio(ref?.afterGc.heapGrowthBytes, keys) : null,
    rotorBytes: keys ? ratio(ref?.cacheBytesFinal, ref?.keysFinal) : null,
    overhead: rss === null ? null : rss / ROW_BYTES,
  };
}

/** Targets, each with its measured number and whether it was met (null: not measured). */
export function targets(r: Pick<MemoryReport, 'budget' | 'policies' | 'caches'>): Record<string, { readonly value: string; readonly met: boolean | null }> {
  const limited = r.budget.filter((b) => b.status === 'ok' && b.spec.limitBytes !== null);
  const factors = limited.map((b) => ratio(b.rssGrowthMaxBytes, limitOf(b)));
  // Without a budget in force nothing is evicted: the RSS and scan numbers say nothing about one.
  const enforced = budgetEnforced([...r.budget, ...r.policies]);
  const unenforced = limited.length || r.policies.length ? ' (the budget is not enforced by this Rotor)' : '';
  const rssMet = enforced && factors.length && factors.every((f) => f !== null) ? factors.every((f) => (f as number) <= RSS_FACTOR_TARGET) : null;
  const admission = r.policies.find((p) => p.spec.policy === 'admission' && p.scan);
  const drop = admission?.scan && admission.scan.hitRateBefore !== null && admission.scan.hitRateDuring !== null
    ? admission.scan.hitRateBefore - admission.scan.hitRateDuring : null;
  const c = r.caches;
  const perCacheKiB = c?.rssPerCacheBytes === null || c?.rssPerCacheBytes === undefined ? null : c.rssPerCacheBytes / KIB;
  const fitted = c?.fitted ?? null;
  const flat = fitted === null ? null : fitted.lastMs <= fitted.firstMs * REGISTRATION_GROWTH_TARGET + 1;
  const idle = c?.idleCpu.registered ?? null;
  const idleDropped = c?.idleCpu.dropped ?? null;
  const idleBefore = c?.idleCpu.before ?? null;
  const added = (x: number | null): number | null => (x === null || idleBefore === null ? null : x - idleBefore);
  return {
    rssWithinLimit: {
      value: (limited.map((b, i) => `${sizeLabel(b.spec.limitBytes)}: ${times(factors[i])}`).join(', ') || '–') + (enforced ? '' : unenforced),
      met: rssMet,
    },
    hotSetKeptDuringScan: {
      value: (admission?.scan ? `admission ${pct(admission.scan.hitRateBefore)} → ${pct(admission.scan.hitRateDuring)}` : '–') + (enforced ? '' : unenforced),
      met: drop === null || !enforced ? null : drop <= SCAN_DROP_TARGET,
    },
    perCache: { value: perCacheKiB === null ? '–' : `${fmt(perCacheKiB, 1)} KiB RSS`, met: perCacheKiB === null ? null : perCacheKiB <= PER_CACHE_TARGET_KIB },
    registrationFlat: {
      value: c?.firstMeanMs === null || c?.firstMeanMs === undefined ? '–'
        : `mean ${fmt(c.firstMeanMs, 1)} → ${fmt(c.lastMeanMs, 1)} ms, median ${fmt(c.firstMedianMs, 1)} → ${fmt(c.lastMedianMs, 1)} ms, ` +
          `fitted ${fmt(fitted?.firstMs, 1)} → ${fmt(fitted?.lastMs, 1)} ms (${signed(fitted?.msPer100 ?? null)} ms per 100 caches)`,
      met: flat,
    },
    idleCpuAdded: {
      value: idle === null ? '–' : `${signed(added(idle))} points with the caches registered, ${signed(added(idleDropped))} after the drop`,
      met: added(idle) === null ? null : (added(idle) as number) <= IDLE_CPU_TARGET && (added(idleDropped) ?? 0) <= IDLE_CPU_TARGET,
    },
    idleCpu: {
      value: idle === null ? '–' : `${fmt(idleBefore, 2)} % before registering, ${fmt(idle, 2)} % registered, ${fmt(idleDropped, 2)} % dropped`,
      met: idle === null ? null : [idleBefore, idle, idleDropped].every((x) => x === null || x <= IDLE_CPU_TARGET),
    },
  };
}

function signed(x: number | null): string {
  return x === null ? '–' : `${x >= 0 ? '+' : ''}${fmt(x, 2)}`;
}

/** True when some run showed Rotor reporting its limit or the bytes its state takes. */
export function budgetEnforced(runs: ReadonlyArray<ZipfRunResult>): boolean {
  return runs.some((b) => b.stateBytesMax !== null || b.limitReported !== null);
}

function budgetTable(runs: ReadonlyArray<ZipfRunResult>): string {
  return table(
    ['limit', 'status', 'hit rate', 'reads/s', 'evictions/s', 'first eviction s', 'RSS at start MiB', 'RSS growth max MiB', 'final MiB', 'max growth / limit',
      'stateBytes MiB', 'state / limit', 'keys', 'cache bytes MiB', 'growth after GC MiB: RSS / heap / external'],
    runs.map((r) => [
      r.spec.limitBytes === null ? `default${r.limitReported === null ? '' : ` (${sizeLabel(r.limitReported)})`}` : sizeLabel(r.spec.limitBytes),
      r.status === 'ok' ? 'ok' : `failed: ${r.reason}`, pct(r.hitRate), fmt(r.readsPerSec, 0), fmt(r.evictionsPerSec, 0), fmt(r.fullAfterSeconds, 0),
      mib(r.baselineRssBytes), mib(r.rssGrowthMaxBytes), mib(r.rssGrowthFinalBytes), times(ratio(r.rssGrowthMaxBytes, limitOf(r))),
      mib(r.stateBytesFinal), times(ratio(r.stateBytesFinal, limitOf(r))), r.keysFinal === null ? '–' : r.keysFinal.toLocaleString('en-US'),
      mib(r.cacheBytesFinal), `${mib(r.afterGc.rssGrowthBytes)} / ${mib(r.afterGc.heapGrowthBytes)} / ${mib(r.afterGc.externalGrowthBytes)}`,
    ]),
  );
}

function policyTable(runs: ReadonlyArray<ZipfRunResult>): string {
  return table(
    ['policy', 'status', 'Zipf s', 'first eviction s', 'hit rate', 'reads/s', 'evictions/s', 'RSS growth max / limit', 'Zipf hit rate before scan', 'during scan',
      'change (points)', 'scan reads/s', 'scanned / keys held'],
    runs.map((r) => {
      const s = r.scan;
      const change = s && s.hitRateBefore !== null && s.hitRateDuring !== null ? (s.hitRateDuring - s.hitRateBefore) * 100 : null;
      return [
        r.spec.policy, r.status === 'ok' ? 'ok' : `failed: ${r.reason}`, r.zipfSeconds, fmt(r.fullAfterSeconds, 0), pct(r.hitRate), fmt(r.readsPerSec, 0),
        fmt(r.evictionsPerSec, 0),
        times(ratio(r.rssGrowthMaxBytes, limitOf(r))), pct(s?.hitRateBefore), pct(s?.hitRateDuring),
        change === null ? '–' : `${change >= 0 ? '+' : ''}${fmt(change, 1)}`, `${fmt(s?.readsPerSec, 0)}${s?.exhausted ? ' (all read)' : ''}`, times(ratio(s?.reads, s?.keysHeld)),
      ];
    }),
  );
}

function cachesSection(c: CachesResult): string[] {
  const step = (i: number, key: 'rssBytes' | 'heapUsedBytes'): string => {
    const a = c.steps[i - 1];
    const b = c.steps[i];
    const va = a?.[key];
    const vb = b?.[key];
    if (!a || va === null || vb === null || va === undefined || vb === undefined || b.caches === a.caches) return '–';
    return fmt((vb - va) / (b.caches - a.caches) / KIB, 1);
  };
  const drop = c.afterDrop;
  const statuses = drop ? Object.entries(drop.statuses).map(([k, v]) => `${v} ${k}`).join(', ') || 'none' : '';
  return [
    table(
      ['caches', 'Rotor RSS MiB', 'RSS KiB/cache (step)', 'Rotor heap MiB', 'heap KiB/cache (step)', 'registration p50 ms (step)'],
      c.steps.map((s, i) => [s.caches, mib(s.rssBytes), step(i, 'rssBytes'), mib(s.heapUsedBytes), step(i, 'heapUsedBytes'), fmt(s.registrationP50Ms, 1)]),
    ),
    '',
    `Per registered cache (least-squares slope): **RSS ${fmt(c.rssPerCacheBytes === null ? null : c.rssPerCacheBytes / KIB, 1)} KiB**, ` +
      `V8 heap ${fmt(c.heapPerCacheBytes === null ? null : c.heapPerCacheBytes / KIB, 1)} KiB. ` +
      `Registration (successful POSTs only, ${c.registered} of ${c.caches}; ${c.throttled} rate-limit refusals waited out): ` +
      `mean **${fmt(c.firstMeanMs, 2)} ms** for the first 100, **${fmt(c.lastMeanMs, 2)} ms** for the last 100 ` +
      `(medians ${fmt(c.firstMedianMs, 2)} and ${fmt(c.lastMedianMs, 2)} ms; a line through the steps' medians rises ` +
      `${signed(c.fitted?.msPer100 ?? null)} ms per 100 caches, ${fmt(c.fitted?.firstMs, 1)} → ${fmt(c.fitted?.lastMs, 1)} ms).`,
    '',
    `Rotor idle CPU (% of one core): **${fmt(c.idleCpu.before, 2)} %** before registering, **${fmt(c.idleCpu.registered, 2)} %** with ${c.registered} caches, ` +
      `**${fmt(c.idleCpu.dropped, 2)} %** after \`DROP DATABASE\`. ` +
      (drop
        ? `After the drop /api/caches listed ${drop.listed} of them: ${statuses}` +
          `${drop.seconds === null ? ' (not all dropped within 30 s)' : ` (all dropped within ${fmt(drop.seconds, 1)} s)`}.`
        : 'The drop was not reached.'),
    ...(c.status === 'failed' ? ['', `- **failed**: ${c.reason}`] : []),
  ];
}

/** The markdown report (also printed on stdout). */
export function memoryMarkdown(r: MemoryReport): string {
  const p = r.params as { rows: number; scanRows: number; skew: number; clients: number; time: number; scanTime: number; scanClients: number; caches: number };
  const ref = perRow(r.budget.find((b) => b.spec.limitBytes === null && b.status === 'ok'));
  const t = targets(r);
  const out: string[] = [
    `### Memory: ${p.rows.toLocaleString('en-US')} rows read by Zipf ${p.skew} (+${p.scanRows.toLocaleString('en-US')} cold rows for the scan), ` +
      `${p.clients} clients, ${p.time} s per run`,
  ];
  if (r.budget.length) {
    out.push('', '#### Budget under Zipf (policy `admission`)', '', budgetTable(r.budget), '');
    out.push(
      `Hit rate over the second half of each run; reads/s over all of it; RSS growth is Rotor's RSS (/proc) over its RSS just after start (after a GC), sampled every second; ` +
      '"growth after GC" is at the end, load stopped, after a full collection: RSS, V8 heap used, and external memory (Buffers and other memory ' +
      'outside the V8 heap, from process.memoryUsage()), each over its value at the start. "–": not reported by this Rotor.',
    );
    if (ref.keys) {
      out.push('', `Reference (default limit): ${ref.keys.toLocaleString('en-US')} keys held; after GC **${fmt(ref.rssBytes, 0)} bytes of RSS per cached row** ` +
        `(V8 heap ${fmt(ref.heapBytes, 0)} bytes; Rotor's own accounting, stats.bytes / keys, ${fmt(ref.rotorBytes, 0)} bytes) for a row of ~${ROW_BYTES} bytes ` +
        `(id + ${PAYLOAD_BYTES}-byte payload): an overhead factor of **${times(ref.overhead)}**.`);
    }
  }
  if (r.policies.length) {
    const lim = r.policies[0].spec.limitBytes;
    out.push('', `#### Eviction policies at ${sizeLabel(lim)}, and a cold scan`, '', policyTable(r.policies), '');
    out.push(
      `Each policy: a fresh Rotor (ROTOR_EVICTION_POLICY), Zipf for at least ${p.time} s and until the budget has been evicting for ${p.scanTime} s ` +
      `(at most ${p.time * 3} s; "Zipf s"), hit rate over its second half; then ${p.scanClients} more clients read the ` +
      `cold rows (ids no Zipf client reads), each once, from the highest id down, for ${p.scanTime} s while the Zipf clients go on. ` +
      `The Zipf clients' hit rate is Rotor's hits over its hits and misses less the scan's reads (every scan read is a miss), ` +
      `in the ${p.scanTime} s before the scan and during it. "(all read)": the scan read every cold row before its time was up. ` +
      '"scanned / keys held": the cold keys read during the scan against the keys the cache held when it began.',
    );
  }
  if (r.caches) out.push('', `#### Cheap caches: ${r.caches.caches.toLocaleString('en-US')} registered caches, no reads`, '', ...cachesSection(r.caches));
  out.push('', '#### Targets', '',
    `- RSS growth within ~${RSS_FACTOR_TARGET}× the limit: ${t.rssWithinLimit.value}: ${verdict(t.rssWithinLimit.met)}.`,
    `- Hot set kept during a cold scan (Zipf hit rate drops ≤ ${SCAN_DROP_TARGET * 100} points under admission): ${t.hotSetKeptDuringScan.value}: ${verdict(t.hotSetKeptDuringScan.met)}.`,
    `- ≤ ${PER_CACHE_TARGET_KIB} KiB per registered cache: ${t.perCache.value}: ${verdict(t.perCache.met)}.`,
    `- Registration time flat (the fitted line ends ≤ ${REGISTRATION_GROWTH_TARGET}× where it starts, + 1 ms): ${t.registrationFlat.value}: ${verdict(t.registrationFlat.met)}.`,
    `- Idle CPU added by the caches ≤ ${IDLE_CPU_TARGET} point of a core: ${t.idleCpuAdded.value}: ${verdict(t.idleCpuAdded.met)}.`,
    `- Idle CPU near zero (≤ ${IDLE_CPU_TARGET} % of a core) in absolute terms: ${t.idleCpu.value}: ${verdict(t.idleCpu.met)}.`,
  );
  if ((r.budget.length || r.policies.length) && !budgetEnforced([...r.budget, ...r.policies])) {
    out.push('', 'This Rotor reports no `memory.limitBytes` / `stateBytes`: it does not enforce the memory budget yet, so the limits above are not applied.');
  }
  return out.join('\n');
}

function rssSeries(runs: ReadonlyArray<ZipfRunResult>, name: (r: ZipfRunResult) => string): { name: string; points: [number, number][] }[] {
  return runs.filter((r) => r.status === 'ok').map((r) => ({
    name: name(r),
    points: r.samples.filter((s) => s.rssBytes !== null && r.baselineRssBytes !== null)
      .map((s) => [s.t, ((s.rssBytes as number) - (r.baselineRssBytes as number)) / MIB]),
  }));
}

/** The charts: RSS growth over time per run with the limits, hit rates around the scan, memory per cache. */
export function memorySvg(r: MemoryReport): string {
  const panels = [];
  if (r.budget.length) {
    const limits = [...new Set(r.budget.map((b) => b.spec.limitBytes).filter((x): x is number => x !== null))];
    panels.push(lineChart('Rotor RSS growth under Zipf, per --memory-limit (dashed: the limits)', 'seconds', 'MiB over start',
      rssSeries(r.budget, (b) => `limit ${sizeLabel(b.spec.limitBytes)}`), limits.map((l) => ({ name: `limit ${sizeLabel(l)}`, y: l / MIB }))));
  }
  if (r.policies.length) {
    const lim = r.policies[0].spec.limitBytes;
    panels.push(lineChart(`Rotor RSS growth per eviction policy at ${sizeLabel(lim)} (cold scan in the last ${String(r.params.scanTime)} s)`, 'seconds', 'MiB over start',
      rssSeries(r.policies, (p) => p.spec.policy), lim === null ? [] : [{ name: `limit ${sizeLabel(lim)}`, y: lim / MIB }]));
    panels.push(barChart('Zipf clients\' hit rate before and during the cold scan', '%', r.policies.map((p) => p.spec.policy), ['before scan', 'during scan'], [
      r.policies.map((p) => (p.scan?.hitRateBefore === null || p.scan?.hitRateBefore === undefined ? null : p.scan.hitRateBefore * 100)),
      r.policies.map((p) => (p.scan?.hitRateDuring === null || p.scan?.hitRateDuring === undefined ? null : p.scan.hitRateDuring * 100)),
    ]));
  }
  const c = r.caches;
  if (c && c.steps.length) {
    panels.push(lineChart('Rotor memory vs registered caches (after GC)', 'caches registered', 'MiB', [
      { name: 'Rotor RSS', points: c.steps.filter((s) => s.rssBytes !== null).map((s) => [s.caches, (s.rssBytes as number) / MIB] as [number, number]) },
      { name: 'Rotor V8 heap used', points: c.steps.filter((s) => s.heapUsedBytes !== null).map((s) => [s.caches, (s.heapUsedBytes as number) / MIB] as [number, number]) },
    ]));
    panels.push(lineChart('Registration time vs caches registered (median of each step, successful POSTs)', 'caches registered', 'ms', [
      { name: 'POST /api/caches p50', points: c.steps.filter((s) => s.registrationP50Ms !== null).map((s) => [s.caches, s.registrationP50Ms as number] as [number, number]) },
    ]));
  }
  return svgDocument(panels, `memory, ${String(r.params.finishedAt ?? '')}`);
}
