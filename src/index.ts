/**
 * Wires config → upstream checks → engine → binlog → proxy → admin, and owns start and stop.
 *
 * Start order matters: the binlog stream starts before the proxy accepts clients, so every fill
 * (whose snapshot is taken after the stream's start position) can be fenced against the stream
 * ([note: fill-position]). Stop runs in reverse: stop accepting, drain sessions, stop the stream.
 */
import { usage } from './dataflow/usage.js';
import { pino, type Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { HotKeyStore } from './views/hot-keys.js';
import { BinlogStream } from './binlog/stream.js';
import type { BinlogSink } from './binlog/sink.js';
import { Freshness } from './binlog/freshness.js';
import { checkUpstream, reachUpstream } from './upstream/requirements.js';
import type { RotorConfig } from './config.js';
import { buildAdminApp } from './proxy/admin/app.js';
import { History } from './proxy/admin/history.js';
import { fdsNeeded, raiseFdLimit } from './proxy/fd-limit.js';
import { createProxyServer, type ProxyServer } from './proxy/server.js';
import { createHttpReadServer, type HttpReadServer } from './proxy/http-read/server.js';
import { Engine } from './views/engine.js';
import { checkDataDir } from './views/cache-store.js';
import { rotorMetrics } from './metrics.js';
import { version } from './version.js';
import { ownProcessMemory } from './views/memory-budget.js';
import { isLoopback } from './config.js';

export interface Rotor {
  readonly config: RotorConfig;
  /** Where the MySQL endpoint and the admin server actually listen (port 0 resolved). */
  readonly listen: { host: string; port: number };
  readonly admin: { host: string; port: number };
  /** Where caches are read over HTTP (`--http-read`), or null when off. */
  readonly httpRead: { host: string; port: number } | null;
  readonly engine: Engine;
  readonly proxy: ProxyServer;
  readonly binlog: BinlogStream;
  /** The admin app (a worker of `--workers N` answers the primary through `inject`). */
  readonly adminApp: FastifyInstance;
  /** What `/metrics` reads (a worker hands it to the primary's aggregation). */
  readonly metrics: Registry;
  stop(): Promise<void>;
}

/** How a worker of `--workers N` (src/cluster/worker.ts) differs from a Rotor of its own. */
export interface StartOptions {
  /** false: the admin app is not listened on (the primary serves the admin port). Default true. */
  readonly adminListen?: boolean;
  /** The registry is the primary process's (views/cluster-registry.ts), unless `--redis` is given. */
  readonly clusterRegistry?: boolean;
  /** Where hot keys are read and written, instead of `<data-dir>/hot/`. */
  readonly hotKeys?: HotKeyStore;
  /** Added to /api/status (the worker's index and pid). */
  readonly statusExtra?: Record<string, unknown>;
}

/** The process's memory as /api/status shows it, with the budget's view. [note: memory-budget] */
function memoryReport(engine: Engine): Record<string, number | string> {
  const m = process.memoryUsage();
  return { rssBytes: m.rss, heapUsedBytes: m.heapUsed, heapTotalBytes: m.heapTotal, externalBytes: m.external, ...engine.memoryStatus() };
}

export async function startRotor(config: RotorConfig, logger: Logger = pino({ level: config.logLevel }), opts: StartOptions = {}): Promise<Rotor> {
  const startedAt = Date.now();
  if (config.dataDir !== null) await checkDataDir(config.dataDir);
  const fds = raiseFdLimit(fdsNeeded(config.maxClients));
  if (fds.warning !== null) logger.warn(fds.warning);
  const upstreamVersion = await reachUpstream(config.upstream);
  const flavor = await checkUpstream(config.upstream.url);
  logger.info({ upstream: `${config.upstream.host}:${config.upstream.port}`, version: upstreamVersion }, 'upstream ok');

  // One policy per process: every state's keys are ranked on the one usage clock. [note: memory-budget]
  usage.policy = config.evictionPolicy;
  const engine = new Engine({
    upstreamUrl: config.upstream.url,
    defaultDatabase: config.upstream.database,
    dataDir: config.dataDir,
    redisUrl: config.redis,
    clusterRegistry: opts.clusterRegistry === true,
    ...(opts.hotKeys === undefined ? {} : { hotKeys: opts.hotKeys }),
    instanceId: String(config.serverId),
    consistency: config.consistency,
    missPolicy: config.missPolicy,
    transactionReads: config.transactionReads,
    privilegeRefreshMs: config.privilegeRefreshMs,
    cacheIdleMs: config.cacheIdleMs,
    memoryLimitBytes: config.memoryLimitBytes,
    queryStats: config.queryStats,
    maxLimitParam: config.maxLimitParam,
    fillRead: config.fillRead,
    completeRows: config.completeRows,
    warm: { keys: config.warmKeys, rate: config.warmRate },
    processMemory: ownProcessMemory(),
    httpJsonMemo: config.httpJsonMemo,
    logger: logger.child({ area: 'engine' }),
  });
  await engine.start();

  // The binlog's throughput for the dashboard's charts, counted on the way into the engine (an
  // 'event' listener on the stream would cost an object per binlog event). Required<>: a sink
  // method added later must be passed on here too.
  let binlogTransactions = 0;
  let binlogRows = 0;
  const sink: Required<BinlogSink> = {
    applyBatch(b) {
      binlogTransactions++;
      for (const c of b.changes) binlogRows += c.deltas.length;
      engine.applyBatch(b);
    },
    applySchemaChange: (change) => engine.applySchemaChange(change),
    advance: (position) => engine.advance(position),
    reset: (reason) => engine.reset(reason),
  };
  const binlog = new BinlogStream({
    url: config.upstream.url,
    serverId: config.serverId,
    sink,
    startAt: 'current',
    // The first read after an idle spell then finds a proof younger than the bound. [note: demand-sampling]
    idleSampleMs: Math.min(1_000, Math.max(25, Math.floor(config.maxStalenessMs / 4))),
    logger: logger.child({ area: 'binlog' }),
  });
  await binlog.start();
  // Hot keys recorded before the last stop are filled in the background once the stream runs, so
  // their fills are fenced against it like every other. [note: warm-fill]
  await engine.warmUp();
  const freshness = new Freshness(binlog, config.maxStalenessMs, (reason) => {
    if (reason === null) logger.info('caches answer again: the binlog is within the staleness bound');
    else logger.warn({ reason }, 'cached reads go upstream');
  });
  engine.freshness = freshness;

  const proxy = createProxyServer({
    upstream: { host: config.upstream.host, port: config.upstream.port },
    listen: config.listen,
    backlog: config.backlog,
    maxClients: config.maxClients,
    router: engine.router,
    tls: config.tls ?? undefined,
    upstreamTls: config.upstreamTls,
    deferBegin: config.deferBegin,
    logger: logger.child({ area: 'proxy' }),
  });
  const listen = await proxy.listen();

  let httpServer: HttpReadServer | null = null;
  let httpRead: { host: string; port: number } | null = null;
  if (config.httpRead !== null) {
    if (!isLoopback(config.httpRead.host) && config.tls === null) logger.warn({ httpRead: config.httpRead }, 'HTTP reads off loopback without --tls-cert: Basic passwords and read tokens cross the network in clear');
    httpServer = createHttpReadServer({
      listen: config.httpRead,
      router: engine.httpReads,
      position: () => binlog.status(),
      tls: config.tls,
      maxClients: config.maxClients,
      logger: logger.child({ area: 'http-read' }),
    });
    httpRead = await httpServer.listen();
  }

  let serving = true;
  const registry = rotorMetrics({
    proxy: () => proxy.stats(),
    caches: () => engine.cacheCounters(),
    binlog: () => binlog.status(),
    memory: () => engine.budget,
    binlogApplied: () => ({ transactions: binlogTransactions, rows: binlogRows }),
  });

  const history = new History({
    lagMs: () => binlog.status().lagMs,
    totals: () => {
      const p = proxy.stats();
      const fills = engine.cacheCounters().reduce((n, c) => n + c.upqueries, 0);
      return { served: p.servedFromCache, relayed: p.relayed, fills, binlogTransactions, binlogRows };
    },
    memory: () => ({ rssBytes: process.memoryUsage.rss(), stateBytes: engine.budget.stateBytes }),
  });
  history.start();

  const status = (): Record<string, unknown> => {
    const p = proxy.stats();
    const staleReason = freshness.check();
    return {
      status: serving ? 'ok' : 'stopping',
      version: version(),
      uptimeSec: Math.round((Date.now() - startedAt) / 1000),
      upstream: { host: config.upstream.host, port: config.upstream.port, version: upstreamVersion, flavor: flavor.flavor },
      listen,
      clients: p.clients,
      connectionsTotal: p.totalConnections,
      queries: {
        servedFromCache: p.servedFromCache, relayed: p.relayed, notCachedReasons: p.notCachedReasons,
        // Reads answered from a key the cache held (a read answered from its own fill is served, not a hit).
        cacheHits: engine.cacheCounters().reduce((n, c) => n + c.hits, 0),
      },
      binlog: binlog.status(),
      caches: { ...engine.status(), servingFromCaches: staleReason === null, staleReason },
      registry: engine.registryStatus(),
      openFilesLimit: fds.limits?.soft ?? null,
      memory: memoryReport(engine),
      warm: engine.warmStatus(),
      fills: engine.fillReads(),
      ...opts.statusExtra,
    };
  };

  const adminApp: FastifyInstance = buildAdminApp(
    {
      serving: () => serving,
      status,
      caches: engine,
      metrics: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
      queries: (o) => engine.proxiedReports(o),
      history: () => ({ intervalMs: history.intervalMs, samples: history.samples() }),
    },
    { token: config.adminToken, limit: engine.registrations },
  );
  let admin = { host: config.admin.host, port: config.admin.port };
  if (opts.adminListen !== false) {
    await adminApp.listen({ host: config.admin.host, port: config.admin.port });
    const adminAddr = adminApp.server.address();
    if (typeof adminAddr === 'object' && adminAddr) admin = { host: config.admin.host, port: adminAddr.port };
  } else await adminApp.ready();
  logger.info({ listen, admin, httpRead }, 'rotor is serving');

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      serving = false;
      history.stop();
      await proxy.close();
      await httpServer?.close();
      await adminApp.close();
      await binlog.stop();
      await engine.close();
      logger.info('rotor stopped');
    })();
    return stopping;
  };

  return { config, listen, admin, httpRead, engine, proxy, binlog, adminApp, metrics: registry, stop };
}
