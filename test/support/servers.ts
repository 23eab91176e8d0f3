/**
 * Test access to the private servers. `npm test` starts them once and passes their URLs in the
 * environment; a test file run on its own starts them itself (idempotent).
 */
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { startMariaDb, startRedis } from '../../scripts/private-server.js';

export async function mariadbUrl(): Promise<string> {
  return process.env.ROTOR_TEST_MARIADB_URL ?? (await startMariaDb(process.env.ROTOR_TEST_SERVER ?? 'test')).url;
}

export async function redisUrl(): Promise<string> {
  return process.env.ROTOR_TEST_REDIS_URL ?? (await startRedis('test')).url;
}

export interface TestDatabase {
  readonly name: string;
  /** URL of the private server with this database selected. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** A connection for arranging test data (multipleStatements on). */
  readonly admin: mysql.Connection;
  drop(): Promise<void>;
}

/** A database of its own for one test file, so files can run concurrently on one server. */
export async function freshDatabase(prefix: string, serverUrl?: string): Promise<TestDatabase> {
  const base = new URL(serverUrl ?? (await mariadbUrl()));
  const name = `t_${prefix.replace(/\W/g, '_')}_${randomBytes(3).toString('hex')}`;
  const admin = await mysql.createConnection({
    host: base.hostname, port: Number(base.port), user: decodeURIComponent(base.username),
    password: decodeURIComponent(base.password), multipleStatements: true, timezone: 'Z',
  });
  await admin.query(`CREATE DATABASE \`${name}\``);
  await admin.query(`USE \`${name}\``);
  const url = new URL(base.href);
  url.pathname = `/${name}`;
  return {
    name, url: url.href, host: base.hostname, port: Number(base.port),
    user: decodeURIComponent(base.username), password: decodeURIComponent(base.password), admin,
    async drop() {
      await admin.query(`DROP DATABASE IF EXISTS \`${name}\``).catch(() => undefined);
      await admin.end().catch(() => undefined);
    },
  };
}
