/**
 * The admin API of `--workers N` answered once for all workers (primary.ts): `/api/status` and
 * `/api/caches` from each worker's own answer. Counters and sizes are summed; a lag is the largest;
 * a latency quantile is the largest of the workers' (an upper bound: quantiles do not add).
 */

/** One worker as the primary knows it, with its own /api/status when it answered. */
export interface WorkerView {
  readonly id: number;
  readonly pid: number | null;
  readonly ready: boolean;
  readonly restarts: number;
  readonly status: Record<string, unknown> | null;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** Sums the numeric fields the objects share (the first object's other fields are kept). */
function sumFields(objs: ReadonlyArray<Obj>, keep: ReadonlySet<string> = new Set()): Obj {
  const out: Obj = { ...objs[0] };
  for (const [k, v] of Object.entries(out)) {
    if (typeof v === 'number' && !keep.has(k)) out[k] = objs.reduce((n, o) => n + num(o[k]), 0);
  }
  return out;
}

function sumCounts(objs: ReadonlyArray<Obj>): Obj {
  const out: Record<string, number> = {};
  for (const o of objs) for (const [k, v] of Object.entries(o)) out[k] = (out[k] ?? 0) + num(v);
  return out;
}

/** `/api/status` of the whole: the first ready worker's, with totals summed over all, plus `workers`. */
export function aggregateStatus(workers: ReadonlyArray<WorkerView>, primary: { pid: number; uptimeSec: number; restarts: number }): Obj {
  const answered = workers.filter((w) => w.status !== null).map((w) => w.status as Obj);
  const rows = workers.map((w) => {
    const s = obj(w.status);
    const q = obj(s.queries);
    const mem = obj(s.memory);
    return {
      id: w.id, pid: w.pid, ready: w.ready, restarts: w.restarts,
      serverId: obj(s.worker).serverId ?? null,
      clients: num(s.clients), connectionsTotal: num(s.connectionsTotal),
      servedFromCache: num(q.servedFromCache), hits: num(q.cacheHits), relayed: num(q.relayed),
      lagMs: obj(s.binlog).lagMs ?? null,
      memory: { rssBytes: num(mem.rssBytes), stateBytes: num(mem.stateBytes), limitBytes: num(mem.limitBytes) },
      warm: s.warm ?? null,
    };
  });
  const base = answered[0] ?? {};
  const queries = answered.map((s) => obj(s.queries));
  const lags = answered.map((s) => obj(s.binlog).lagMs).filter((v): v is number => typeof v === 'number');
  const caches = answered.map((s) => obj(s.caches));
  const status = answered.length === 0 ? 'starting' : answered.every((s) => s.status === 'ok') ? 'ok' : 'degraded';
  return {
    ...base,
    status,
    pid: primary.pid,
    uptimeSec: primary.uptimeSec,
    clients: answered.reduce((n, s) => n + num(s.clients), 0),
    connectionsTotal: answered.reduce((n, s) => n + num(s.connectionsTotal), 0),
    queries: answered.length === 0 ? {} : {
      servedFromCache: queries.reduce((n, q) => n + num(q.servedFromCache), 0),
      cacheHits: queries.reduce((n, q) => n + num(q.cacheHits), 0),
      relayed: queries.reduce((n, q) => n + num(q.relayed), 0),
      notCachedReasons: sumCounts(queries.map((q) => obj(q.notCachedReasons))),
    },
    binlog: { ...obj(base.binlog), lagMs: lags.length === 0 ? null : Math.max(...lags) },
    caches: answered.length === 0 ? {} : {
      ...sumFields(caches, new Set(['caches'])),
      servingFromCaches: caches.every((c) => c.servingFromCaches === true),
    },
    memory: answered.length === 0 ? {} : sumFields(answered.map((s) => obj(s.memory))),
    worker: undefined,
    workers: rows,
    restarts: primary.restarts,
  };
}

/** `/api/caches` of the whole: each cache once (by id, in the first list's order), stats summed. */
export function aggregateCaches(lists: ReadonlyArray<ReadonlyArray<Obj>>): Obj[] {
  const byId = new Map<string, Obj[]>();
  for (const list of lists) {
    for (const c of list) {
      const id = String(c.id);
      const seen = byId.get(id);
      if (seen === undefined) byId.set(id, [c]);
      else seen.push(c);
    }
  }
  return [...byId.values()].map(aggregateCache);
}

/** One cache as several workers report it. */
export function aggregateCache(copies: ReadonlyArray<Obj>): Obj {
  const stats = copies.map((c) => obj(c.stats));
  const latency = stats.map((s) => obj(s.hitLatencyMs));
  return {
    ...copies[0],
    // A cache ready on every worker is ready; otherwise the first worker's reason says why not.
    status: copies.find((c) => c.status !== 'ready')?.status ?? 'ready',
    reason: copies.find((c) => c.status !== 'ready')?.reason ?? null,
    stats: {
      ...sumFields(stats),
      hitLatencyMs: { p50: Math.max(...latency.map((l) => num(l.p50))), p99: Math.max(...latency.map((l) => num(l.p99))) },
    },
    workers: copies.length,
  };
}

/**
 * `/api/history` of the whole: the workers sample on their own timers, so samples are aligned by
 * age (the newest of each, then the one before…), as long as the shortest worker's history; rates
 * and sizes are summed, the lag is the largest, the time is the first worker's.
 */
export function aggregateHistory(docs: ReadonlyArray<Obj>): Obj {
  const rings = docs.map((d) => (Array.isArray(d.samples) ? d.samples.map(obj) : []));
  const length = Math.min(...rings.map((r) => r.length));
  const samples: Obj[] = [];
  for (let age = length - 1; age >= 0; age--) {
    const at = rings.map((r) => r[r.length - 1 - age]);
    const lags = at.map((s) => s.lagMs).filter((v): v is number => typeof v === 'number');
    samples.push({ ...sumFields(at, new Set(['t'])), lagMs: lags.length === 0 ? null : Math.max(...lags) });
  }
  return { ...docs[0], samples };
}

/** What `/api/queries` sorts by (src/proxy/admin/app.ts), applied again to the merged list. */
export type QuerySort = 'total' | 'count' | 'p99';

/**
 * `/api/queries` of the whole: each statement once (its id is a digest of its text and database,
 * the same on every worker), counts and upstream time summed, quantiles the largest (an upper
 * bound), first seen the earliest, last seen the latest; sorted again and cut to `limit`. Each
 * worker answered with its own top `limit`, so a statement just outside every worker's list is
 * missing from the whole's too.
 */
export function aggregateQueries(lists: ReadonlyArray<ReadonlyArray<Obj>>, sort: QuerySort, limit: number): Obj[] {
  const byId = new Map<string, Obj[]>();
  for (const list of lists) for (const q of list) {
    const seen = byId.get(String(q.id));
    if (seen === undefined) byId.set(String(q.id), [q]);
    else seen.push(q);
  }
  const merged = [...byId.values()].map((copies) => {
    const up = copies.map((c) => obj(c.upstream));
    const most = (k: string): number | null => {
      const vs = up.map((u) => u[k]).filter((v): v is number => typeof v === 'number');
      return vs.length === 0 ? null : Math.max(...vs);
    };
    const times = (k: string): string[] => copies.map((c) => c[k]).filter((v): v is string => typeof v === 'string').sort();
    return {
      ...copies[0],
      count: copies.reduce((n, c) => n + num(c.count), 0),
      servedFromCache: copies.reduce((n, c) => n + num(c.servedFromCache), 0),
      upstream: { count: up.reduce((n, u) => n + num(u.count), 0), totalMs: up.reduce((n, u) => n + num(u.totalMs), 0), p50Ms: most('p50Ms'), p99Ms: most('p99Ms') },
      firstSeen: times('firstSeen')[0] ?? copies[0].firstSeen,
      lastSeen: times('lastSeen').at(-1) ?? copies[0].lastSeen,
      suggested: copies.some((c) => c.suggested === true),
      savingMs: copies.reduce((n, c) => n + num(c.savingMs), 0),
    };
  });
  const key = (q: Obj): number => (sort === 'count' ? num(q.count) : sort === 'p99' ? num(obj(q.upstream).p99Ms) : num(obj(q.upstream).totalMs));
  return merged.sort((a, b) => key(b) - key(a)).slice(0, limit);
}
