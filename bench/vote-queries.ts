/**
 * The vote benchmark's schema and queries (the Noria paper's read-heavy
 * workload), shared by bench/vote.ts and bench/vote-worker.ts.
 */

export const VOTE_CONTENDERS = ['direct', 'denormalized', 'lookaside', 'rotor'] as const;
export type VoteContender = (typeof VOTE_CONTENDERS)[number];

export const VOTE_SCHEMA = [
  'DROP TABLE IF EXISTS vote',
  'DROP TABLE IF EXISTS article',
  'DROP TABLE IF EXISTS article_denorm',
  'CREATE TABLE article (id BIGINT PRIMARY KEY, title VARCHAR(255)) ENGINE=InnoDB',
  'CREATE TABLE vote (article_id BIGINT, user_id BIGINT, PRIMARY KEY (article_id, user_id)) ENGINE=InnoDB',
] as const;

/** The denormalized baseline's table, built from article and vote before that contender runs. */
export const DENORM_SETUP = [
  'DROP TABLE IF EXISTS article_denorm',
  'CREATE TABLE article_denorm (id BIGINT PRIMARY KEY, title VARCHAR(255), votes BIGINT NOT NULL DEFAULT 0) ENGINE=InnoDB',
  'INSERT INTO article_denorm (id, title, votes) SELECT a.id, a.title, COALESCE(vc.votes, 0) FROM article a ' +
    'LEFT JOIN (SELECT article_id, COUNT(user_id) AS votes FROM vote GROUP BY article_id) vc ON a.id = vc.article_id',
] as const;

/** The natural read, with `?` (as registered with Rotor). */
export const READ_SQL =
  'SELECT a.id, a.title, vc.votes FROM article a ' +
  'LEFT JOIN (SELECT article_id, COUNT(user_id) AS votes FROM vote GROUP BY article_id) vc ' +
  'ON a.id = vc.article_id WHERE a.id = ?';

/** The read each contender sends for one article. */
export function readSql(c: VoteContender, id: number): string {
  return c === 'denormalized' ? `SELECT id, title, votes FROM article_denorm WHERE id = ${id}` : READ_SQL.replace('?', String(id));
}

/** The write: one vote (the denormalized writer also bumps the counter, in one transaction). */
export function writeSql(c: VoteContender, article: number, user: number): string[] {
  const insert = `INSERT INTO vote VALUES (${article}, ${user})`;
  return c === 'denormalized' ? ['BEGIN', insert, `UPDATE article_denorm SET votes = votes + 1 WHERE id = ${article}`, 'COMMIT'] : [insert];
}
