/**
 * Wires config → upstream checks → engine → binlog → proxy → admin, and owns start and stop.
 *
 * Start order matters: the binlog stream starts before the proxy accepts clients, so every fill
 * (whose snapshot is taken after the stream's start position) can be fenced against the stream
 * ([note: fill-position]). Stop runs in reverse: stop accepting, drain sessions, stop the stream.
 */
import { usage } from './dataflow/usage.js';
import { pino, type Logger } from 'pino';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { FastifyInstance } from 'fastify';
import { BinlogStream } from './binlog/stream.js';
import { watchFreshness } from './binlog/freshness.js';
import { checkUpstream, reachUpstream } from './upstream/requirements.js';
import type { RotorConfig } from './config.js';
import { buildAdminApp } from './proxy/admin/app.js';
import { fdsNeeded, raiseFdLimit } from './proxy/fd-limit.js';
import { createProxyServer, type ProxyServer } from './proxy/server.js';
import { Engine } from './views/engine.js';
import { ownProcessMemory } from './views/memory-budget.js';

export interface Rotor {
  readonly config: RotorConfig;
  /** Where the MySQL endpoint and the admin server actually listen (port 0 resolved). */
  readonly listen: { host: string; port: number };
  readonly admin: { host: string; port: number };
  readonly engine: Engine;
  readonly proxy: ProxyServer;
  readonly binlog: BinlogStream;
  stop(): Promise<void>;
}

/** The process's memory as /api/status shows it, with the budget's view. [note: memory-budget] */
function memoryReport(engine: Engine): Record<string, number | string> {
  const m = process.memoryUsage();
  return { rssBytes: m.rss, heapUsedBytes: m.heapUsed, heapTotalBytes: m.heapTotal, externalBytes: m.external, ...engine.memoryStatus() };
}

export async function startRotor(config: RotorConfig, logger: Logger = pino({ level: config.logLevel })): Promise<Rotor> {
  const startedAt = Date.now();
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
    consistency: config.consistency,
    missPolicy: config.missPolicy,
    privilegeRefreshMs: config.privilegeRefreshMs,
    cacheIdleMs: config.cacheIdleMs,
    memoryLimitBytes: config.memoryLimitBytes,
    processMemory: ownProcessMemory(),
    logger: logger.child({ area: 'engine' }),
  });
  await engine.start();

  const binlog = new BinlogStream({
    url: config.upstream.url,
    serverId: config.serverId,
    sink: engine,
    startAt: 'current',
    logger: logger.child({ area: 'binlog' }),
  });
  await binlog.start();
  const freshness = watchFreshness(() => binlog.status(), config.maxStalenessMs, (reason) => {
    engine.staleReason = reason;
    if (reason === null) logger.info('caches answer again: the binlog is within the staleness bound');
    else logger.warn({ reason }, 'cached reads go upstream');
  });

  const proxy = createProxyServer({
    upstream: { host: config.upstream.host, port: config.upstream.port },
    listen: config.listen,
    backlog: config.backlog,
    maxClients: config.maxClients,
    router: engine.router,
    tls: config.tls ?? undefined,
    upstreamTls: config.upstreamTls,
    logger: logger.child({ area: 'proxy' }),
  });
  const listen = await proxy.listen();

  let serving = true;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'rotor_' });
  new Gauge({ name: 'rotor_clients', help: 'Connected client sessions', registers: [registry], collect() { this.set(proxy.stats().clients); } });
  // [note: memory-budget]
  new Gauge({ name: 'rotor_memory_limit_bytes', help: 'The memory limit all cache state is kept under', registers: [registry], collect() { this.set(engine.budget.limitBytes); } });
  new Gauge({ name: 'rotor_memory_state_bytes', help: 'Cache state, estimated at the last budget check', registers: [registry], collect() { this.set(engine.budget.stateBytes); } });
  let evictionsCounted = 0;
  new Counter({
    name: 'rotor_memory_evictions_total', help: 'Keys evicted to keep the memory limit', registers: [registry],
    collect() {
      this.inc(engine.budget.evictions - evictionsCounted);
      evictionsCounted = engine.budget.evictions;
    },
  });
  new Gauge({
    name: 'rotor_cache_bytes', help: 'Bytes held by each cache\'s reader', labelNames: ['cache'], registers: [registry],
    collect() {
      this.reset();
      for (const c of engine.cacheBytes()) this.set({ cache: c.name }, c.bytes);
    },
  });
  new Gauge({
    name: 'rotor_binlog_lag_ms', help: 'Binlog lag against the upstream clock', registers: [registry],
    collect() { this.set(binlog.status().lagMs ?? -1); },
  });

  const status = (): Record<string, unknown> => {
    const p = proxy.stats();
    return {
      status: serving ? 'ok' : 'stopping',
      version: process.env.npm_package_version ?? '0.1.0',
      uptimeSec: Math.round((Date.now() - startedAt) / 1000),
      upstream: { host: config.upstream.host, port: config.upstream.port, version: upstreamVersion, flavor: flavor.flavor },
      listen,
      clients: p.clients,
      connectionsTotal: p.totalConnections,
      queries: { servedFromCache: p.servedFromCache, relayed: p.relayed, notCachedReasons: p.notCachedReasons },
      binlog: binlog.status(),
      caches: { ...engine.status(), servingFromCaches: engine.staleReason === null, staleReason: engine.staleReason },
      openFilesLimit: fds.limits?.soft ?? null,
      memory: memoryReport(engine),
    };
  };

  const adminApp: FastifyInstance = buildAdminApp(
    {
      serving: () => serving,
      status,
      caches: engine,
      metrics: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
    },
    { token: config.adminToken, limit: engine.registrations },
  );
  await adminApp.listen({ host: config.admin.host, port: config.admin.port });
  const adminAddr = adminApp.server.address();
  const admin = { host: config.admin.host, port: typeof adminAddr === 'object' && adminAddr ? adminAddr.port : config.admin.port };
  logger.info({ listen, admin }, 'rotor is serving');

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      serving = false;
      freshness.stop();
      await proxy.close();
      await adminApp.close();
      await binlog.stop();
      await engine.close();
      logger.info('rotor stopped');
    })();
    return stopping;
  };

  return { config, listen, admin, engine, proxy, binlog, stop };
}
