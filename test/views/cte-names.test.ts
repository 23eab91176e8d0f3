/**
 * [note: cte-names] A CTE name and a table name are compared as MariaDB compares them, or the
 * statement is not cached: MariaDB does not take `i̇` (i and a combining dot) for the CTE `İ`,
 * whose lower case it is in JavaScript, so a cache that took it for the CTE answered the CTE's
 * rows where MariaDB reads the table's.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { EngineFixture, canonical } from './support.js';

it('never answers a WITH whose names MariaDB may compare otherwise than Rotor', async () => {
  const f = await EngineFixture.create('cte_names', `
    CREATE TABLE \`i̇\` (id INT PRIMARY KEY, v VARCHAR(10));
    CREATE TABLE other (id INT PRIMARY KEY, v VARCHAR(10));
    CREATE TABLE base (id INT PRIMARY KEY);
    INSERT INTO base VALUES (1);
    INSERT INTO \`i̇\` VALUES (1, 'table');
    INSERT INTO other VALUES (1, 'cte');
  `);
  try {
    const sql = 'WITH `İ` AS (SELECT id, v FROM other) SELECT x.v FROM base b JOIN `i̇` x ON x.id = b.id WHERE b.id = ?';
    const registered = await f.engine.register({ sql }).then(() => true, () => false);
    const query = 'WITH `İ` AS (SELECT id, v FROM other) SELECT x.v FROM base b JOIN `i̇` x ON x.id = b.id WHERE b.id = 1';
    const truth = canonical((await f.upstream(query)).rows, false);
    assert.equal(truth, canonical([['table']], false), 'MariaDB reads the table');
    if (registered) {
      const a = await f.ask(query);
      if (a.source !== 'upstream') assert.equal(canonical(a.rows ?? [], false), truth, 'the cached answer is MariaDB\'s');
    }
    await assert.rejects(f.engine.register({ sql: 'WITH `é` AS (SELECT id, v FROM other) SELECT x.v FROM base b JOIN `é` x ON x.id = b.id WHERE b.id = ?' }), /WITH/, 'a name that is not ASCII');
  } finally {
    await f.close();
  }
});
