import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blockerOf, charsetBlocker, parseSetRole, parseUse, SessionState } from '../../src/proxy/session-state.js';
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

test('[note: cached-grants] SET ROLE is recognised as written, and a new login starts from the default roles', () => {
  assert.equal(parseSetRole('SET ROLE admin'), 'admin');
  assert.equal(parseSetRole('/* app */ set  role   NONE;'), 'NONE');
  assert.equal(parseSetRole('SELECT 1; SET ROLE `r`'), '`r`');
  assert.equal(parseSetRole("SELECT role FROM t WHERE role = 'SET ROLE x'"), null);
  const s = new SessionState(1, 'u', 'db', 224);
  s.role = 'admin';
  const before = s.loginAt;
  s.relogin('v', null, 224);
  assert.equal(s.role, '');
  assert.equal(s.user, 'v');
  assert.ok(s.loginAt >= before);
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

test('[note: cached-grants] a USE the session cannot follow keeps its cached reads upstream', () => {
  assert.equal(blockerOf('USE other'), null, 'followed by parseUse');
  assert.equal(blockerOf('SELECT 1; USE other'), 'a USE Rotor could not follow');
  assert.equal(blockerOf('/* c */ USE other'), 'a USE Rotor could not follow');
  assert.equal(blockerOf('# c\nUSE `other`'), 'a USE Rotor could not follow');
  assert.equal(blockerOf("SELECT used, `use` FROM t WHERE x = 'USE y'"), null);
});
