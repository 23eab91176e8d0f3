/**
 * The `rotor` command. `rotor start` runs the proxy until SIGINT/SIGTERM, then drains and stops.
 * Every flag can also be given as a ROTOR_* environment variable; a bad flag or an unreachable
 * upstream is one line on stderr and a non-zero exit.
 */
import { Command, CommanderError, Option } from 'commander';
import { pino, type Logger } from 'pino';
import { buildConfig, DEFAULTS, LOG_LEVELS, type RawConfig, type RotorConfig } from './config.js';
import { RotorError } from './errors.js';
import { version } from './version.js';


/**
 * Log lines for a person on a terminal (pino-pretty, synchronous so nothing is lost at exit), JSON
 * lines for a collector otherwise.
 */
async function logger(level: string): Promise<Logger> {
  if (!process.stdout.isTTY) return pino({ level });
  const { default: pretty } = await import('pino-pretty');
  return pino({ level }, pretty({ colorize: true, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }));
}

function startCommand(): Command {
  return new Command('start')
    .description('Start Rotor in front of an upstream MySQL/MariaDB server')
    .exitOverride()
    .addOption(new Option('--upstream <url>', 'upstream server, mysql://USER:PASS@HOST:PORT/DB (needs SELECT, REPLICATION SLAVE, REPLICATION CLIENT)').env('ROTOR_UPSTREAM'))
    .addOption(new Option('--listen <host:port>', 'where clients connect (MySQL protocol)').env('ROTOR_LISTEN').default(DEFAULTS.listen))
    .addOption(new Option('--admin <host:port>', 'admin HTTP API (health, status, caches)').env('ROTOR_ADMIN').default(DEFAULTS.admin))
    .addOption(new Option('--data-dir <dir>', 'where registered caches are kept across restarts (default: memory only)').env('ROTOR_DATA_DIR'))
    .addOption(new Option('--redis <url>', 'shared registry: redis://HOST:PORT[/DB]; every instance using it serves the same caches (with --data-dir, the data dir mirrors it)').env('ROTOR_REDIS'))
    .addOption(new Option('--admin-token <token>', 'bearer token required on every /api/* route; mandatory for a non-loopback --admin').env('ROTOR_ADMIN_TOKEN'))
    .addOption(new Option('--server-id <id>', 'replication server id of the binlog connection, unique per Rotor instance').env('ROTOR_SERVER_ID'))
    .addOption(new Option('--backlog <n>', 'listen backlog of the MySQL endpoint').env('ROTOR_BACKLOG').default(String(DEFAULTS.backlog)))
    .addOption(new Option('--max-clients <n>', 'client connections accepted at once (each takes 2 file descriptors)').env('ROTOR_MAX_CLIENTS').default(String(DEFAULTS.maxClients)))
    .addOption(new Option('--memory-limit <size>', 'bytes all cache state may take (e.g. 512MiB, 2GiB); the coldest keys are evicted past it (default: 1GiB or a quarter of the machine\'s memory, whichever is smaller)').env('ROTOR_MEMORY_LIMIT'))
    .addOption(new Option('--eviction-policy <policy>', 'admission (default: a key read once goes first), lru, or random (for comparison)').env('ROTOR_EVICTION_POLICY'))
    .addOption(new Option('--cache-idle <ms>', 'a cache nobody has read for this long is emptied, not dropped (0: never)').env('ROTOR_CACHE_IDLE').default(String(DEFAULTS.cacheIdleMs)))
    .addOption(new Option('--privilege-refresh <ms>', "how often every user's grants are checked again (changes that reach the binlog apply at once)").env('ROTOR_PRIVILEGE_REFRESH').default(String(DEFAULTS.privilegeRefreshMs)))
    .addOption(new Option('--max-staleness <ms>', 'cached reads go upstream while the binlog lags (or is disconnected) longer than this').env('ROTOR_MAX_STALENESS').default(String(DEFAULTS.maxStalenessMs)))
    .addOption(new Option('--consistency <mode>', 'eventual, or session: a session that wrote reads its own writes from caches').env('ROTOR_CONSISTENCY').default(DEFAULTS.consistency))
    .addOption(new Option('--miss-policy <policy>', 'relay: a read of a key not in the cache goes to the client\'s upstream session, and a key missed twice is filled in the background; fill: the read waits for the fill').env('ROTOR_MISS_POLICY').default(DEFAULTS.missPolicy))
    .addOption(new Option('--transaction-reads <where>', 'reads inside a transaction: upstream (MariaDB\'s snapshot), or cache: every cache serves them as CREATE CACHE ALWAYS does, until the transaction changes rows').env('ROTOR_TRANSACTION_READS').default(DEFAULTS.transactionReads))
    .addOption(new Option('--max-limit-param <rows>', 'a cache registered with LIMIT ? serves reads asking for up to this many rows (offset + count) per key; larger ones go upstream').env('ROTOR_MAX_LIMIT_PARAM').default(String(DEFAULTS.maxLimitParam)))
    .addOption(new Option('--query-stats <n>', 'statements SHOW PROXIED QUERIES keeps, the ones with the most upstream time (0: count none)').env('ROTOR_QUERY_STATS').default(String(DEFAULTS.queryStats)))
    .addOption(new Option('--fill-read <how>', 'how fills read the upstream: locking (a share-locking read; writers to what it reads wait; the most fills per second) or snapshot (a consistent snapshot at its binlog position, no lock)').env('ROTOR_FILL_READ').default(DEFAULTS.fillRead))
    .addOption(new Option('--complete-rows <n>', 'a cache\'s state over a table of at most this many rows (groups of an aggregate) is filled whole, so a key the table does not hold is answered from memory (0: never)').env('ROTOR_COMPLETE_ROWS').default(String(DEFAULTS.completeRows)))
    .addOption(new Option('--warm-keys <n>', 'hot keys recorded per cache in --data-dir and filled again in the background at start (0: warm start off)').env('ROTOR_WARM_KEYS').default(String(DEFAULTS.warmKeys)))
    .addOption(new Option('--warm-rate <n>', 'keys a warm start fills per second, at most').env('ROTOR_WARM_RATE').default(String(DEFAULTS.warmRate)))
    .addOption(new Option('--tls-cert <file>', 'PEM certificate: enables TLS (STARTTLS) for clients').env('ROTOR_TLS_CERT'))
    .addOption(new Option('--tls-key <file>', 'PEM private key for --tls-cert').env('ROTOR_TLS_KEY'))
    .addOption(new Option('--upstream-tls <mode>', 'TLS to upstream sessions: off, auto (when the client used TLS) or required (always)').env('ROTOR_UPSTREAM_TLS').default(DEFAULTS.upstreamTls))
    .addOption(new Option('--upstream-ca <file>', 'PEM CA certificate: verify the upstream server\'s certificate and host name').env('ROTOR_UPSTREAM_CA'))
    .addOption(new Option('--workers <n>', 'worker processes behind the one listen port, each a whole Rotor with its own views and binlog stream (replication id --server-id + index; --memory-limit divided among them)').env('ROTOR_WORKERS').default(String(DEFAULTS.workers)))
    .addOption(new Option('--http-read <host:port>', 'read caches by key over HTTP as JSON on this listener (off by default; see README "Reading caches over HTTP")').env('ROTOR_HTTP_READ'))
    .addOption(new Option('--http-json-memo <on|off>', 'keep each key\'s JSON until it changes (off: encode on every read, for comparison)').env('ROTOR_HTTP_JSON_MEMO').hideHelp())
    .addOption(new Option('--defer-begin <on|off>', 'answer a plain BEGIN outside a transaction at once and send it upstream with the next command (one round trip less to the server per transaction; see README)').choices(['on', 'off']).env('ROTOR_DEFER_BEGIN').default('off'))
    .addOption(new Option('--log-level <level>', 'how much to log').choices(LOG_LEVELS).env('ROTOR_LOG_LEVEL').default(DEFAULTS.logLevel))
    .action(async (opts: RawConfig) => {
      const { readFileSync } = await import('node:fs');
      const raw: RawConfig = {
        ...opts,
        tlsCert: opts.tlsCert ? readFileSync(opts.tlsCert, 'utf8') : undefined,
        tlsKey: opts.tlsKey ? readFileSync(opts.tlsKey, 'utf8') : undefined,
        upstreamCa: opts.upstreamCa ? readFileSync(opts.upstreamCa, 'utf8') : undefined,
      };
      const config = buildConfig(raw);
      process.env.TZ = 'UTC';
      if (config.workers > 1) return cluster(config, await logger(config.logLevel));
      const { startRotor } = await import('./index.js');
      const rotor = await startRotor(config, await logger(config.logLevel));
      // The bench and tests read this line to learn the actual ports.
      const http = rotor.httpRead === null ? '' : `, http reads on ${rotor.httpRead.host}:${rotor.httpRead.port}`;
      process.stdout.write(`rotor listening on ${rotor.listen.host}:${rotor.listen.port}, admin on ${rotor.admin.host}:${rotor.admin.port}${http}\n`);
      await new Promise<void>((resolve) => {
        const onSignal = (sig: NodeJS.Signals): void => {
          process.stderr.write(`rotor: ${sig}, draining…\n`);
          rotor.stop().then(resolve, resolve);
        };
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
      });
    });
}

/** `--workers N`: this process is the primary (src/cluster/primary.ts) or one of its workers. */
async function cluster(config: RotorConfig, log: Logger): Promise<void> {
  const { default: nodeCluster } = await import('node:cluster');
  if (nodeCluster.isWorker) {
    const { runWorker } = await import('./cluster/worker.js');
    return runWorker(config, log);
  }
  const { startPrimary } = await import('./cluster/primary.js');
  const primary = await startPrimary(config, log);
  process.stdout.write(`rotor listening on ${primary.listen.host}:${primary.listen.port}, admin on ${primary.admin.host}:${primary.admin.port}, ${config.workers} workers\n`);
  await new Promise<void>((resolve) => {
    const onSignal = (sig: NodeJS.Signals): void => {
      process.stderr.write(`rotor: ${sig}, stopping ${config.workers} workers…\n`);
      primary.stop().then(resolve, resolve);
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
}

/** Runs the CLI; resolves when the command is done. Exits non-zero on any error. */
export async function main(argv: string[]): Promise<void> {
  const program = new Command('rotor')
    .description('Rotor: a read-acceleration proxy for MySQL and MariaDB')
    .version(version(), '-V, --version', 'print the version and exit')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .addCommand(startCommand());
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exit(err.exitCode);
    }
    const msg = err instanceof RotorError || err instanceof Error ? err.message : String(err);
    process.stderr.write(`rotor: ${msg}\n`);
    process.exit(1);
  }
}
