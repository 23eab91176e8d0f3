/**
 * Private servers for tests, the demo and benchmarks: a MariaDB (and a Redis) of Rotor's own, with
 * its own datadir, socket and free port, never the machine's shared servers on the standard ports.
 *
 * Idempotent: starting a server that is already running under the same name returns its URL.
 * State lives in `.rotor-servers/<name>/` at the repository root (or `$ROTOR_SERVERS_DIR`).
 *
 *   tsx scripts/private-server.ts start mariadb [--name NAME]   # prints mysql://rotor:rotor@127.0.0.1:PORT/rotor
 *   tsx scripts/private-server.ts start redis [--name NAME]     # prints redis://127.0.0.1:PORT
 *   tsx scripts/private-server.ts stop mariadb|redis [--name NAME]
 *   tsx scripts/private-server.ts stop-all
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const serversDir = process.env.ROTOR_SERVERS_DIR ?? join(repoRoot, '.rotor-servers');

/** The account every private MariaDB gets: all privileges plus replication, native password. */
export const MARIADB_USER = 'rotor';
export const MARIADB_PASSWORD = 'rotor';
export const MARIADB_DATABASE = 'rotor';

export interface PrivateServer {
  readonly kind: 'mariadb' | 'redis';
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly socket: string;
  readonly url: string;
  readonly pid: number;
  readonly dir: string;
}

function stateDir(kind: string, name: string): string {
  return join(serversDir, `${kind}-${name}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function readPid(file: string): number | null {
  if (!existsSync(file)) return null;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

/** A free TCP port on loopback, chosen by the kernel. */
export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

function which(cmd: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  for (const dir of ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin']) {
    if (existsSync(join(dir, cmd))) return join(dir, cmd);
  }
  return null;
}

function aptInstall(pkgs: string[]): void {
  if (process.getuid?.() !== 0) {
    throw new Error(`missing ${pkgs.join(', ')}: install them (apt-get install ${pkgs.join(' ')}) or run as root`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  process.stderr.write(`installing ${pkgs.join(' ')} from Debian's packages…\n`);
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env });
  const r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], { stdio: 'ignore', env });
  if (r.status !== 0) throw new Error(`apt-get install ${pkgs.join(' ')} failed`);
}

/** The path of `cmd`, installing Debian's `pkg` first when it is missing and we run as root. */
export function ensureTool(cmd: string, pkg: string): string {
  const found = which(cmd);
  if (found) return found;
  aptInstall([pkg]);
  const installed = which(cmd);
  if (!installed) throw new Error(`${pkg} was installed but ${cmd} is still missing`);
  return installed;
}

async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function mariadbUrl(port: number): string {
  return `mysql://${MARIADB_USER}:${MARIADB_PASSWORD}@127.0.0.1:${port}/${MARIADB_DATABASE}`;
}

function runSql(client: string, socket: string, sql: string): { ok: boolean; out: string } {
  const r = spawnSync(client, ['--no-defaults', '-uroot', `--socket=${socket}`, '-e', sql], { encoding: 'utf8' });
  return { ok: r.status === 0, out: (r.stdout ?? '') + (r.stderr ?? '') };
}

export interface MariaDbOptions {
  /** Extra `[mariadbd]` lines, e.g. `log_bin_compress=ON`. Only applied when the server is (re)initialized. */
  readonly extraConfig?: readonly string[];
  /** Server id written to the config; replication readers need a different one. */
  readonly serverId?: number;
  /** Listen on this port (e.g. to restart a stopped server where its clients expect it); default: a free one. */
  readonly port?: number;
}

/** Starts (or finds running) the private MariaDB called `name`. */
export async function startMariaDb(name = 'default', opts: MariaDbOptions = {}): Promise<PrivateServer> {
  const dir = stateDir('mariadb', name);
  const pidFile = join(dir, 'mariadbd.pid');
  const portFile = join(dir, 'port');
  const socket = join(dir, 'mariadbd.sock');
  const existing = readPid(pidFile);
  if (existing && isAlive(existing) && existsSync(portFile)) {
    const port = Number(readFileSync(portFile, 'utf8'));
    return { kind: 'mariadb', name, host: '127.0.0.1', port, socket, url: mariadbUrl(port), pid: existing, dir };
  }

  let mariadbd = which('mariadbd');
  if (!mariadbd) {
    aptInstall(['mariadb-server', 'mariadb-client']);
    mariadbd = which('mariadbd');
    if (!mariadbd) throw new Error('mariadbd not found after installing mariadb-server');
  }
  const client = which('mariadb') ?? which('mysql');
  if (!client) throw new Error('the mariadb client is missing (apt-get install mariadb-client)');

  mkdirSync(dir, { recursive: true });
  const datadir = join(dir, 'data');
  // Its own temporary files: internal temporary tables of servers sharing /tmp (the machine's own
  // among them) have been seen to collide (errno 2 on deleting one; a crash in Aria's drop_table).
  const tmp = join(dir, 'tmp');
  mkdirSync(tmp, { recursive: true });
  const port = opts.port ?? (await freePort());
  writeFileSync(portFile, String(port));
  const config = [
    '[mariadbd]',
    'user=root',
    `datadir=${datadir}`,
    `socket=${socket}`,
    `port=${port}`,
    'bind-address=127.0.0.1',
    `pid-file=${pidFile}`,
    `log-error=${join(dir, 'error.log')}`,
    `tmpdir=${tmp}`,
    `log-bin=${join(datadir, 'mariadb-bin')}`,
    'binlog_format=ROW',
    'binlog_row_image=FULL',
    'binlog_row_metadata=FULL',
    `server-id=${opts.serverId ?? 1}`,
    'max_connections=10000',
    'max_allowed_packet=1G',
    'skip-name-resolve',
    'innodb_buffer_pool_size=256M',
    // Durability is not what tests and benchmarks measure; every contender shares this server.
    'innodb_flush_log_at_trx_commit=2',
    'sync_binlog=0',
    'thread_cache_size=256',
    'table_open_cache=2000',
    'open_files_limit=20000',
    'character-set-server=utf8mb4',
    'collation-server=utf8mb4_general_ci',
    'default-time-zone=+00:00',
    ...(opts.extraConfig ?? []),
    '',
  ].join('\n');
  const cnf = join(dir, 'my.cnf');
  writeFileSync(cnf, config);

  // Written once the account exists: a bootstrap or setup that died halfway is redone, not reused.
  const ready = join(dir, 'ready');
  const fresh = !existsSync(ready);
  if (fresh) {
    const installDb = which('mariadb-install-db') ?? which('mysql_install_db');
    if (!installDb) throw new Error('mariadb-install-db not found');
    // Bootstraps running side by side under load have failed now and then: try again from an
    // empty datadir, and say what the last attempt printed.
    for (let attempt = 1; ; attempt++) {
      rmSync(datadir, { recursive: true, force: true });
      try {
        execFileSync(installDb, [`--defaults-file=${cnf}`, '--auth-root-authentication-method=socket', '--skip-test-db'], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        break;
      } catch (e) {
        const out = `${String((e as { stdout?: Buffer }).stdout ?? '')}${String((e as { stderr?: Buffer }).stderr ?? '')}`;
        if (attempt >= 3) throw new Error(`${installDb} failed for MariaDB "${name}" three times; last output:\n${out.split('\n').slice(-15).join('\n')}`);
        await new Promise((r) => setTimeout(r, 500 * attempt));
      }
    }
  }

  const child = spawn(mariadbd, [`--defaults-file=${cnf}`], { detached: true, stdio: 'ignore' });
  child.unref();
  await waitFor(() => existsSync(socket) && runSql(client, socket, 'SELECT 1').ok, `MariaDB "${name}" to accept connections`);
  const pid = readPid(pidFile) ?? child.pid ?? 0;

  if (fresh) {
    const setup = [
      `CREATE USER IF NOT EXISTS '${MARIADB_USER}'@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('${MARIADB_PASSWORD}')`,
      `GRANT ALL PRIVILEGES ON *.* TO '${MARIADB_USER}'@'%' WITH GRANT OPTION`,
      `CREATE DATABASE IF NOT EXISTS \`${MARIADB_DATABASE}\``,
      'FLUSH PRIVILEGES',
    ].join(';');
    const r = runSql(client, socket, setup);
    if (!r.ok) throw new Error(`setting up MariaDB "${name}" failed: ${r.out}`);
    writeFileSync(ready, new Date().toISOString());
  }
  return { kind: 'mariadb', name, host: '127.0.0.1', port, socket, url: mariadbUrl(port), pid, dir };
}

/**
 * Starts (or finds running) the private Redis called `name`; `port` restarts a stopped one where it
 * was (a test that stops Redis under running clients).
 */
export async function startRedis(name = 'default', opts: { port?: number } = {}): Promise<PrivateServer> {
  const dir = stateDir('redis', name);
  const pidFile = join(dir, 'redis.pid');
  const portFile = join(dir, 'port');
  const socket = join(dir, 'redis.sock');
  const existing = readPid(pidFile);
  if (existing && isAlive(existing) && existsSync(portFile)) {
    const port = Number(readFileSync(portFile, 'utf8'));
    return { kind: 'redis', name, host: '127.0.0.1', port, socket, url: `redis://127.0.0.1:${port}`, pid: existing, dir };
  }
  let redis = which('redis-server');
  if (!redis) {
    aptInstall(['redis-server']);
    redis = which('redis-server');
    if (!redis) throw new Error('redis-server not found after installing it');
  }
  mkdirSync(dir, { recursive: true });
  const port = opts.port ?? await freePort();
  writeFileSync(portFile, String(port));
  rmSync(pidFile, { force: true });
  const r = spawnSync(redis, [
    '--port', String(port), '--bind', '127.0.0.1', '--daemonize', 'yes', '--pidfile', pidFile,
    '--save', '', '--appendonly', 'no', '--dir', dir, '--logfile', join(dir, 'redis.log'), '--maxclients', '10000',
  ]);
  if (r.status !== 0) throw new Error(`redis-server failed to start: ${r.stderr}`);
  await waitFor(() => readPid(pidFile) !== null, `Redis "${name}" to start`);
  const pid = readPid(pidFile) ?? 0;
  return { kind: 'redis', name, host: '127.0.0.1', port, socket, url: `redis://127.0.0.1:${port}`, pid, dir };
}

/** Stops a private server by the PID it wrote, waiting until it has exited. */
export async function stopServer(kind: 'mariadb' | 'redis', name = 'default', opts: { wipe?: boolean } = {}): Promise<void> {
  const dir = stateDir(kind, name);
  const pid = readPid(join(dir, kind === 'mariadb' ? 'mariadbd.pid' : 'redis.pid'));
  if (pid && isAlive(pid)) {
    process.kill(pid, 'SIGTERM');
    await waitFor(() => !isAlive(pid), `${kind} "${name}" (pid ${pid}) to stop`, 60_000);
  }
  if (opts.wipe) rmSync(dir, { recursive: true, force: true });
}

/** Sends SIGKILL, as a crash would; the datadir stays, so the server can be started again. */
export async function killServer(kind: 'mariadb' | 'redis', name = 'default'): Promise<void> {
  const dir = stateDir(kind, name);
  const pid = readPid(join(dir, kind === 'mariadb' ? 'mariadbd.pid' : 'redis.pid'));
  if (pid && isAlive(pid)) {
    process.kill(pid, 'SIGKILL');
    await waitFor(() => !isAlive(pid), `${kind} "${name}" to die`);
  }
}

export async function stopAll(): Promise<void> {
  if (!existsSync(serversDir)) return;
  for (const entry of readdirSync(serversDir)) {
    const m = /^(mariadb|redis)-(.+)$/.exec(entry);
    if (m) await stopServer(m[1] as 'mariadb' | 'redis', m[2]);
  }
}

async function cli(argv: string[]): Promise<void> {
  const [verb, kind] = argv;
  const nameIdx = argv.indexOf('--name');
  const name = nameIdx >= 0 ? argv[nameIdx + 1] : 'default';
  if (verb === 'start' && kind === 'mariadb') console.log((await startMariaDb(name)).url);
  else if (verb === 'start' && kind === 'redis') console.log((await startRedis(name)).url);
  else if (verb === 'stop' && (kind === 'mariadb' || kind === 'redis')) await stopServer(kind, name, { wipe: argv.includes('--wipe') });
  else if (verb === 'stop-all') await stopAll();
  else {
    console.error('usage: private-server.ts start|stop mariadb|redis [--name NAME] [--wipe] | stop-all');
    process.exitCode = 2;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  cli(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}
