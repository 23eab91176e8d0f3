import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RecentLog } from '../../src/binlog/recent-log.js';
import type { Batch } from '../../src/dataflow/batch.js';

const batch = (file: string, position: number, payload = 'x'): Batch => ({
  gtid: `0-1-${position}`, position: { file, position }, timestamp: 0,
  changes: [{ database: 'd', table: 't', columns: ['id', 'v'], deltas: [{ row: [position, payload], sign: 1 }] }],
});

describe('RecentLog', () => {
  it('replays every batch after a position, across binlog files', () => {
    const log = new RecentLog();
    log.startAt({ file: 'b.000001', position: 4 });
    for (const b of [batch('b.000001', 100), batch('b.000001', 200), batch('b.000002', 50)]) log.append(b);
    assert.deepEqual(log.batchesAfter({ file: 'b.000001', position: 100 })!.map((b) => b.position.position), [200, 50]);
    assert.deepEqual(log.batchesAfter({ file: 'b.000001', position: 4 })!.length, 3);
    assert.deepEqual(log.batchesAfter({ file: 'b.000002', position: 50 }), []);
    const seen: number[] = [];
    assert.equal(log.replayAfter({ file: 'b.000001', position: 150 }, (b) => seen.push(b.position.position)), true);
    assert.deepEqual(seen, [200, 50]);
  });

  it('does not cover a position before its start or before an evicted batch', () => {
    const log = new RecentLog({ maxBatches: 2 });
    assert.equal(log.batchesAfter({ file: 'b.000001', position: 4 }), null);
    log.startAt({ file: 'b.000001', position: 4 });
    for (let p = 100; p <= 500; p += 100) log.append(batch('b.000001', p));
    assert.equal(log.size, 2);
    assert.equal(log.batchesAfter({ file: 'b.000001', position: 200 }), null);
    assert.equal(log.replayAfter({ file: 'b.000001', position: 200 }, () => assert.fail('no replay')), false);
    assert.deepEqual(log.batchesAfter({ file: 'b.000001', position: 300 })!.map((b) => b.position.position), [400, 500]);
  });

  it('is bounded by bytes as well as by count', () => {
    const log = new RecentLog({ maxBatches: 1000, maxBytes: 10_000 });
    log.startAt({ file: 'b.000001', position: 4 });
    for (let p = 1; p <= 100; p++) log.append(batch('b.000001', p * 10, 'y'.repeat(1000)));
    assert.ok(log.bytes <= 10_000);
    assert.ok(log.size < 10 && log.size >= 1);
    assert.equal(log.floor!.position, (100 - log.size) * 10);
  });
});
