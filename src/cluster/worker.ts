/**
 * One worker of `rotor start --workers N` (the primary is primary.ts). A worker is a whole Rotor
 * (src/index.ts): its own views, its own binlog stream, its own fills. What differs, [note: workers]:
 *
 * - its replication server id is `--server-id + index` (the primary hands every worker the same
 *   base, so the ids are distinct and stable across restarts of a worker);
 * - its memory limit is `--memory-limit / N`: the flag bounds the whole of Rotor;
 * - the registry is the primary's (views/cluster-registry.ts) or, with `--redis`, Redis;
 * - with `--data-dir`, only worker 0 keeps the caches' files (it mirrors the registry) and writes
 *   the hot-key files; without `--redis` every worker warms from those files, with it every worker
 *   writes its own hot keys into Redis (named by its server id) and warms from all of them;
 * - it does not listen on the admin port: the primary does and asks the workers over IPC, where
 *   the worker answers through its admin app's `inject`.
 */
import type { Logger } from 'pino';
import { AggregatorRegistry } from 'prom-client';
import type { RotorConfig } from '../config.js';
import { startRotor } from '../index.js';
import { FileHotKeyStore, type HotKeyStore } from '../views/hot-keys.js';
import { isAdminCall, WORKER_INDEX_ENV, type AdminReply, type WorkerReady } from './messages.js';

/** Reads another worker's hot-key files; writes and deletes nothing (worker 0 writes them). */
function readOnly(store: HotKeyStore): HotKeyStore {
  return {
    where: store.where,
    read: (id) => store.read(id),
    list: () => store.list(),
    write: async () => undefined,
    delete: async () => undefined,
  };
}

/** This worker's config: its own replication id, its share of the memory limit, the data dir only on worker 0. */
export function workerConfig(config: RotorConfig, index: number): RotorConfig {
  return {
    ...config,
    serverId: config.serverId + index,
    memoryLimitBytes: Math.floor(config.memoryLimitBytes / config.workers),
    dataDir: index === 0 ? config.dataDir : null,
  };
}

/** Runs this worker until SIGINT/SIGTERM or until the primary goes away. */
export async function runWorker(config: RotorConfig, logger: Logger): Promise<void> {
  const index = Number(process.env[WORKER_INDEX_ENV]);
  const log = logger.child({ worker: index });
  // Answers the primary's metric requests from the start (empty until Rotor is up), so a scrape
  // while this worker starts does not wait for it.
  AggregatorRegistry.setRegistries([]);
  new AggregatorRegistry();

  const own = workerConfig(config, index);
  // With --redis every worker contributes its own list (named by its server id) and warms from
  // the fleet's; without, the others warm from worker 0's files.
  const hotKeys = config.dataDir !== null && index !== 0 && config.redis === null ? readOnly(new FileHotKeyStore(config.dataDir)) : undefined;
  const rotor = await startRotor(own, log, {
    adminListen: false,
    clusterRegistry: config.redis === null,
    ...(hotKeys === undefined ? {} : { hotKeys }),
    statusExtra: { worker: { id: index, pid: process.pid, serverId: own.serverId } },
  });
  AggregatorRegistry.setRegistries([rotor.metrics]);

  process.on('message', (m: unknown) => {
    if (!isAdminCall(m)) return;
    rotor.adminApp.inject({ method: m.method, url: m.url, headers: m.headers, ...(m.body === null ? {} : { payload: m.body }) })
      .then((res) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) {
          if (v !== undefined && k !== 'content-length' && k !== 'connection' && k !== 'transfer-encoding') headers[k] = String(v);
        }
        const reply: AdminReply = { rotor: 'admin-reply', req: m.req, status: res.statusCode, headers, body: res.rawPayload };
        process.send?.(reply);
      }, (err: unknown) => {
        const reply: AdminReply = { rotor: 'admin-reply', req: m.req, status: 500, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify({ code: 'ERR_INTERNAL', message: String(err) })) };
        process.send?.(reply);
      });
  });
  const ready: WorkerReady = { rotor: 'ready', index, listen: rotor.listen };
  process.send?.(ready);

  await new Promise<void>((resolve) => {
    const stop = (why: string): void => {
      log.info({ why }, 'worker stopping');
      rotor.stop().then(resolve, resolve);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
    // An orphan serves nobody well: its primary (and the admin port) is gone.
    process.once('disconnect', () => stop('the primary process is gone'));
  });
  // The IPC channel would keep the process alive.
  process.exit(0);
}
