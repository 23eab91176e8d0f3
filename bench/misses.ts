/**
 * `npm run bench:misses`: what a cache miss costs, against a direct read, under both miss policies
 * (each on a Rotor of its own, with the same caches).
 *
 * `--miss-policy relay` (the default; target: a first read's p50 ≤ 1.2× a direct read):
 * 1. Point reads: `SELECT k, c FROM miss_rows WHERE id = ?` registered as a cache; each of `--keys`
 *    distinct ids is read through Rotor (a first read: relayed to the session's upstream session)
 *    and straight from MariaDB, alternating, on one connection each, so both see the same machine;
 *    then read through Rotor a second time (relayed again, the key filled in the background) and,
 *    once the fills are in, a third (a hit).
 *    The same point read also goes through a bare Node TCP pipe (bench/lib/pipe-relay.ts), in turn
 *    with the others: what any relay's hop costs on this machine, the floor under a relayed read.
 * 2. The COUNT(*) and the vote query's first reads (below), relayed: they cost what the client's own
 *    statement costs MariaDB.
 *
 * `--miss-policy fill` (the client waits for the fill):
 * 1. Point-read misses: the same keys, read once through Rotor (a miss: upquery, fill, answer) and
 *    once straight from MariaDB, alternating.
 * 2. An aggregate miss over a big key: `SELECT COUNT(*) FROM miss_fans WHERE item_id = ?` for an
 *    item with `--fans` rows; reports the miss latency next to the direct query and how many
 *    upqueries the fill took (the cache's `upqueries` counter: one aggregate query, never the rows).
 * 3. The vote query's misses (target: a miss costs ≤ 2× a direct point query): each of
 *    `--keys` articles (10 votes each) is read once through the vote cache and, alternating, by
 *    primary key straight from MariaDB.
 *
 * Writes bench/results/misses.{json,md,svg}.
 *
 *   npm run bench:misses
 *   npm run bench:misses -- --keys 5000 --fans 1000000
 */
import { Command, InvalidArgumentError } from 'commander';
import { fmt, table } from './lib/markdown.js';
import { note, ProgressBar } from './lib/progress.js';
import { machine, writeReport } from './lib/report.js';
import { pipeInFrontOf } from './lib/pipe-relay.js';
import { KEY_BY_KEY, startRotor, type RotorProcess } from './lib/rotor.js';
import { benchServers, connect, scalar } from './lib/servers.js';
import { Histogram, roundSummary, type LatencySummary } from './lib/stats.js';
import { barChart, svgDocument } from './lib/svg.js';

function positive(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

const opts = new Command('bench:misses')
  .description('Cache-miss latency through Rotor (relayed, and filled) vs the same query sent directly, and an aggregate miss over a big key')
  .option('--keys <n>', 'distinct point keys, each missed once per policy', positive, 2000)
  .option('--fans <n>', 'rows under the one aggregate key', positive, 1_000_000)
  .option('--fill-read <list>', 'fill reads to measure the fill policy with, in one run (the first is reported as `fill`)', (v) => v.split(',').map((x) => {
    if (x !== 'snapshot' && x !== 'locking') throw new InvalidArgumentError('each must be snapshot or locking');
    return x;
  }), ['snapshot', 'locking'])
  .option('--upstream <url>', 'MariaDB to use (default: the private MariaDB "bench")')
  .option('--json <path>', 'JSON result path (default bench/results/misses.json)')
  .parse()
  .opts<{ keys: number; fans: number; fillRead: string[]; upstream?: string; json?: string }>();

const servers = await benchServers({ upstream: opts.upstream, needRedis: false });
const admin = await connect(servers.upstreamUrl);
note(`preparing ${opts.keys} point rows and ${opts.fans} rows under one aggregate key…`);
await admin.query(`
  DROP TABLE IF EXISTS miss_rows, miss_fans, miss_article, miss_vote;
  CREATE TABLE miss_article (id INT PRIMARY KEY, title VARCHAR(100) NOT NULL);
  CREATE TABLE miss_vote (article_id INT NOT NULL, user_id INT NOT NULL, PRIMARY KEY (article_id, user_id));
  CREATE TABLE miss_rows (id INT PRIMARY KEY, k INT NOT NULL, c CHAR(120) NOT NULL);
  CREATE TABLE miss_fans (user_id INT NOT NULL, item_id INT NOT NULL, PRIMARY KEY (user_id, item_id), KEY (item_id));
`);
await admin.query(`INSERT INTO miss_rows SELECT seq, seq % 1000, REPEAT(CHAR(97 + seq % 26), 120) FROM seq_1_to_${opts.keys}`);
await admin.query(`INSERT INTO miss_fans SELECT seq, 7 FROM seq_1_to_${opts.fans}`);
await admin.query('INSERT INTO miss_fans SELECT seq, 8 FROM seq_1_to_10');
await admin.query(`INSERT INTO miss_article SELECT seq, CONCAT('article ', seq) FROM seq_1_to_${opts.keys}`);
await admin.query(`INSERT INTO miss_vote SELECT a.seq, u.seq FROM seq_1_to_${opts.keys} a, seq_1_to_10 u`);

type Conn = Awaited<ReturnType<typeof connect>>;

const POINT_SQL = 'SELECT k, c FROM miss_rows WHERE id = ';
const COUNT_SQL = 'SELECT COUNT(*) FROM miss_fans WHERE item_id = 7';
const VOTE_SQL = 'SELECT a.id, a.title, vc.votes FROM miss_article a LEFT JOIN (SELECT article_id, COUNT(user_id) AS votes FROM miss_vote GROUP BY article_id) AS vc ON a.id = vc.article_id WHERE a.id = ';
const ARTICLE_SQL = 'SELECT id, title FROM miss_article WHERE id = ';
/** The point read spelled so that no cache matches it: what any statement relayed through Rotor costs. */
const UNCACHED_SQL = 'SELECT c, k FROM miss_rows WHERE id = ';

async function time(conn: Conn, q: string, h: Histogram): Promise<void> {
  const t0 = process.hrtime.bigint();
  await conn.query(q);
  h.record(Number(process.hrtime.bigint() - t0) / 1e6);
}

/** Reads each key once through Rotor and once directly, alternating which goes first. */
async function alternate(label: string, viaRotor: Conn, direct: Conn, rotorSql: (id: number) => string, directSql: (id: number) => string, after?: (id: number) => Promise<void>): Promise<{ rotor: Histogram; direct: Histogram }> {
  const rotorH = new Histogram();
  const directH = new Histogram();
  const bar = new ProgressBar(label, opts.keys);
  for (let id = 1; id <= opts.keys; id++) {
    // Alternate which goes first, so neither side always follows the other's cache warming.
    if (id % 2) { await time(viaRotor, rotorSql(id), rotorH); await time(direct, directSql(id), directH); }
    else { await time(direct, directSql(id), directH); await time(viaRotor, rotorSql(id), rotorH); }
    await after?.(id);
    bar.update(id);
  }
  bar.done(opts.keys);
  return { rotor: rotorH, direct: directH };
}

/** Waits until the cache holds `keys` keys (the background fills are in), at most 30 s. */
async function filled(rotor: RotorProcess, id: string, keys: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (((await rotor.cache(id)).stats?.keys ?? 0) < keys) {
    if (Date.now() > deadline) {
      throw new Error(`the background fills of ${keys} keys did not end within 30 s: ${JSON.stringify((await rotor.cache(id)).stats)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until the cache's whole fill has ended (at most 60 s); throws unless it is complete. */
async function filledWhole(rotor: RotorProcess, id: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const state = (await rotor.cache(id)).wholeFill;
    if (state === 'complete') return;
    if (state !== 'filling' || Date.now() > deadline) throw new Error(`cache ${id} was not filled whole: ${String(state)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const ms = (h: Histogram): LatencySummary => roundSummary(h.summary());
const result: Record<string, unknown> = { params: { ...opts, machine: machine() } };

interface Run {
  readonly rotor: RotorProcess;
  readonly viaRotor: Conn;
  readonly direct: Conn;
  /** The upstream through a bare pipe. */
  readonly viaPipe: Conn;
  readonly ids: { readonly point: string; readonly count: string; readonly vote: string };
}

/**
 * A Rotor with `--miss-policy policy` and the three caches, and a warm connection to it and to
 * MariaDB. Key by key unless `whole`: then with Rotor's default `--complete-rows`, which fills the
 * point cache, the COUNT(*)'s groups and the vote query's sides whole (the tables are that small,
 * the fans one group), waited for.
 */
async function withRotor(policy: 'relay' | 'fill', run: (r: Run) => Promise<Record<string, unknown>>, fillRead = opts.fillRead[0], whole = false): Promise<Record<string, unknown>> {
  const rotor = await startRotor(servers.upstreamUrl, { extraArgs: ['--miss-policy', policy, '--fill-read', fillRead, ...(whole ? [] : KEY_BY_KEY)] });
  try {
    const ids = {
      point: await rotor.registerCache(`${POINT_SQL}?`),
      count: await rotor.registerCache('SELECT COUNT(*) FROM miss_fans WHERE item_id = ?'),
      vote: await rotor.registerCache(`${VOTE_SQL}?`),
    };
    if (whole) for (const id of [ids.point, ids.count, ids.vote]) await filledWhole(rotor, id);
    const viaRotor = await connect(rotor.url);
    const direct = await connect(servers.upstreamUrl);
    const pipe = await pipeInFrontOf(servers.upstreamUrl);
    const viaPipe = await connect(pipe.url);
    try {
      // Warm both connections and MariaDB's buffer pool for the table, so neither side pays a cold start.
      for (let i = 0; i < 200; i++) await direct.query(`${POINT_SQL}${1 + (i % opts.keys)}`);
      await viaRotor.query('SELECT 1');
      await viaPipe.query('SELECT 1');
      return await run({ rotor, viaRotor, direct, viaPipe, ids });
    } finally {
      await viaRotor.end();
      await direct.end();
      await viaPipe.end();
      await pipe.relay.stop();
    }
  } finally {
    await rotor.stop();
  }
}

/** The COUNT(*) over the big key: 5 direct reads, then one read through Rotor (its first), checked. */
async function countFirst({ viaRotor, direct }: Run): Promise<{ direct: Histogram; first: Histogram }> {
  const h = { direct: new Histogram(), first: new Histogram() };
  for (let i = 0; i < 5; i++) await time(direct, COUNT_SQL, h.direct);
  await time(viaRotor, COUNT_SQL, h.first);
  const counted = await scalar(viaRotor, COUNT_SQL);
  if (counted !== opts.fans) throw new Error(`COUNT(*) through Rotor was ${counted}, expected ${opts.fans}`);
  return h;
}

/** `--miss-policy relay`: first reads relayed, second reads relayed and filled behind, third reads hits. */
const relayPolicy = (): Promise<Record<string, unknown>> => withRotor('relay', async (r) => {
  const { rotor, viaRotor, direct, viaPipe, ids } = r;
  const first = new Histogram();
  const pointDirect = new Histogram();
  const uncached = new Histogram();
  const piped = new Histogram();
  const second = new Histogram();
  const bar = new ProgressBar('relay: point reads', opts.keys);
  for (let id = 1; id <= opts.keys; id++) {
    // The four reads in turn, each first as often: none always follows another's cache warming.
    const reads = [
      () => time(viaRotor, POINT_SQL + id, first),
      () => time(direct, POINT_SQL + id, pointDirect),
      () => time(viaRotor, UNCACHED_SQL + id, uncached),
      () => time(viaPipe, POINT_SQL + id, piped),
    ];
    for (let i = 0; i < reads.length; i++) await reads[(id + i) % reads.length]();
    await time(viaRotor, POINT_SQL + id, second);
    bar.update(id);
  }
  bar.done(opts.keys);
  await filled(rotor, ids.point, opts.keys);
  const hit = new Histogram();
  for (let id = 1; id <= opts.keys; id++) await time(viaRotor, POINT_SQL + id, hit);
  const pointStats = (await rotor.cache(ids.point)).stats ?? null;
  const count = await countFirst(r);
  const countStats = (await rotor.cache(ids.count)).stats ?? null;
  const vote = await alternate('relay: vote first reads', viaRotor, direct, (id) => VOTE_SQL + id, (id) => ARTICLE_SQL + id);
  const voteStats = (await rotor.cache(ids.vote)).stats ?? null;
  return {
    point: { first: ms(first), direct: ms(pointDirect), uncached: ms(uncached), piped: ms(piped), second: ms(second), hit: ms(hit), stats: pointStats },
    aggregate: { rows: opts.fans, first: ms(count.first), direct: ms(count.direct), stats: countStats },
    vote: { first: ms(vote.rotor), pointDirect: ms(vote.direct), stats: voteStats },
  };
});

/**
 * Rotor's default for tables this small: the caches filled whole, so a first read is a hit, or
 * computed from the states filled whole (the vote query's from its sides, the COUNT(*) from its
 * groups: [note: memory-fill]).
 */
const wholeRun = (): Promise<Record<string, unknown>> => withRotor('relay', async (r) => {
  const { rotor, viaRotor, direct, ids } = r;
  // A fresh Rotor's read path is not compiled yet: warm it with keys the table does not hold (ids
  // past the last), answered empty from memory, before the first reads of the keys measured.
  for (let i = 1; i <= 1000; i++) await viaRotor.query(POINT_SQL + (opts.keys + i));
  const point = await alternate('whole: point first reads', viaRotor, direct, (id) => POINT_SQL + id, (id) => POINT_SQL + id);
  const vote = await alternate('whole: vote first reads', viaRotor, direct, (id) => VOTE_SQL + id, (id) => ARTICLE_SQL + id);
  const count = await countFirst(r);
  return {
    point: { first: ms(point.rotor), direct: ms(point.direct), stats: (await rotor.cache(ids.point)).stats ?? null },
    aggregate: { first: ms(count.first), direct: ms(count.direct), stats: (await rotor.cache(ids.count)).stats ?? null },
    vote: { first: ms(vote.rotor), pointDirect: ms(vote.direct), stats: (await rotor.cache(ids.vote)).stats ?? null },
  };
}, opts.fillRead[0], true);

/** `--miss-policy fill`: every first read waits for its fill. */
const fillPolicy = (fillRead: string): Promise<Record<string, unknown>> => withRotor('fill', async (r) => {
  const { rotor, viaRotor, direct, ids } = r;
  const hit = new Histogram();
  const miss = await alternate('fill: point misses', viaRotor, direct, (id) => POINT_SQL + id, (id) => POINT_SQL + id,
    (id) => time(viaRotor, POINT_SQL + id, hit));
  const pointStats = (await rotor.cache(ids.point)).stats ?? null;
  const count = await countFirst(r);
  const countHit = new Histogram();
  for (let i = 0; i < 100; i++) await time(viaRotor, COUNT_SQL, countHit);
  const countStats = (await rotor.cache(ids.count)).stats ?? null;
  const vote = await alternate('fill: vote misses', viaRotor, direct, (id) => VOTE_SQL + id, (id) => ARTICLE_SQL + id);
  const voteNatural = new Histogram();
  for (let i = 0; i < 5; i++) await time(direct, VOTE_SQL + (1 + i), voteNatural);
  const voteStats = (await rotor.cache(ids.vote)).stats ?? null;
  return {
    point: { miss: ms(miss.rotor), direct: ms(miss.direct), hit: ms(hit), stats: pointStats },
    aggregate: {
      rows: opts.fans, miss: ms(count.first), direct: ms(count.direct), hit: ms(countHit),
      upqueries: countStats?.upqueries ?? null, stats: countStats,
    },
    vote: { miss: ms(vote.rotor), pointDirect: ms(vote.direct), naturalDirect: ms(voteNatural), stats: voteStats },
  };
}, fillRead);

type S = LatencySummary;
try {
  const relay = await relayPolicy() as { point: { first: S; direct: S; uncached: S; piped: S; second: S; hit: S; stats: Record<string, number> | null }; aggregate: { first: S; direct: S }; vote: { first: S; pointDirect: S } };
  type Fill = { point: { miss: S; direct: S; hit: S }; aggregate: { miss: S; direct: S; hit: S; upqueries: number | null }; vote: { miss: S; pointDirect: S; naturalDirect: S } };
  const byRead: Record<string, Fill> = {};
  for (const fr of opts.fillRead) byRead[fr] = await fillPolicy(fr) as Fill;
  const fill = byRead[opts.fillRead[0]];
  const whole = await wholeRun() as { point: { first: S; direct: S; stats: Record<string, number> | null }; aggregate: { first: S; direct: S; stats: Record<string, number> | null }; vote: { first: S; pointDirect: S; stats: Record<string, number> | null } };
  result.whole = whole;
  result.relay = relay;
  result.fill = fill;
  result.fillReads = byRead;

  const ratio = (a: number, b: number) => `${fmt(a / b)}×`;
  const row = (name: string, x: S, base?: S): string[] => [name, fmt(x.avg, 3), fmt(x.p50, 3), fmt(x.p99, 3), base ? ratio(x.avg, base.avg) : '', base ? ratio(x.p50, base.p50) : ''];
  const header = ['read', 'avg ms', 'p50 ms', 'p99 ms', '/ direct (avg)', '/ direct (p50)'];
  const upq = relay.point.stats?.upqueries ?? '?';
  const md = [
    `### Cache misses: ${opts.keys.toLocaleString('en-US')} point keys; COUNT(*) over ${opts.fans.toLocaleString('en-US')} rows`,
    '',
    '`--miss-policy relay` (the default): a first read is relayed to the session\'s upstream session; a second read is relayed too and fills the key in the background; the third hits.',
    '',
    table(header, [
      row('point, direct MariaDB', relay.point.direct),
      row('point, through a bare Node pipe', relay.point.piped, relay.point.direct),
      row('point, relayed through Rotor (no cache matches)', relay.point.uncached, relay.point.direct),
      row('point, Rotor first read (relayed)', relay.point.first, relay.point.direct),
      row('point, Rotor second read (relayed, filled behind)', relay.point.second, relay.point.direct),
      row('point, Rotor hit', relay.point.hit, relay.point.direct),
      row('COUNT(*), direct (avg of 5)', relay.aggregate.direct),
      row('COUNT(*), Rotor first read (relayed)', relay.aggregate.first, relay.aggregate.direct),
      row('article by id, direct MariaDB', relay.vote.pointDirect),
      row('vote query, Rotor first read (relayed)', relay.vote.first, relay.vote.pointDirect),
    ]),
    '',
    `First reads ran no upquery; the ${opts.keys.toLocaleString('en-US')} second reads ran ${upq} (one each, off the client's path). Target: a first read's p50 ≤ 1.2× a direct read. ` +
    `A first read against any statement relayed through Rotor: ${ratio(relay.point.first.p50, relay.point.uncached.p50)} (p50), ${ratio(relay.point.first.avg, relay.point.uncached.avg)} (avg); ` +
    `against the same read through a bare Node pipe (the hop any relay adds here): ${ratio(relay.point.first.p50, relay.point.piped.p50)} (p50).`,
    '',
    'Rotor\'s default for tables of at most `--complete-rows` rows (100,000) or groups: the point cache, the COUNT(*)\'s groups and the vote query\'s two sides are filled whole when registered, so a first read is a hit or computed from them in memory (README "Complete caches").',
    '',
    table(header, [
      row('point, direct MariaDB', whole.point.direct),
      row('point, Rotor first read (cache filled whole)', whole.point.first, whole.point.direct),
      row('COUNT(*), direct (avg of 5)', whole.aggregate.direct),
      row('COUNT(*), Rotor first read (groups filled whole)', whole.aggregate.first, whole.aggregate.direct),
      row('article by id, direct MariaDB', whole.vote.pointDirect),
      row('vote query, Rotor first read (sides filled whole)', whole.vote.first, whole.vote.pointDirect),
    ]),
    '',
    `Upqueries during those first reads: point ${whole.point.stats?.upqueries ?? '?'}, COUNT(*) ${whole.aggregate.stats?.upqueries ?? '?'}, vote ${whole.vote.stats?.upqueries ?? '?'} (the whole fills themselves, before the reads, not counted); computed from memory: COUNT(*) ${whole.aggregate.stats?.memoryFills ?? '?'}, vote ${whole.vote.stats?.memoryFills ?? '?'}; relayed: vote ${whole.vote.stats?.relayedMisses ?? '?'}.`,
    '',
    '`--miss-policy fill`: a first read waits for its fill (an upquery) and is answered from it.',
    '',
    table(header, [
      row('point, direct MariaDB', fill.point.direct),
      row('point, Rotor miss (filled)', fill.point.miss, fill.point.direct),
      row('point, Rotor hit', fill.point.hit, fill.point.direct),
      row('COUNT(*), direct (avg of 5)', fill.aggregate.direct),
      [...row('COUNT(*), Rotor miss (filled)', fill.aggregate.miss, fill.aggregate.direct).slice(0, 2), '', '', ratio(fill.aggregate.miss.avg, fill.aggregate.direct.avg), ''],
      row('COUNT(*), Rotor hit', fill.aggregate.hit),
      row('article by id, direct MariaDB', fill.vote.pointDirect),
      row('vote query, Rotor miss (filled)', fill.vote.miss, fill.vote.pointDirect),
      row('vote query, direct (avg of 5)', fill.vote.naturalDirect),
    ]),
    '',
    `Fill reads in this run (\`--miss-policy fill\`, the first listed is the table above; ratios to the same run's direct reads):`,
    '',
    table(['fill read', 'point miss p50 ms', 'p99 ms', '/ direct (p50)', 'COUNT(*) miss ms', 'vote miss p50 ms', '/ article by id (p50)'], opts.fillRead.map((fr) => {
      const f = byRead[fr];
      return [fr, fmt(f.point.miss.p50, 3), fmt(f.point.miss.p99, 3), ratio(f.point.miss.p50, f.point.direct.p50), fmt(f.aggregate.miss.avg, 3), fmt(f.vote.miss.p50, 3), ratio(f.vote.miss.p50, f.vote.pointDirect.p50)];
    })),
    '',
    `The COUNT(*) miss took ${fill.aggregate.upqueries ?? '?'} upquery (one \`SELECT item_id, COUNT(*) … GROUP BY\` restricted to the key; no row is fetched to be counted). ` +
    'The vote miss is compared with a point read of the article by primary key (target: ≤ 2×); it takes two upqueries at once (the article by id, the vote count by one GROUP BY). ' +
    'A snapshot fill runs its upquery in a consistent snapshot (`START TRANSACTION WITH CONSISTENT SNAPSHOT`, the query, the snapshot\'s position read twice: three round trips, no lock taken); a locking fill reads SERIALIZABLE, then `SHOW MASTER STATUS` (two round trips, share locks until its COMMIT). ' +
    'A relayed first read costs what the client\'s statement costs MariaDB: the vote query\'s natural plan, not the fill\'s two point upqueries. One client, sequential; MariaDB and Rotor share 2 cores.',
    '',
  ].join('\n');
  const series = ['direct', 'Rotor first read (relay)', 'Rotor miss (fill)', 'Rotor hit'];
  const svg = svgDocument([
    barChart('Point read latency, p50', 'ms', ['point read'], series, [[relay.point.direct.p50], [relay.point.first.p50], [fill.point.miss.p50], [relay.point.hit.p50]]),
    barChart('Vote query first read vs article by id, p50', 'ms', ['vote'], series, [[relay.vote.pointDirect.p50], [relay.vote.first.p50], [fill.vote.miss.p50], [0]]),
    barChart(`COUNT(*) over ${opts.fans.toLocaleString('en-US')} rows`, 'ms', ['COUNT(*)'], series, [[fill.aggregate.direct.avg], [relay.aggregate.first.avg], [fill.aggregate.miss.avg], [fill.aggregate.hit.avg]]),
  ], `cache misses vs direct, ${new Date().toISOString()}`);
  process.stdout.write(md);
  for (const f of writeReport('misses', { json: result, markdown: md, svg }, opts.json)) note(`wrote ${f}`);
} finally {
  await admin.query('DROP TABLE IF EXISTS miss_rows, miss_fans, miss_article, miss_vote').catch(() => undefined);
  await admin.end();
}
