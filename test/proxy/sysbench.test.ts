import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { freshDatabase, type TestDatabase } from '../support/servers.js';
import { startProxy, type RunningProxy } from './support.js';

let db: TestDatabase;
let rotor: RunningProxy;

before(async () => {
  db = await freshDatabase('proxy_sysbench');
  rotor = await startProxy({ host: db.host, port: db.port });
});

after(async () => {
  await rotor?.close();
  await db?.drop();
});

/** sysbench without blocking the event loop (Rotor runs in this process). */
function sysbench(port: number, args: string[]): Promise<{ out: string; status: number | null }> {
  return new Promise((resolve) => {
    const child = spawn('sysbench', [
      'oltp_read_write', '--db-driver=mysql', '--mysql-host=127.0.0.1', `--mysql-port=${port}`, `--mysql-user=${db.user}`,
      `--mysql-password=${db.password}`, `--mysql-db=${db.name}`, '--tables=2', '--table-size=500', ...args,
    ]);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (status) => resolve({ out, status }));
  });
}

function counts(out: string): { transactions: number; errors: number; reconnects: number } {
  const num = (re: RegExp): number => Number(re.exec(out)?.[1] ?? NaN);
  return {
    transactions: num(/transactions:\s+(\d+)/),
    errors: num(/ignored errors:\s+(\d+)/),
    reconnects: num(/reconnects:\s+(\d+)/),
  };
}

test('sysbench oltp_read_write runs through Rotor with no errors, prepared statements on and off, as it does direct', async () => {
  const prepared = await sysbench(rotor.port, ['prepare']);
  assert.equal(prepared.status, 0, prepared.out);
  for (const mode of ['auto', 'disable']) {
    for (const port of [rotor.port, db.port]) {
      // One thread: no deadlocks, so any error at all would be Rotor's.
      const r = await sysbench(port, ['run', '--threads=1', '--events=200', '--time=0', `--db-ps-mode=${mode}`]);
      assert.equal(r.status, 0, r.out);
      const c = counts(r.out);
      assert.equal(c.transactions, 200, r.out);
      assert.equal(c.errors, 0, r.out);
      assert.equal(c.reconnects, 0, r.out);
      // Eight threads: sysbench retries the deadlocks InnoDB reports (as it does direct); nothing fails.
      const many = await sysbench(port, ['run', '--threads=8', '--events=400', '--time=0', `--db-ps-mode=${mode}`]);
      assert.equal(many.status, 0, many.out);
      assert.equal(counts(many.out).transactions, 400, many.out);
      assert.equal(counts(many.out).reconnects, 0, many.out);
    }
  }
  const [rows] = await db.admin.query('SELECT (SELECT COUNT(*) FROM sbtest1) + (SELECT COUNT(*) FROM sbtest2) AS n');
  assert.equal((rows as Array<{ n: number }>)[0].n, 1000, 'every delete was followed by its insert');
  const cleaned = await sysbench(rotor.port, ['cleanup']);
  assert.equal(cleaned.status, 0, cleaned.out);
});
