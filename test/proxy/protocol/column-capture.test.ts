import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ColumnCapture } from '../../../src/proxy/protocol/column-capture.js';
import { encodeResultSet } from '../../../src/proxy/protocol/result-set.js';
import { PacketWriter } from '../../../src/proxy/protocol/packet-writer.js';
import { writeErr, writeOk } from '../../../src/proxy/protocol/generic-response.js';
import type { ColumnDefinition } from '../../../src/proxy/protocol/column-definition.js';
import { eachSplit } from './split.js';

const col = (name: string, type: number): ColumnDefinition => ({
  catalog: 'def', schema: 'db', table: 't', orgTable: 't', name, orgName: name, characterSet: 45, columnLength: 40, type, flags: 0, decimals: 0,
});
const cols = [col('id', 3), col('naïve name', 253)];

function capture(chunks: Buffer[], extendedMetadata = false): { defs: ReadonlyArray<ColumnDefinition> | null; overAt: number } {
  let defs: ReadonlyArray<ColumnDefinition> | null = null;
  const c = new ColumnCapture(extendedMetadata, (d) => { defs = d; });
  let overAt = -1;
  chunks.forEach((chunk, i) => {
    if (overAt < 0 && c.feed(chunk)) overAt = i;
  });
  return { defs, overAt };
}

test('captures the column definitions of a relayed result set, however the bytes are split', () => {
  for (const deprecateEof of [false, true]) {
    for (const extendedMetadata of [false, true]) {
      const bytes = encodeResultSet(cols, [[1, 'a'], [2, null]], { binary: false, deprecateEof, statusFlags: 2, startSeq: 1, extendedMetadata });
      eachSplit(bytes, (chunks, label) => {
        const { defs } = capture(chunks, extendedMetadata);
        assert.deepEqual(defs?.map((d) => [d.name, d.type, d.characterSet]), [['id', 3, 45], ['naïve name', 253, 45]], label);
      });
    }
  }
});

test('gives up on an OK or an ERR without delivering anything', () => {
  const ok = new PacketWriter(32);
  writeOk(ok, { affectedRows: 1, insertId: 0, status: 2, warnings: 0, info: '' }, 1);
  const err = new PacketWriter(64);
  writeErr(err, { errno: 1142, sqlState: '42000', message: 'SELECT command denied' }, 1);
  for (const bytes of [ok.finish(), err.finish()]) {
    eachSplit(bytes, (chunks, label) => {
      const { defs, overAt } = capture(chunks);
      assert.equal(defs, null, label);
      assert.ok(overAt >= 0, label);
    });
  }
});
