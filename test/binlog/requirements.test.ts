import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { checkUpstream, unmetRequirements } from '../../src/upstream/requirements.js';
import { RotorError } from '../../src/errors.js';
import { startMariaDb, stopServer } from '../../scripts/private-server.js';
import { mariadbUrl } from '../support/servers.js';
import { privateServerName } from './support.js';

const SERVER = privateServerName('binlog-reqs');

describe('upstream requirements', () => {
  let badUrl: string;

  before(async () => {
    const bad = await startMariaDb(SERVER, { extraConfig: ['binlog_format=MIXED', 'binlog_row_image=MINIMAL', 'binlog_row_metadata=MINIMAL'] });
    badUrl = bad.url;
  });

  after(async () => {
    await stopServer('mariadb', SERVER);
  });

  it('accepts a correctly configured MariaDB and reports its flavor and version', async () => {
    const info = await checkUpstream(await mariadbUrl());
    assert.equal(info.flavor, 'mariadb');
    assert.match(info.version, /^\d+\.\d+\.\d+/);
  });

  it('refuses wrong binlog settings with the exact SET GLOBAL and my.cnf lines', async () => {
    await assert.rejects(checkUpstream(badUrl), (err: unknown) => {
      assert.ok(err instanceof RotorError);
      assert.equal(err.code, 'ERR_BINLOG_REQUIREMENT');
      assert.ok(!err.message.includes('\n'), 'one line');
      assert.match(err.message, /binlog_format is MIXED but must be ROW: run SET GLOBAL binlog_format=ROW and add binlog_format=ROW under \[mariadbd\] in my\.cnf/);
      assert.match(err.message, /SET GLOBAL binlog_row_image=FULL/);
      assert.match(err.message, /SET GLOBAL binlog_row_metadata=FULL/);
      return true;
    });
  });

  it('refuses a user without replication privileges and says what to grant', async () => {
    const admin = await mysql.createConnection({ uri: badUrl });
    await admin.query("CREATE USER IF NOT EXISTS 'plain'@'%' IDENTIFIED BY 'plain'");
    await admin.query("GRANT SELECT ON rotor.* TO 'plain'@'%'");
    await admin.query('SET GLOBAL binlog_format = ROW');
    await admin.query('SET GLOBAL binlog_row_image = FULL');
    await admin.query('SET GLOBAL binlog_row_metadata = FULL');
    await admin.end();
    const url = new URL(badUrl);
    url.username = 'plain';
    url.password = 'plain';
    await assert.rejects(checkUpstream(url.href), /the user lacks REPLICATION SLAVE, REPLICATION CLIENT: run GRANT REPLICATION SLAVE, REPLICATION CLIENT ON \*\.\* TO/);
  });

  it('on MySQL also requires binlog_transaction_compression off and no partial JSON', () => {
    const vars = new Map([
      ['log_bin', 'ON'], ['binlog_format', 'ROW'], ['binlog_row_image', 'FULL'], ['binlog_row_metadata', 'FULL'],
      ['binlog_transaction_compression', 'ON'], ['binlog_row_value_options', 'PARTIAL_JSON'],
    ]);
    const unmet = unmetRequirements('mysql', { version: '8.0.36', vars, grants: ['GRANT SELECT, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO `r`@`%`'] });
    assert.deepEqual(unmet, [
      'binlog_transaction_compression is ON but must be OFF: run SET GLOBAL binlog_transaction_compression=OFF and add binlog_transaction_compression=OFF under [mysqld] in my.cnf',
      "binlog_row_value_options is PARTIAL_JSON: run SET GLOBAL binlog_row_value_options='' and add binlog_row_value_options= under [mysqld] in my.cnf",
    ]);
    assert.match(unmetRequirements('mysql', { version: '5.7.44', vars, grants: [] })[0], /MySQL 5\.7\.44 is too old/);
    assert.match(unmetRequirements('mariadb', { version: '10.11.6-MariaDB', vars: new Map([['log_bin', 'OFF']]), grants: ['GRANT ALL PRIVILEGES ON *.* TO `r`@`%`'] })[0],
      /the binary log is off: add log_bin=mariadb-bin and server_id=1 under \[mariadbd\] in my\.cnf and restart the server/);
  });
});
