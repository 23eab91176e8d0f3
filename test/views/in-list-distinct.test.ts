/**
 * [note: in-list-union] `SELECT DISTINCT` over several keys of an IN list: the rows of different
 * keys are one row when MariaDB's collation says they are equal ('a1' and 'A1' under a _ci
 * collation, 'x' and 'x ' under PAD SPACE), as within one key; checked against MariaDB.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { EngineFixture } from './support.js';
import type { Row } from '../../src/dataflow/delta.js';

/** The rows as MariaDB's collation compares them: lower case, trailing spaces dropped, sorted. */
function folded(rows: ReadonlyArray<Row>): string[] {
  return rows.map((r) => r.map((v) => String(v).toLowerCase().replace(/ +$/, '')).join('|')).sort();
}

it('drops rows of different keys that the column\'s collation finds equal', async () => {
  const f = await EngineFixture.create('in_list_distinct', `
    CREATE TABLE article (id INT PRIMARY KEY, author INT, title VARCHAR(40) COLLATE utf8mb4_general_ci, INDEX (author));
    INSERT INTO article VALUES (1, 1, 'a1'), (2, 1, 'x'), (3, 2, 'A1'), (4, 2, 'x '), (5, 2, 'b'), (6, 3, 'B');
  `);
  try {
    await f.engine.register({ sql: 'SELECT DISTINCT title FROM article WHERE author = ?' });
    await f.engine.register({ sql: 'SELECT DISTINCT title FROM article WHERE author = ? ORDER BY title' });
    for (const sql of [
      'SELECT DISTINCT title FROM article WHERE author IN (1, 2)',
      'SELECT DISTINCT title FROM article WHERE author IN (1, 2, 3)',
      'SELECT DISTINCT title FROM article WHERE author IN (1, 2, 3) ORDER BY title',
    ]) {
      const truth = (await f.upstream(sql)).rows;
      for (let read = 0; read < 2; read++) {
        const a = await f.ask(sql);
        assert.notEqual(a.source, 'upstream', `${sql}: ${a.reason}`);
        assert.equal(a.rows?.length, truth.length, `${sql} (read ${read}): ${JSON.stringify(a.rows)} vs MariaDB's ${JSON.stringify(truth)}`);
        assert.deepEqual(folded(a.rows ?? []), folded(truth), sql);
      }
    }
  } finally {
    await f.close();
  }
});
