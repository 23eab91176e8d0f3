import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blockerOf, charsetBlocker, mayChangeRoles, maySetSerializable, needsChecks, parseUse, SessionState, writeOf } from '../../src/proxy/session-state.js';
import { Status } from '../../src/proxy/protocol/constants.js';

test('session settings that change results block the cache; writes to columns of the same names do not', () => {
  assert.equal(blockerOf("SET time_zone = '+02:00'"), 'time_zone changed');
  assert.equal(blockerOf("set session sql_mode = ''"), 'sql_mode changed');
  assert.equal(blockerOf('SET NAMES latin1'), 'names changed');
  assert.equal(blockerOf('SET @@session.character_set_results = NULL'), 'character_set_results changed');
  assert.equal(blockerOf("SELECT 1; SET time_zone = 'UTC'"), 'time_zone changed');
  assert.equal(blockerOf('/* app */ SET CHARACTER SET utf8'), 'character set changed');
  assert.equal(blockerOf('CREATE TEMPORARY TABLE IF NOT EXISTS `tmp` (id INT)'), 'a temporary table may shadow a cached table');
  assert.equal(blockerOf("UPDATE t SET names = 'x', time_zone = 'y' WHERE id = 1"), null);
  assert.equal(blockerOf('SET autocommit = 0'), null);
  assert.equal(blockerOf('SELECT * FROM settings'), null);
});

test('USE statements are recognised', () => {
  assert.equal(parseUse('USE `my``db`'), 'my`db');
  assert.equal(parseUse('use rotor;'), 'rotor');
  assert.equal(parseUse('USER()'), null);
});

test('a session is in a transaction inside BEGIN or with autocommit off', () => {
  const s = new SessionState(1, 'u', 'db', 224);
  assert.equal(s.inTransaction, false);
  s.status = Status.AUTOCOMMIT | Status.IN_TRANS;
  assert.equal(s.inTransaction, true);
  s.status = 0;
  assert.equal(s.inTransaction, true);
  s.status = Status.AUTOCOMMIT | Status.MORE_RESULTS_EXISTS;
  assert.equal(s.answerStatus, Status.AUTOCOMMIT);
  s.noteStatement("SET time_zone = '+01:00'");
  assert.equal(s.cacheBlocker, 'time_zone changed');
  s.reset();
  assert.equal(s.cacheBlocker, null);
});

test('[note: cached-grants] a statement naming a role, a reset and a new login move the privilege generation', () => {
  const s = new SessionState(1, 'u', 'db', 224);
  const g0 = s.privilegeGeneration;
  s.noteStatement('SELECT 1');
  assert.equal(s.privilegeGeneration, g0);
  s.noteStatement('/* x */ SET ROLE admin');
  assert.equal(s.privilegeGeneration, g0 + 1);
  assert.equal(s.cacheBlocker, null);
  s.reset();
  s.relogin('v', null, 224);
  assert.equal(s.privilegeGeneration, g0 + 3);
  s.noteStatement('SET ROLE r', true);
  assert.match(s.cacheBlocker ?? '', /prepared statement that names a role/);
});

test('[note: sql-mode-quoting] connections in a character set other than utf8mb4, utf8mb3 or ascii are not served from caches', () => {
  for (const utf8 of [33, 45, 46, 224, 255, 11]) assert.equal(charsetBlocker(utf8), null, String(utf8));
  for (const other of [8, 28, 13, 1, 63]) assert.match(charsetBlocker(other) ?? '', /not utf8mb4/, String(other));
  const gbk = new SessionState(1, 'u', 'db', 28);
  assert.match(gbk.cacheBlocker ?? '', /collation 28/);
  gbk.reset();
  assert.match(gbk.cacheBlocker ?? '', /collation 28/, 'COM_RESET_CONNECTION keeps the handshake character set');
  gbk.relogin('u', 'db', 45);
  assert.equal(gbk.cacheBlocker, null);
});

test('[note: statement-starts] what a session could hide from Rotor keeps its cached reads upstream', () => {
  assert.equal(blockerOf('USE other'), null, 'followed by parseUse');
  for (const sql of ['SELECT 1; USE other', '/* c */ USE other', '# c\nUSE `other`', 'USE/**/other', "SELECT ';'; USE other"]) {
    assert.equal(blockerOf(sql), 'a USE Rotor could not follow', sql);
  }
  assert.equal(blockerOf("SELECT used, `use` FROM t WHERE x = 'no'"), null);
  for (const sql of ['CREATE/**/TEMPORARY TABLE secret (id INT)', 'create temporary table t (id int)', "EXECUTE IMMEDIATE CONCAT('CREATE TEMPORARY',' TABLE t (i INT)')"]) {
    assert.match(blockerOf(sql) ?? '', /temporary table/, sql);
  }
  assert.match(blockerOf("EXECUTE IMMEDIATE 'SET NAMES gbk'") ?? '', /EXECUTE/);
  assert.match(blockerOf("PREPARE s FROM 'SET NAMES gbk'") ?? '', /PREPARE/);
  assert.match(blockerOf('CALL p()') ?? '', /CALL/);
  assert.equal(blockerOf('SET/**/NAMES latin1'), 'names changed');
  assert.equal(blockerOf("SELECT '--'; SET NAMES gbk"), 'names changed', 'a quote cannot hide a statement');
  assert.equal(blockerOf("SELECT '/*'; SET NAMES gbk; SELECT '*/'"), 'names changed');
  assert.equal(blockerOf("SET @a = ';', sql_mode = 'ANSI_QUOTES'"), 'sql_mode changed');
  assert.equal(blockerOf('-- note\nSET sql_mode = DEFAULT'), 'sql_mode changed');
});

test('finding a blocking SET takes one pass, whatever comments and separators a statement holds', () => {
  // Each of these froze the process in the regular expression blockerOf used before.
  const n = 50_000;
  assert.equal(blockerOf(`;${' /**/'.repeat(n)}x set`), null);
  assert.equal(blockerOf(`;${'/**/'.repeat(n)}SET time_zone = 'UTC'`), 'time_zone changed');
  assert.equal(blockerOf(`${';/*;/*'.repeat(n)} set`), null);
  assert.equal(blockerOf(`${'; '.repeat(n)}SET ${'a '.repeat(n)}`), null);
});

test('an executable comment\'s SET counts; a SET inside an ordinary comment does not', () => {
  assert.equal(blockerOf('/*!40101 SET NAMES utf8mb4 */'), 'names changed');
  assert.equal(blockerOf("/*M!100500 SET time_zone = '+01:00' */"), 'time_zone changed');
  assert.equal(blockerOf("/* SET time_zone = '+01:00' */ SELECT 1"), null);
  assert.equal(blockerOf("SELECT 1; /* note */ SET sql_mode = ''"), 'sql_mode changed');
});

test('[note: statement-starts] compound statements, dynamic SQL and procedures keep a session upstream, wherever they are', () => {
  for (const sql of [
    "BEGIN NOT ATOMIC EXECUTE IMMEDIATE CONCAT('SET R','OLE NONE'); END",
    "IF 1 THEN SET time_zone = '+05:00'; END IF",
    'lbl: LOOP LEAVE lbl; END LOOP',
    'WHILE 0 DO SELECT 1; END WHILE',
    "SELECT 1; EXECUTE IMMEDIATE 'SELECT 2'",
    'SELECT x FROM t WHERE y IN (SELECT 1) /* */; CALL p()',
  ]) assert.match(blockerOf(sql) ?? '', /Rotor does not see/, sql);
  for (const sql of ['BEGIN', 'SELECT IF(a, 1, 2) FROM t', 'SELECT @a := 1', 'SELECT * FROM t FOR UPDATE', "SELECT 'a:b' FROM t"]) {
    assert.equal(blockerOf(sql), null, sql);
  }
});

test('[note: unlogged-writes] reads and transaction boundaries write nothing; anything else may', () => {
  for (const sql of ['SELECT * FROM t', ' show tables', 'BEGIN', 'COMMIT', 'SET autocommit = 0', 'SET sql_log_bin = 0', 'USE db']) assert.equal(writeOf(sql), undefined, sql);
  for (const sql of ['UPDATE t SET a = 1', 'CALL p()', 'SET @a = (SELECT f())', 'SET STATEMENT sql_log_bin=0 FOR DELETE FROM t', 'DO f()']) assert.equal(writeOf(sql), sql, sql);
  assert.equal(writeOf('SELECT 1; DELETE FROM t'), null, 'several statements cannot be attributed');
});

test('[note: unlogged-writes] sql_log_bin=0 keeps the session\'s reads upstream and its writes are handed over once done', () => {
  const s = new SessionState(1, 'u', 'db', 224);
  s.status = Status.AUTOCOMMIT;
  s.noteStatement('UPDATE t SET a = 1');
  assert.equal(s.statementDone(true), null, 'a logged write is the binlog\'s business');
  s.noteStatement('SET SESSION sql_log_bin = 0');
  assert.equal(s.statementDone(true), null);
  assert.match(s.cacheBlocker ?? '', /sql_log_bin=0/);
  s.noteStatement('SELECT * FROM t');
  assert.equal(s.statementDone(true), null);
  s.noteStatement('UPDATE t SET a = 2');
  assert.deepEqual(s.statementDone(true), ['UPDATE t SET a = 2']);
  s.noteExecute(false, null);
  assert.deepEqual(s.statementDone(true), [null], 'a prepared execution cannot be read');
  s.noteExecute(true, 'SELECT a FROM t WHERE id = ?');
  assert.equal(s.statementDone(true), null, 'an execution matched to a cache is a SELECT');
  // A SET back to 1 that failed leaves it off.
  s.noteStatement('SET sql_log_bin = 1');
  s.statementDone(false);
  assert.equal(s.unlogged, true);
  s.noteStatement("SET @@session.sql_log_bin = 'ON'");
  s.statementDone(true);
  assert.equal(s.unlogged, false);
  assert.equal(s.cacheBlocker, null);
});

test('[note: unlogged-writes] SET STATEMENT scopes sql_log_bin to its statement; forms Rotor cannot follow leave it off', () => {
  const s = new SessionState(1, 'u', 'db', 224);
  s.status = Status.AUTOCOMMIT;
  s.noteStatement('SET STATEMENT sql_log_bin=0 FOR INSERT INTO t VALUES (1)');
  assert.deepEqual(s.statementDone(true), ['SET STATEMENT sql_log_bin=0 FOR INSERT INTO t VALUES (1)']);
  assert.equal(s.unlogged, false);
  for (const sql of ['SET sql_log_bin = @off', 'SET sql_log_bin = 1, time_zone = @@time_zone', 'SET sql_log_bin = 1; DELETE FROM t', 'SET `sql_log_bin`=0']) {
    const t = new SessionState(1, 'u', 'db', 224);
    t.noteStatement(sql);
    t.statementDone(true);
    assert.equal(t.unlogged, true, `${sql}: not a lone literal assignment`);
  }
  const p = new SessionState(1, 'u', 'db', 224);
  p.noteStatement('SET sql_log_bin = 0', true);
  p.noteStatement('SET sql_log_bin = 1');
  p.statementDone(true);
  assert.equal(p.unlogged, true, 'a prepared SET may run again at any time');
  p.reset();
  assert.equal(p.unlogged, false, 'a reset session logs again');
});

test('[note: unlogged-writes] a transaction\'s unlogged writes are handed over again when it ends', () => {
  const s = new SessionState(1, 'u', 'db', 224);
  s.noteStatement('SET sql_log_bin = 0');
  s.status = Status.AUTOCOMMIT | Status.IN_TRANS;
  s.noteStatement('UPDATE t SET a = 1');
  assert.deepEqual(s.statementDone(true), ['UPDATE t SET a = 1']);
  s.noteStatement('COMMIT');
  s.status = Status.AUTOCOMMIT;
  assert.deepEqual(s.statementDone(true), ['UPDATE t SET a = 1']);
  assert.equal(s.statementDone(true), null);
});

/** A seeded xorshift (ROTOR_SEED, else the clock): `rand(n)` in [0, n), and the seed to report. */
function seeded(): { seed: number; rand: (n: number) => number } {
  const seed = Number(process.env.ROTOR_SEED ?? Date.now()) >>> 0;
  let x = seed || 1;
  return {
    seed,
    rand: (n) => {
      x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
      return x % n;
    },
  };
}

test('the cheap screen before the blocker checks never changes their answer (seeded random statements)', () => {
  const { seed, rand } = seeded();
  const parts = [
    'SET', 'set', 'SETX', 'set1', 'USE', 'use', 'user_id', 'IF', 'ifnull(', 'WHILE', 'LOOP', 'REPEAT', 'CASE', 'FOR', 'DECLARE',
    'TEMPORARY', 'temporary_x', 'EXECUTE', 'PREPARE', 'CALL', 'ATOMIC', 'offset', 'reset', '_set', 'lbl:', ':', ':=',
    'time_zone', '=', "'UTC'", 'sql_mode', 'NAMES', 'utf8', 'db', 'SELECT', 'INSERT', 'fan_of', '1', '50000',
    ';', ' ', '  ', '\n', '/*!', '/*M!', '/*!50000', '*/', '/* c */', '-- c\n', '# c\n', '(', ')', '`', '$', 'é',
  ];
  for (let i = 0; i < 20_000; i++) {
    let sql = '';
    const n = 1 + rand(8);
    for (let j = 0; j < n; j++) sql += parts[rand(parts.length)] + (rand(3) === 0 ? '' : ' ');
    assert.equal(blockerOf(sql), blockerOf(sql, false), `seed ${seed}: ${JSON.stringify(sql)}`);
  }
  assert.equal(blockerOf('/*!50000SET time_zone = 0*/'), 'time_zone changed');
  assert.equal(blockerOf('SELECT user_id FROM fan_of WHERE user_id = 1 AND item_id = 2'), null);
});

/** Statements of the tests above, and more that sit at the edges of the checks' regular expressions. */
const TRICKY = [
  "SET time_zone = '+02:00'", "set session sql_mode = ''", 'SET NAMES latin1', 'SET @@session.character_set_results = NULL',
  "SELECT 1; SET time_zone = 'UTC'", '/* app */ SET CHARACTER SET utf8', 'CREATE TEMPORARY TABLE IF NOT EXISTS `tmp` (id INT)',
  "UPDATE t SET names = 'x', time_zone = 'y' WHERE id = 1", 'SET autocommit = 0', 'SELECT * FROM settings', 'USE `my``db`', 'use rotor;',
  'USER()', 'SELECT 1', '/* x */ SET ROLE admin', 'SET ROLE r', 'USE other', 'SELECT 1; USE other', '/* c */ USE other', '# c\nUSE `other`',
  'USE/**/other', "SELECT ';'; USE other", "SELECT used, `use` FROM t WHERE x = 'no'", 'CREATE/**/TEMPORARY TABLE secret (id INT)',
  'create temporary table t (id int)', "EXECUTE IMMEDIATE CONCAT('CREATE TEMPORARY',' TABLE t (i INT)')", "EXECUTE IMMEDIATE 'SET NAMES gbk'",
  "PREPARE s FROM 'SET NAMES gbk'", 'CALL p()', 'SET/**/NAMES latin1', "SELECT '--'; SET NAMES gbk", "SELECT '/*'; SET NAMES gbk; SELECT '*/'",
  "SET @a = ';', sql_mode = 'ANSI_QUOTES'", '-- note\nSET sql_mode = DEFAULT', '/*!40101 SET NAMES utf8mb4 */', "/*M!100500 SET time_zone = '+01:00' */",
  "/* SET time_zone = '+01:00' */ SELECT 1", "SELECT 1; /* note */ SET sql_mode = ''", "BEGIN NOT ATOMIC EXECUTE IMMEDIATE CONCAT('SET R','OLE NONE'); END",
  "IF 1 THEN SET time_zone = '+05:00'; END IF", 'lbl: LOOP LEAVE lbl; END LOOP', 'WHILE 0 DO SELECT 1; END WHILE', "SELECT 1; EXECUTE IMMEDIATE 'SELECT 2'",
  'SELECT x FROM t WHERE y IN (SELECT 1) /* */; CALL p()', 'BEGIN', 'SELECT IF(a, 1, 2) FROM t', 'SELECT @a := 1', 'SELECT * FROM t FOR UPDATE',
  "SELECT 'a:b' FROM t", ' show tables', 'COMMIT', 'SET sql_log_bin = 0', 'USE db', 'UPDATE t SET a = 1', 'SET @a = (SELECT f())',
  'SET STATEMENT sql_log_bin=0 FOR DELETE FROM t', 'DO f()', 'SELECT 1; DELETE FROM t', 'SET SESSION sql_log_bin = 0', 'UPDATE t SET a = 2',
  'SET sql_log_bin = 1', "SET @@session.sql_log_bin = 'ON'", 'SET STATEMENT sql_log_bin=0 FOR INSERT INTO t VALUES (1)', 'SET sql_log_bin = @off',
  'SET sql_log_bin = 1, time_zone = @@time_zone', 'SET sql_log_bin = 1; DELETE FROM t', 'SET `sql_log_bin`=0', '/*!50000SET time_zone = 0*/',
  'SELECT user_id FROM fan_of WHERE user_id = 1 AND item_id = 2', 'SELECT v FROM t WHERE k = 1 FOR UPDATE', 'UPDATE t SET v = 2 WHERE k = 1',
  'SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE', 'SELECT 1; BEGIN; DELETE FROM t WHERE k = 1 RETURNING k', 'DELETE FROM t WHERE k = 1 RETURNING k; COMMIT',
  'SET tx_isolation = 3', 'SET @@session.tx_isolation = 3', "SET SESSION tx_isolation = 'SERIAL' 'IZABLE'", 'SET SESSION tx_isolation = 0x53455249414c495a41424c45',
  'SET SESSION tx_isolation = @lvl', "SET tx_isolation = CONCAT('SERIAL', 'IZABLE')", 'SET transaction_isolation = ?', "SET tx_isolation = 'READ-COMMITTED'; SET tx_isolation = 3",
  'SET /**/ tx_isolation = 1', "SET @x = 1, tx_isolation = 'READ-COMMITTED'", 'SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED',
  'SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY', 'SET @@tx_isolation = 2', 'SET GLOBAL transaction_isolation = DEFAULT', 'SELECT @@tx_isolation',
  "SHOW VARIABLES LIKE '%isolation%'", 'DELETE FROM kv WHERE k = 1 RETURNING k', "SELECT 'RETURNING' FROM kv", 'UPDATE kv SET v = 2',
  'SELECT c FROM sbtest1 WHERE id=5012', 'SELECT c FROM sbtest1 WHERE id BETWEEN 1 AND 100 ORDER BY c', 'INSERT INTO t VALUES (1) RETURNING id',
  'DELETE FROM t RETURNING*', 'SELECT 1 FROM t WHERE x=1 returning', 'insert into t values(1)returning`id`', 'SELECT xreturning, returningx, returning1, _returning FROM t',
  'SET SESSION TRANSACTION ISOLATION LEVEL serializable', 'SELECT serializable1, serializable_ FROM t', 'SELECT xisolationx FROM t', 'SELECT SQL_LOG_BIN FROM t',
  'SET SQL_LOG_BIN=0', 'SET sql_log_bin := 0', 'SELECT @@sql_log_bin', 'SELECT @@sql_log_bin = 1', 'SET @@sql_log_bin`=0', 'SELECT roles, role_id, xrole, Role FROM t',
  'SET DEFAULT ROLE admin FOR u', 'SET ROLE NONE', 'GRANT role1 TO u', "SELECT 'role' FROM t", 'SELECT 1role, role1 FROM t', 'ſet time_zone = 0', 'SET ſql_log_bin = 0',
  'SELECT \u212Aeys FROM t', 'SELECT ıf(1, 2, 3)', 'SELECT é FROM t WHERE éset = 1', 'SELECT a FROM t WHERE b = :x', 'SELECT a::int', 'UPDATE t SET x = 1 WHERE y = 2',
  'CALL set_it()', 'SELECT `set` FROM `use`', 'SELECT case_id, for_x, if_ FROM t', '/*!SET*/', '/*M!SET NAMES gbk*/', 'SELECT 1 /*! ; SET NAMES gbk */',
];

test('the screen before noteStatement\'s checks never changes what a session learns', () => {
  const { seed, rand } = seeded();
  const parts = [
    'SET', 'set', 'SeT', 'USE', 'TEMPORARY', 'EXECUTE', 'PREPARE', 'CALL', 'ATOMIC', 'IF', 'WHILE', 'LOOP', 'REPEAT', 'CASE', 'FOR', 'DECLARE',
    'RETURNING', 'returning', 'SERIALIZABLE', 'Serializable', 'ISOLATION', 'tx_isolation', 'transaction_isolation', 'sql_log_bin', 'SQL_LOG_BIN', '`sql_log_bin`',
    '@@sql_log_bin', 'ROLE', 'role', 'roles', 'xrole', 'role_', '_role', 'ſet', 'ſql', 'ı', 'é', 'K', 'SELECT', 'UPDATE', 'DELETE', 'INSERT', 'INTO', 'FROM', 'WHERE',
    't', 'id', 'user_id', 'offset', 'ifnull(', 'reset', 'time_zone', 'NAMES', 'sql_mode', 'LEVEL', 'READ', 'COMMITTED', 'REPEATABLE', 'TRANSACTION', 'SESSION',
    'STATEMENT', 'BEGIN', 'COMMIT', 'lbl:', ':', ':=', '=', '0', '1', '3', "'ON'", "'x'", '(', ')', ';', ',', '`', '/*!', '/*M!', '/*!50000', '*/', '/* c */', '-- c\n',
    '# c\n', '\n', ' ',
  ];
  const corpus = [...TRICKY];
  for (let i = 0; i < 5000; i++) {
    let sql = '';
    const n = 1 + rand(8);
    for (let j = 0; j < n; j++) sql += parts[rand(parts.length)] + (rand(3) === 0 ? '' : ' ');
    corpus.push(sql);
  }
  // What a session shows of a statement: its blockers, counts, sql_log_bin and isolation.
  const learned = (s: SessionState): unknown[] => {
    const done = s.statementDone(true);
    const seen: unknown[] = [s.cacheBlocker, s.writes, s.privilegeGeneration, s.unlogged, done];
    s.noteStatus(Status.AUTOCOMMIT);
    s.noteStatus(Status.AUTOCOMMIT | Status.IN_TRANS);
    seen.push(s.transactionBlocker);
    return seen;
  };
  for (const sql of corpus) {
    if (!needsChecks(sql)) {
      assert.equal(blockerOf(sql, false), null, `seed ${seed}: ${JSON.stringify(sql)}`);
      assert.equal(maySetSerializable(sql) || mayChangeRoles(sql), false, `seed ${seed}: ${JSON.stringify(sql)}`);
    }
    for (const prepared of [false, true]) {
      for (const before of [null, 'SET sql_log_bin = 0', "SET time_zone = 'UTC'"]) {
        const [a, b] = [new SessionState(1, 'u', 'db', 224), new SessionState(1, 'u', 'db', 224)];
        for (const s of [a, b]) {
          s.status = Status.AUTOCOMMIT;
          if (before !== null) s.noteStatement(before);
          s.statementDone(true);
        }
        a.noteStatement(sql, prepared);
        b.noteStatement(sql, prepared, false);
        assert.deepEqual(learned(a), learned(b), `seed ${seed}: ${JSON.stringify(sql)}, prepared: ${prepared}, after ${before}`);
      }
    }
  }
  assert.equal(needsChecks('SELECT c FROM sbtest1 WHERE id=5012'), false, 'a point select skips the checks');
  assert.equal(needsChecks('SELECT roles, xset, offset, user_id FROM t WHERE id = 1'), false, 'words that only hold a checked word');
  for (const sql of ['SET x = 1', 'a:b', 'DELETE FROM t RETURNING k', 'SELECT @@tx_isolation', 'SET sql_log_bin=0', 'SET ROLE r', '/*!50000SET*/']) {
    assert.equal(needsChecks(sql), true, sql);
  }
});

test('[note: transaction-reads] a transaction blocks even ALWAYS caches once it may have changed rows, or under SERIALIZABLE', () => {
  const s = new SessionState(1, 'u', 'db', 224);
  assert.equal(s.transactionBlocker, null, 'outside a transaction');
  s.noteStatement('BEGIN');
  s.status = Status.AUTOCOMMIT | Status.IN_TRANS;
  assert.equal(s.transactionBlocker, null);
  s.noteStatement('SELECT v FROM t WHERE k = 1 FOR UPDATE');
  assert.equal(s.transactionBlocker, null, 'a locking read writes nothing');
  s.noteExecute(false, 'SELECT v FROM t WHERE k = ?');
  assert.equal(s.transactionBlocker, null, 'nor does a prepared SELECT no cache matched');
  s.noteStatement('UPDATE t SET v = 2 WHERE k = 1');
  assert.match(s.transactionBlocker ?? '', /changed rows/);
  s.status = Status.AUTOCOMMIT;
  assert.equal(s.transactionBlocker, null, 'COMMIT or ROLLBACK ends it');

  // An OK counting affected rows inside the transaction (a write Rotor could not tell from its text).
  s.status = Status.AUTOCOMMIT | Status.IN_TRANS;
  s.writes++;
  assert.match(s.transactionBlocker ?? '', /changed rows/);
  s.status = Status.AUTOCOMMIT;

  // autocommit=0: in a transaction from the start; a COMMIT's status clears it.
  s.status = 0;
  assert.equal(s.transactionBlocker, null);
  s.noteExecute(false, null);
  assert.match(s.transactionBlocker ?? '', /changed rows/, 'a bulk execution may write');
  s.status = 0;
  assert.equal(s.transactionBlocker, null);

  s.noteStatement('SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE');
  s.status = Status.AUTOCOMMIT | Status.IN_TRANS;
  assert.match(s.transactionBlocker ?? '', /SERIALIZABLE/);
  s.status = Status.AUTOCOMMIT;
  assert.equal(s.transactionBlocker, null, 'outside a transaction it does not matter');
  s.reset();
  s.status = Status.AUTOCOMMIT | Status.IN_TRANS;
  assert.equal(s.transactionBlocker, null, 'a reset forgets it');
});

test('[note: transaction-reads] a multi-statement\'s first result outside a transaction does not forget the writes after it', () => {
  const s = new SessionState(1, 'u', 'db', 224);
  s.noteStatement('SELECT 1; BEGIN; DELETE FROM t WHERE k = 1 RETURNING k');
  s.noteStatus(Status.AUTOCOMMIT | Status.MORE_RESULTS_EXISTS);
  s.noteStatus(Status.AUTOCOMMIT | Status.IN_TRANS | Status.MORE_RESULTS_EXISTS);
  s.noteStatus(Status.AUTOCOMMIT | Status.IN_TRANS);
  assert.match(s.transactionBlocker ?? '', /changed rows/);
  assert.equal(s.status & Status.MORE_RESULTS_EXISTS, 0, 'the flag is not kept');
  // The whole text ran outside a transaction (`DELETE …; COMMIT`): nothing is pending.
  s.noteStatement('DELETE FROM t WHERE k = 1 RETURNING k; COMMIT');
  s.noteStatus(Status.AUTOCOMMIT | Status.IN_TRANS | Status.MORE_RESULTS_EXISTS);
  s.noteStatus(Status.AUTOCOMMIT);
  s.noteStatus(Status.AUTOCOMMIT | Status.IN_TRANS);
  assert.equal(s.transactionBlocker, null);
});

test('[note: transaction-reads] any statement setting the isolation but to another level spelled exactly is taken for SERIALIZABLE', () => {
  for (const sql of [
    'SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE', 'SET tx_isolation = 3', 'SET @@session.tx_isolation = 3',
    "SET SESSION tx_isolation = 'SERIAL' 'IZABLE'", 'SET SESSION tx_isolation = 0x53455249414c495a41424c45',
    'SET SESSION tx_isolation = @lvl', "SET tx_isolation = CONCAT('SERIAL', 'IZABLE')", 'SET transaction_isolation = ?',
    "SET tx_isolation = 'READ-COMMITTED'; SET tx_isolation = 3", "SELECT 1; SET tx_isolation = 3", 'SET /**/ tx_isolation = 1',
    "SET @x = 1, tx_isolation = 'READ-COMMITTED'",
  ]) assert.equal(maySetSerializable(sql), true, sql);
  for (const sql of [
    'SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED', 'SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY',
    "SET SESSION tx_isolation = 'READ-COMMITTED'", 'SET @@tx_isolation = 2', 'SET GLOBAL transaction_isolation = DEFAULT',
    'SELECT @@tx_isolation', "SHOW VARIABLES LIKE '%isolation%'", 'SELECT v FROM t WHERE k = 1', 'UPDATE t SET v = 2',
  ]) assert.equal(maySetSerializable(sql), false, sql);
});

test('[note: read-your-writes] a write answered with rows (RETURNING) counts as a write before it runs', () => {
  const s = new SessionState(1, 'u', 'db', 224);
  s.noteStatement('DELETE FROM kv WHERE k = 1 RETURNING k');
  assert.equal(s.writes, 1);
  s.noteStatement("SELECT 'RETURNING' FROM kv");
  s.noteStatement('UPDATE kv SET v = 2');
  assert.equal(s.writes, 1, 'a read naming the word, and a write answered by an OK (counted from it), are not');
});
