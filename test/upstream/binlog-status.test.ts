import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type mysql from 'mysql2/promise';
import { binlogEnd, type StatementRunner } from '../../src/upstream/binlog-status.js';

/** A server that knows only `statement`, answering it with one row (or none); records what it was asked. */
function server(statement: string, row: unknown[] | null): StatementRunner & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    query(options: mysql.QueryOptions) {
      asked.push(options.sql);
      if (options.sql !== statement) return Promise.reject(Object.assign(new Error('You have an error in your SQL syntax'), { errno: 1064 }));
      return Promise.resolve([row === null ? [] : [row], []]);
    },
  };
}

const mariadb = (row: unknown[] | null = ['mariadb-bin.000001', 328]) => server('SHOW MASTER STATUS', row);
const mysql84 = (row: unknown[] | null = ['binlog.000002', 1157]) => server('SHOW BINARY LOG STATUS', row);

describe('binlogEnd: where the binlog ends, whatever the flavor', () => {
  it('asks MariaDB SHOW MASTER STATUS once', async () => {
    const s = mariadb();
    assert.deepEqual(await binlogEnd(s), { file: 'mariadb-bin.000001', position: 328 });
    assert.deepEqual(s.asked, ['SHOW MASTER STATUS']);
  });

  it('asks MySQL 8.4 SHOW BINARY LOG STATUS once it refused SHOW MASTER STATUS, and first from then on', async () => {
    const first = mysql84();
    assert.deepEqual(await binlogEnd(first), { file: 'binlog.000002', position: 1157 });
    assert.deepEqual(first.asked, ['SHOW MASTER STATUS', 'SHOW BINARY LOG STATUS']);
    const next = mysql84();
    await binlogEnd(next);
    assert.deepEqual(next.asked, ['SHOW BINARY LOG STATUS']);
    // And back: a MariaDB refuses the 8.4 spelling.
    const back = mariadb();
    assert.deepEqual(await binlogEnd(back), { file: 'mariadb-bin.000001', position: 328 });
    assert.deepEqual(back.asked, ['SHOW BINARY LOG STATUS', 'SHOW MASTER STATUS']);
  });

  it('answers null without a binlog and passes other errors on', async () => {
    assert.equal(await binlogEnd(mariadb(null)), null);
    const denied: StatementRunner = { query: () => Promise.reject(Object.assign(new Error('Access denied'), { errno: 1227 })) };
    await assert.rejects(binlogEnd(denied), /Access denied/);
  });
});
