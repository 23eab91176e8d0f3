/**
 * `npm run bench:misses`: what a cache miss costs, against a direct read.
 *
 * 1. Point-read misses: `SELECT k, c FROM miss_rows WHERE id = ?` registered as a cache; each of
 *    `--keys` distinct ids is read once through Rotor (a miss: upquery, fill, answer) and once
 *    straight from MariaDB, alternating, on one connection each, so both see the same machine.
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
import { startRotor } from './lib/rotor.js';
import { benchServers, connect, scalar } from './lib/servers.js';
import { Histogram, roundSummary, type LatencySummary } from './lib/stats.js';
import { barChart, svgDocument } from './lib/svg.js';

function positive(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

const opts = new Command('bench:misses')
  .description('Cache-miss latency through Rotor vs the same query sent directly, and an aggregate miss over a big key')
  .option('--keys <n>', 'distinct point keys, each missed once', positive, 2000)
  .option('--fans <n>', 'rows under the one aggregate key', positive, 1_000_000)
  .option('--upstream <url>', 'MariaDB to use (default: the private MariaDB "bench")')
  .option('--json <path>', 'JSON result path (default bench/results/misses.json)')
  .parse()
  .opts<{ keys: number; fans: number; upstream?: string; json?: string }>();

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

const rotor = await startRotor(servers.upstreamUrl);
const result: Record<string, unknown> = { params: { ...opts, machine: machine() } };
try {
  const pointId = await rotor.registerCache('SELECT k, c FROM miss_rows WHERE id = ?');
  const countId = await rotor.registerCache('SELECT COUNT(*) FROM miss_fans WHERE item_id = ?');
  const viaRotor = await connect(rotor.url);
  const direct = await connect(servers.upstreamUrl);
  const sql = 'SELECT k, c FROM miss_rows WHERE id = ';

  // Warm both connections and MariaDB's buffer pool for the table, so neither side pays a cold start.
  for (let i = 0; i < 200; i++) await direct.query(`${sql}${1 + (i % opts.keys)}`);
  await viaRotor.query('SELECT 1');

  const missH = new Histogram();
  const directH = new Histogram();
  const hitH = new Histogram();
  const bar = new ProgressBar('point misses', opts.keys);
  const time = async (conn: typeof direct, q: string, h: Histogram): Promise<void> => {
    const t0 = process.hrtime.bigint();
    await conn.query(q);
    h.record(Number(process.hrtime.bigint() - t0) / 1e6);
  };
  for (let id = 1; id <= opts.keys; id++) {
    // Alternate which goes first, so neither side always follows the other's cache warming.
    if (id % 2) { await time(viaRotor, sql + id, missH); await time(direct, sql + id, directH); }
    else { await time(direct, sql + id, directH); await time(viaRotor, sql + id, missH); }
    await time(viaRotor, sql + id, hitH);
    bar.update(id);
  }
  bar.done(opts.keys);
  const pointStats = await rotor.cache(pointId);

  const countSql = 'SELECT COUNT(*) FROM miss_fans WHERE item_id = 7';
  const countDirect = new Histogram();
  for (let i = 0; i < 5; i++) await time(direct, countSql, countDirect);
  const countMiss = new Histogram();
  await time(viaRotor, countSql, countMiss);
  const countHit = new Histogram();
  for (let i = 0; i < 100; i++) await time(viaRotor, countSql, countHit);
  const counted = await scalar(viaRotor, countSql);
  const countStats = await rotor.cache(countId);

  const voteSql = 'SELECT a.id, a.title, vc.votes FROM miss_article a LEFT JOIN (SELECT article_id, COUNT(user_id) AS votes FROM miss_vote GROUP BY article_id) AS vc ON a.id = vc.article_id WHERE a.id = ';
  const voteId = await rotor.registerCache(voteSql + '?');
  const articleSql = 'SELECT id, title FROM miss_article WHERE id = ';
  const voteMiss = new Histogram();
  const articleDirect = new Histogram();
  const voteBar = new ProgressBar('vote misses', opts.keys);
  for (let id = 1; id <= opts.keys; id++) {
    if (id % 2) { await time(viaRotor, voteSql + id, voteMiss); await time(direct, articleSql + id, articleDirect); }
    else { await time(direct, articleSql + id, articleDirect); await time(viaRotor, voteSql + id, voteMiss); }
    voteBar.update(id);
  }
  voteBar.done(opts.keys);
  const voteNatural = new Histogram();
  for (let i = 0; i < 5; i++) await time(direct, voteSql + (1 + i), voteNatural);
  const voteStats = await rotor.cache(voteId);
  if (counted !== opts.fans) throw new Error(`COUNT(*) through Rotor was ${counted}, expected ${opts.fans}`);
  await viaRotor.end();
  await direct.end();

  const ms = (h: Histogram): LatencySummary => roundSummary(h.summary());
  const point = { miss: ms(missH), direct: ms(directH), hit: ms(hitH), stats: pointStats.stats ?? null };
  const aggregate = {
    rows: opts.fans, miss: ms(countMiss), direct: ms(countDirect), hit: ms(countHit),
    upqueries: countStats.stats?.upqueries ?? null, stats: countStats.stats ?? null,
  };
  const vote = { miss: ms(voteMiss), pointDirect: ms(articleDirect), naturalDirect: ms(voteNatural), stats: voteStats.stats ?? null };
  result.point = point;
  result.aggregate = aggregate;
  result.vote = vote;

  const ratio = (a: number, b: number) => `${fmt(a / b)}×`;
  const md = [
    `### Cache misses: ${opts.keys.toLocaleString('en-US')} point keys each missed once; COUNT(*) over ${opts.fans.toLocaleString('en-US')} rows`,
    '',
    table(['read', 'avg ms', 'p50 ms', 'p99 ms', 'miss / direct (avg)', 'miss / direct (p50)'], [
      ['point, direct MariaDB', fmt(point.direct.avg, 3), fmt(point.direct.p50, 3), fmt(point.direct.p99, 3), '', ''],
      ['point, Rotor miss', fmt(point.miss.avg, 3), fmt(point.miss.p50, 3), fmt(point.miss.p99, 3), ratio(point.miss.avg, point.direct.avg), ratio(point.miss.p50, point.direct.p50)],
      ['point, Rotor hit', fmt(point.hit.avg, 3), fmt(point.hit.p50, 3), fmt(point.hit.p99, 3), '', ''],
      ['COUNT(*), direct (avg of 5)', fmt(aggregate.direct.avg, 3), fmt(aggregate.direct.p50, 3), fmt(aggregate.direct.p99, 3), '', ''],
      ['COUNT(*), Rotor miss', fmt(aggregate.miss.avg, 3), '', '', ratio(aggregate.miss.avg, aggregate.direct.avg), ''],
      ['COUNT(*), Rotor hit', fmt(aggregate.hit.avg, 3), fmt(aggregate.hit.p50, 3), fmt(aggregate.hit.p99, 3), '', ''],
      ['article by id, direct MariaDB', fmt(vote.pointDirect.avg, 3), fmt(vote.pointDirect.p50, 3), fmt(vote.pointDirect.p99, 3), '', ''],
      ['vote query, Rotor miss', fmt(vote.miss.avg, 3), fmt(vote.miss.p50, 3), fmt(vote.miss.p99, 3), ratio(vote.miss.avg, vote.pointDirect.avg), ratio(vote.miss.p50, vote.pointDirect.p50)],
      ['vote query, direct (avg of 5)', fmt(vote.naturalDirect.avg, 3), fmt(vote.naturalDirect.p50, 3), fmt(vote.naturalDirect.p99, 3), '', ''],
    ]),
    '',
    `The COUNT(*) miss took ${aggregate.upqueries ?? '?'} upquery (one \`SELECT item_id, COUNT(*) … GROUP BY\` restricted to the key; no row is fetched to be counted). ` +
    'The vote miss is compared with a point read of the article by primary key (target: ≤ 2×); it takes two upqueries at once (the article by id, the vote count by one GROUP BY). ' +
    'A miss runs its upquery as a locking read (SERIALIZABLE) and reads `SHOW MASTER STATUS` under its locks, in one round trip with the query. One client, sequential; MariaDB and Rotor share 2 cores.',
    '',
  ].join('\n');
  const series = ['direct', 'Rotor miss', 'Rotor hit'];
  const svg = svgDocument([
    barChart('Point read latency, avg', 'ms', ['point read'], series, [[point.direct.avg], [point.miss.avg], [point.hit.avg]]),
    barChart('Vote query miss vs article by id, avg', 'ms', ['vote'], series, [[vote.pointDirect.avg], [vote.miss.avg], [0]]),
    barChart(`COUNT(*) over ${opts.fans.toLocaleString('en-US')} rows`, 'ms', ['COUNT(*)'], series, [[aggregate.direct.avg], [aggregate.miss.avg], [aggregate.hit.avg]]),
  ], `cache misses vs direct, ${new Date().toISOString()}`);
  process.stdout.write(md);
  for (const f of writeReport('misses', { json: result, markdown: md, svg }, opts.json)) note(`wrote ${f}`);
} finally {
  await rotor.stop();
  await admin.query('DROP TABLE IF EXISTS miss_rows, miss_fans, miss_article, miss_vote').catch(() => undefined);
  await admin.end();
}
