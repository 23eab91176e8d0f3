import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blockerOf, isLoadDataLocal, parseKill, parseUse, SessionState } from '../../src/proxy/session-state.js';
import { Status } from '../../src/proxy/protocol/constants.js';

test('session settings that change results block the cache; writes to columns of the same names do not', () => {
  assert.equal(blockerOf("SET time_zone = '+02:00'"), 'time_zone changed');
  assert.equal(blockerOf("set session sql_mode = ''"), 'sql_mode changed');
  assert.equal(blockerOf('SET NAMES latin1'), 'names changed');
  assert.equal(blockerOf('SET @@session.character_set_results = NULL'), 'character_set_results changed');
  assert.equal(blockerOf("SELECT 1; SET time_zone = 'UTC'"), 'time_zone changed');
  assert.equal(blockerOf('/* app */ SET CHARACTER SET utf8'), 'character set changed');
  assert.equal(blockerOf('CREATE TEMPORARY TABLE IF NOT EXISTS `tmp` (id INT)'), 'temporary table tmp');
  assert.equal(blockerOf("UPDATE t SET names = 'x', time_zone = 'y' WHERE id = 1"), null);
  assert.equal(blockerOf('SET autocommit = 0'), null);
  assert.equal(blockerOf('SELECT * FROM settings'), null);
});

test('KILL statements are recognised and rewritten to another id; USE and LOAD DATA LOCAL are recognised', () => {
  const k = parseKill('KILL QUERY 12');
  assert.equal(k?.id, 12);
  assert.equal(k?.rewrite(7001), 'KILL QUERY 7001');
  assert.equal(parseKill('kill connection 5;')?.rewrite(9), 'kill connection 9;');
  assert.equal(parseKill('KILL HARD 3')?.id, 3);
  assert.equal(parseKill('SELECT 1'), null);
  assert.equal(parseKill('KILL USER bob'), null);
  assert.equal(parseUse('USE `my``db`'), 'my`db');
  assert.equal(parseUse('use rotor;'), 'rotor');
  assert.equal(parseUse('USER()'), null);
  assert.equal(isLoadDataLocal("LOAD DATA LOCAL INFILE '/x' INTO TABLE t"), true);
  assert.equal(isLoadDataLocal("LOAD DATA INFILE '/x' INTO TABLE t"), false);
});

test('a session is in a transaction inside BEGIN or with autocommit off', () => {
  const s = new SessionState(1, 'u', 'db');
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
