import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { READ_POSITION_TWICE, snapshotPosition } from '../../src/upstream/snapshot-position.js';

// [note: snapshot-position] The two evaluations of one status read must agree, or the position is
// another session's and the snapshot is taken again.
const rows = (a: [string, string | number], b: [string, string | number] = a): unknown[][] => [
  [1, 'BINLOG_SNAPSHOT_FILE', a[0]], [1, 'BINLOG_SNAPSHOT_POSITION', String(a[1])],
  [2, 'BINLOG_SNAPSHOT_FILE', b[0]], [2, 'BINLOG_SNAPSHOT_POSITION', String(b[1])],
];

describe('snapshot position read twice', () => {
  it('takes the position when both evaluations agree', () => {
    assert.deepEqual(snapshotPosition(rows(['mariadb-bin.000003', 7969892])), { kind: 'position', position: { file: 'mariadb-bin.000003', position: 7969892 } });
  });

  it('is torn when the evaluations disagree on the position or the file (another session\'s value)', () => {
    assert.deepEqual(snapshotPosition(rows(['mariadb-bin.000003', 7969892], ['mariadb-bin.000003', 7970170])), { kind: 'torn' });
    assert.deepEqual(snapshotPosition(rows(['mariadb-bin.000003', 4], ['mariadb-bin.000004', 4])), { kind: 'torn' });
  });

  it('is torn when an evaluation is missing or not a number', () => {
    assert.deepEqual(snapshotPosition(rows(['mariadb-bin.000003', 9]).slice(0, 3)), { kind: 'torn' });
    assert.deepEqual(snapshotPosition(rows(['mariadb-bin.000003', 9]).slice(0, 2)), { kind: 'torn' });
    assert.deepEqual(snapshotPosition(rows(['mariadb-bin.000003', 'x'])), { kind: 'torn' });
  });

  it('has no position on a server without the variables, and none (null) with the binary log off', () => {
    assert.deepEqual(snapshotPosition([]), { kind: 'none' });
    assert.deepEqual(snapshotPosition(rows(['', 0])), { kind: 'position', position: null });
  });

  it('evaluates the status twice in one statement, each evaluation tagged', () => {
    assert.equal(READ_POSITION_TWICE.match(/information_schema\.SESSION_STATUS/g)?.length, 2);
    assert.match(READ_POSITION_TWICE, /^SELECT 1, .* UNION ALL SELECT 2, /);
  });
});
