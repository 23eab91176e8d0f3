import { test } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { startCeilingServer } from '../../bench/lib/ceiling-server.js';

test('the ceiling responder answers text and prepared selects with its constant row', async () => {
  const { server, port } = await startCeilingServer(0);
  const conn = await mysql.createConnection({ host: '127.0.0.1', port, user: 'any', password: 'thing', database: 'sbtest' });
  try {
    const [text] = await conn.query<mysql.RowDataPacket[]>('SELECT c FROM sbtest1 WHERE id = 5');
    assert.equal(text.length, 1);
    assert.match(String(text[0].c), /^ceiling-x+$/);
    const [prepared] = await conn.execute<mysql.RowDataPacket[]>('SELECT c FROM sbtest1 WHERE id = ?', [7]);
    assert.deepEqual(prepared, text);
    const [ok] = await conn.query<mysql.ResultSetHeader>('BEGIN');
    assert.equal(ok.affectedRows, 0);
  } finally {
    await conn.end();
    server.close();
  }
});
