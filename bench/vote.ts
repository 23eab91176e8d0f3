/**
 * `npm run bench:vote`: the vote benchmark (the Noria paper's read-heavy workload), direct vs denormalized vs Redis
 * lookaside vs Rotor in one run. Prints a markdown table and writes bench/results/vote.{json,md,svg}.
 *
 *   npm run bench:vote                                             # 100,000 articles, 100,000 votes, Zipf 1.08, 95% reads
 *   npm run bench:vote -- --votes 1000000                          # a million votes preloaded
 *   npm run bench:vote -- --skew uniform --read-share 0.5
 *   npm run bench:vote -- --articles 10000 --votes 100000 --duration 10    # a quick run
 */
import { Command, InvalidArgumentError } from 'commander';
import { note } from './lib/progress.js';
import { machine, writeReport } from './lib/report.js';
import { benchServers } from './lib/servers.js';
import { parseSkew } from './lib/zipf.js';
import { VOTE_CONTENDERS, type VoteContender } from './vote-queries.js';
import { voteMarkdown, voteSvg } from './vote-report.js';
import { runVote } from './vote-run.js';

function count(v: string): number {
  const n = Number(v.replace(/[_,]/g, ''));
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a non-negative integer');
  return n;
}

function share(v: string): number {
  let n = Number(v.replace('%', ''));
  if (n > 1) n /= 100;
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError('must be a fraction (0.95) or a percentage (95)');
  return n;
}

function contenders(v: string): VoteContender[] {
  const list = v.split(',').map((s) => s.trim()).filter(Boolean);
  for (const c of list) if (!(VOTE_CONTENDERS as readonly string[]).includes(c)) throw new InvalidArgumentError(`unknown contender "${c}"`);
  return list as VoteContender[];
}

const opts = new Command('bench:vote')
  .description('The Noria vote benchmark: natural join vs denormalized vs Redis lookaside vs Rotor')
  .option('--articles <n>', 'articles', count, 100_000)
  .option('--votes <n>', 'votes preloaded before the run (e.g. 1000000: direct reads then scan a million rows each)', count, 100_000)
  .option('--skew <s>', 'Zipf skew of article choice: 1.08, 1.15, or "uniform"', parseSkew, 1.08)
  .option('--read-share <f>', 'share of reads: 0.95, 0.99, 0.5 (or 95, 99, 50)', share, 0.95)
  .option('--duration <s>', 'seconds per contender', count, 20)
  .option('--cold-seconds <s>', 'seconds of cold start to report', count, 10)
  .option('--clients <n>', 'closed-loop client connections', count, 32)
  .option('--workers <n>', 'load generator processes', count, 2)
  .option('--contenders <list>', VOTE_CONTENDERS.join(','), contenders, [...VOTE_CONTENDERS])
  .option('--seed <n>', 'random seed', count, 1)
  .option('--upstream <url>', 'MariaDB to use (default: the private MariaDB "bench")')
  .option('--redis <url>', 'Redis for lookaside (default: the private Redis "bench")')
  .option('--json <path>', 'JSON result path (default bench/results/vote.json)')
  .option('--name <base>', 'base name of the result files', 'vote')
  .parse()
  .opts<{
    articles: number; votes: number; skew: number; readShare: number; duration: number; coldSeconds: number; clients: number;
    workers: number; contenders: VoteContender[]; seed: number; upstream?: string; redis?: string; json?: string; name: string;
  }>();

if (opts.articles < 1 || opts.clients < 1 || opts.workers < 1 || opts.duration < 1) {
  note('--articles, --clients, --workers and --duration must be at least 1');
  process.exit(2);
}
const servers = await benchServers({ upstream: opts.upstream, redis: opts.redis, needRedis: opts.contenders.includes('lookaside') });
note(`upstream ${servers.upstreamUrl}${servers.redisUrl ? `, redis ${servers.redisUrl}` : ''}`);
const report = await runVote({
  articles: opts.articles, votes: opts.votes, skew: opts.skew, readShare: opts.readShare, durationSec: opts.duration,
  coldSeconds: opts.coldSeconds, clients: opts.clients, workers: opts.workers, contenders: opts.contenders, seed: opts.seed,
  upstreamUrl: servers.upstreamUrl, redisUrl: servers.redisUrl, mariadbPid: servers.mariadbPid,
});
const full = { ...report, params: { ...report.params, machine: machine() } };
const markdown = voteMarkdown(full);
process.stdout.write(`${markdown}\n`);
const files = writeReport(opts.name, { json: full, markdown, svg: voteSvg(full) }, opts.json);
note(`wrote ${files.join(', ')}`);
const failed = Object.entries(report.contenders).filter(([, r]) => r.status === 'failed');
if (failed.length) note(`FAILED: ${failed.map(([n, r]) => `${n} (${r.reason})`).join('; ')}`);
process.exit(failed.length ? 1 : 0);
