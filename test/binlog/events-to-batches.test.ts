import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AnyBinlogEvent } from '@vlasky/zongji';
import { EventsToBatches } from '../../src/binlog/events-to-batches.js';
import type { Batch } from '../../src/dataflow/batch.js';
import type { SchemaChange } from '../../src/binlog/sink.js';

// Event objects shaped like zongji's, for the cases a live server will not produce on demand.
function ev(name: string, nextPosition: number, fields: Record<string, unknown> = {}): AnyBinlogEvent {
  return { getEventName: () => name, getTypeName: () => name, timestamp: 1_000, nextPosition, size: 0, dump: () => undefined, ...fields } as unknown as AnyBinlogEvent;
}

function harness() {
  const batches: Batch[] = [];
  const schema: SchemaChange[] = [];
  const ends: number[] = [];
  const a = new EventsToBatches({
    onBatch: (b) => batches.push(b), onSchemaChange: (c) => schema.push(c),
    onGroupEnd: (p) => ends.push(p.position), onHeartbeat: () => undefined,
  });
  const tableMap = { 7: { columnSchemas: [{ COLUMN_NAME: 'id' }], parentSchema: 'd', tableName: 't' } };
  a.push(ev('rotate', 0, { binlogName: 'bin.000001', position: 4 }));
  const rows = (pos: number) => {
    a.push(ev('tablemap', 0, { tableId: 7, schemaName: 'd', tableName: 't', columnTypes: [3], tableMap }));
    a.push(ev('writerows', 0, { tableId: 7, rows: [{ id: pos }] }));
  };
  return { a, batches, schema, ends, rows };
}

describe('EventsToBatches', () => {
  it('applies nothing of a group that ends in ROLLBACK and reports its tables as changed', () => {
    const h = harness();
    h.a.push(ev('mariadbgtid', 100, { gtid: '0-1-5', standalone: false }));
    h.rows(1);
    h.a.push(ev('query', 200, { query: 'ROLLBACK', schema: 'd' }));
    assert.equal(h.batches.length, 0);
    assert.deepEqual(h.schema.map((c) => [c.kind, c.database, [...c.tables], c.statement, c.position.position]), [['other', 'd', ['t'], 'ROLLBACK', 200]]);
    assert.deepEqual(h.ends, [200]);
  });

  it('holds an XA PREPAREd group until its XA COMMIT and drops one that is rolled back', () => {
    const h = harness();
    const xid = { xidFormatId: 1, xidGtrid: Buffer.from('g1'), xidBqual: Buffer.from('') };
    h.a.push(ev('mariadbgtid', 100, { gtid: '0-1-6', standalone: false, preparedXa: true, ...xid }));
    h.rows(1);
    h.a.push(ev('xaprepare', 150));
    assert.equal(h.batches.length, 0);
    h.a.push(ev('mariadbgtid', 300, { gtid: '0-1-7', standalone: false, preparedXa: true, xidFormatId: 1, xidGtrid: Buffer.from('g2'), xidBqual: Buffer.from('') }));
    h.rows(2);
    h.a.push(ev('xaprepare', 350));
    h.a.push(ev('mariadbgtid', 400, { gtid: '0-1-8', standalone: false, completedXa: true, ...xid }));
    h.a.push(ev('query', 450, { query: "XA COMMIT X'6731',X'',1", schema: 'd' }));
    h.a.push(ev('mariadbgtid', 500, { gtid: '0-1-9', standalone: false, completedXa: true, xidFormatId: 1, xidGtrid: Buffer.from('g2'), xidBqual: Buffer.from('') }));
    h.a.push(ev('query', 550, { query: "XA ROLLBACK X'6732',X'',1", schema: 'd' }));
    assert.deepEqual(h.batches.map((b) => [b.gtid, b.position.position, b.changes[0].deltas[0].row]), [['0-1-8', 450, [1]]]);
  });

  it('reads MySQL groups: GTID then BEGIN … XID is a transaction, GTID then a DDL statement stands alone', () => {
    const h = harness();
    h.a.push(ev('gtid', 100, { gtid: 'uuid:1' }));
    h.a.push(ev('query', 150, { query: 'ALTER TABLE t ADD x INT', schema: 'd' }));
    h.a.push(ev('gtid', 200, { gtid: 'uuid:2' }));
    h.a.push(ev('query', 250, { query: 'BEGIN', schema: 'd' }));
    h.rows(1);
    h.a.push(ev('xid', 300));
    assert.deepEqual(h.schema.map((c) => [c.kind, c.gtid, c.position.position]), [['alter', 'uuid:1', 150]]);
    assert.deepEqual(h.batches.map((b) => [b.gtid, b.position.position]), [['uuid:2', 300]]);
    assert.deepEqual(h.ends, [150, 300]);
  });

  it('drops an open group on reset and delivers the same group whole when it is read again', () => {
    const h = harness();
    h.a.push(ev('mariadbgtid', 100, { gtid: '0-1-10', standalone: false }));
    h.rows(1);
    h.a.reset();
    h.a.push(ev('rotate', 0, { binlogName: 'bin.000001', position: 4 }));
    h.a.push(ev('mariadbgtid', 100, { gtid: '0-1-10', standalone: false }));
    h.rows(1);
    h.rows(2);
    h.a.push(ev('xid', 400));
    assert.equal(h.batches.length, 1);
    assert.deepEqual(h.batches[0].changes[0].deltas.map((d) => d.row), [[1], [2]]);
    assert.deepEqual(h.batches[0].position, { file: 'bin.000001', position: 400 });
  });
});
