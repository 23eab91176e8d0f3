/**
 * What the engine (engine.ts) is made with: its upstream, where its registry lives, its read
 * policies, its memory limit and its warm start (src/index.ts builds them from config.ts).
 */
import type { Logger } from 'pino';
import type { Consistency, MissPolicy, TransactionReads } from '../config.js';
import type { FillRead } from '../upstream/upstream-client.js';
import type { ProcessMemory } from './memory-budget.js';
import type { HotKeyStore } from './hot-keys.js';

/** Statements counted at most by default (`queryStats`). */
export const DEFAULT_QUERY_STATS = 1000;

export interface EngineOptions {
  /** mysql://rotor:rotor@host:port/db — Rotor's own account for upqueries. */
  upstreamUrl: string;
  /** Resolves unqualified tables when a registration gives no database. */
  defaultDatabase: string | null;
  /** Persist registered caches here (one file per cache under caches/); null = memory only. */
  dataDir: string | null;
  /** The shared registry (`--redis`): registrations and drops go through Redis ([note: shared-registry]). */
  redisUrl?: string | null;
  /**
   * A worker of `--workers N` without `--redis`: the registry is the primary process's, reached
   * over the cluster's IPC channel (cluster-registry.ts), with the same sync as Redis.
   */
  clusterRegistry?: boolean;
  /** Read-your-writes for sessions that wrote (config.ts `consistency`). Default 'eventual'. */
  consistency?: Consistency;
  /** What a read of a key a cache does not hold does (config.ts `missPolicy`). Default 'relay'. */
  missPolicy?: MissPolicy;
  /** Reads inside a transaction from every cache, not only `always` ones (config.ts `transactionReads`; default `DEFAULTS.transactionReads`). [note: transaction-reads] */
  transactionReads?: TransactionReads;
  /** The most rows a `LIMIT ?` read is answered from a cache for (config.ts `maxLimitParam`; default `DEFAULTS.maxLimitParam`). */
  maxLimitParam?: number;
  /** How often every principal's grants are checked again, and the global sql_mode re-read. Default 10 s. */
  privilegeRefreshMs?: number;
  /** A cache nobody has read for this long is emptied (not dropped), checked at every refresh. 0: never (the default). */
  cacheIdleMs?: number;
  /** The bytes all cache state may take ([note: memory-budget]). Default: no limit (tests); the CLI always gives one. */
  memoryLimitBytes?: number;
  /** How many statements SHOW PROXIED QUERIES keeps (0: none are counted). */
  queryStats?: number;
  /** The process the budget follows besides the state ([note: memory-process]). Default: none (tests). */
  processMemory?: ProcessMemory;
  /** How fills read the upstream ([note: fill-position]). Default: locking (snapshot is experimental). */
  fillRead?: FillRead;
  /** Caches over at most this many rows are filled whole (config.ts `completeRows`). Default 0: never (tests). [note: complete-state] */
  completeRows?: number;
  /**
   * Warm start ([note: warm-fill]): hot keys recorded per cache (0: off; default
   * config.ts `DEFAULTS.warmKeys`), keys filled per second at start (default `DEFAULTS.warmRate`),
   * fills in flight (default warm-start.ts `WARM_FILLS`), how often they are recorded (ms).
   */
  warm?: { keys?: number; rate?: number; fills?: number; recordMs?: number };
  /**
   * Where hot keys are kept; default: with `redisUrl`, Redis, shared by the fleet (mirrored in
   * `<dataDir>/hot/` when there is a data dir); else `<dataDir>/hot/`; else none.
   */
  hotKeys?: HotKeyStore;
  /** HTTP reads keep each key's JSON until it changes (config.ts `httpJsonMemo`). Default true. */
  httpJsonMemo?: boolean;
  /** This instance among those sharing a Redis (its `--server-id`): names its hot-key contribution. */
  instanceId?: string;
  logger?: Logger;
}
