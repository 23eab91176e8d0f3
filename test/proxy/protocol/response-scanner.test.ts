import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResponseScanner, type ResponseKind } from '../../../src/proxy/protocol/response-scanner.js';
import { encodePrepareOk, encodeResultSet, encodeResultSetOnce } from '../../../src/proxy/protocol/result-set.js';
import { PacketWriter } from '../../../src/proxy/protocol/packet-writer.js';
import { writeColumnDefinition } from '../../../src/proxy/protocol/column-codec.js';
import { writeEof, writeErr, writeOk } from '../../../src/proxy/protocol/generic-response.js';
import { MAX_FRAME, Status } from '../../../src/proxy/protocol/constants.js';
import type { ColumnDefinition } from '../../../src/proxy/protocol/column-definition.js';
import { eachSplit } from './split.js';

const col = (name: string, type: number): ColumnDefinition => ({
  catalog: 'def', schema: 'db', table: 't', orgTable: 't', name, orgName: name, characterSet: 45, columnLength: 40, type, flags: 0, decimals: 0,
});
const cols = [col('id', 3), col('name', 253)];
const rows = [[1, 'a'], [2, null], [3, '\u00fe'.repeat(3)]];

interface Seen { oks: number; eofs: number[]; errs: number; prepares: number }

/** Feeds the chunks; returns where the response ended (absolute offset) and what was seen. */
function scan(kind: ResponseKind, deprecateEof: boolean, chunks: Buffer[]): { end: number; seen: Seen } {
  const seen: Seen = { oks: 0, eofs: [], errs: 0, prepares: 0 };
  const s = new ResponseScanner({
    onOk: () => seen.oks++, onEof: (st) => seen.eofs.push(st), onErr: () => seen.errs++, onPrepareOk: () => seen.prepares++,
  });
  s.begin(kind, deprecateEof);
  let base = 0;
  let end = -1;
  for (const c of chunks) {
    const e = s.feed(c);
    if (e >= 0 && end < 0) end = base + e;
    base += c.length;
  }
  assert.equal(s.active, false, 'idle after the response');
  return { end, seen };
}

for (const deprecateEof of [false, true]) {
  const mode = deprecateEof ? 'with DEPRECATE_EOF' : 'with EOF packets';

  test(`finds the end of a text and a binary result set split at every byte offset (${mode})`, () => {
    for (const binary of [false, true]) {
      const bytes = encodeResultSet(cols, rows, { binary, deprecateEof, statusFlags: Status.AUTOCOMMIT, startSeq: 1 });
      eachSplit(bytes, (chunks, label) => {
        const { end, seen } = scan(binary ? 'execute' : 'query', deprecateEof, chunks);
        assert.equal(end, bytes.length, label);
        assert.equal(seen.oks + seen.eofs.length, deprecateEof ? 1 : 2, label);
      });
    }
  });

  test(`follows multiple result sets to the last one (${mode})`, () => {
    const w = new PacketWriter();
    writeOk(w, { affectedRows: 1, insertId: 0, status: Status.AUTOCOMMIT | Status.MORE_RESULTS_EXISTS, warnings: 0, info: '' }, 1);
    const rs = encodeResultSet(cols, rows, { binary: false, deprecateEof, statusFlags: Status.AUTOCOMMIT | Status.MORE_RESULTS_EXISTS, startSeq: 2 });
    const last = new PacketWriter();
    writeOk(last, { affectedRows: 0, insertId: 0, status: Status.AUTOCOMMIT, warnings: 0, info: '' }, 9);
    const bytes = Buffer.concat([w.finish(), rs, last.finish()]);
    eachSplit(bytes, (chunks, label) => assert.equal(scan('query', deprecateEof, chunks).end, bytes.length, label));
  });

  test(`finds the end of a COM_STMT_PREPARE response with and without parameters (${mode})`, () => {
    for (const [params, columns] of [[cols, cols], [[], cols], [cols, []], [[], []]] as const) {
      const bytes = encodePrepareOk(5, params, columns, { deprecateEof, statusFlags: Status.AUTOCOMMIT });
      eachSplit(bytes, (chunks, label) => {
        const { end, seen } = scan('prepare', deprecateEof, chunks);
        assert.equal(end, bytes.length, `${params.length}/${columns.length} ${label}`);
        assert.equal(seen.prepares, 1);
      });
    }
  });
}

test('an ERR packet in the middle of rows ends the response', () => {
  const w = new PacketWriter();
  w.begin(1).lenenc(1).end();
  writeColumnDefinition(w, cols[0], 2);
  writeEof(w, Status.AUTOCOMMIT, 0, 3);
  w.begin(4).lenencString('1').end();
  writeErr(w, { errno: 1317, sqlState: '70100', message: 'Query execution was interrupted' }, 5);
  const bytes = Buffer.from(w.finish());
  eachSplit(bytes, (chunks, label) => {
    const { end, seen } = scan('query', false, chunks);
    assert.equal(end, bytes.length, label);
    assert.equal(seen.errs, 1);
  });
});

test('a row of more than 16 MiB starting with 0xFE is row data, not a terminator', () => {
  const big = Buffer.alloc(MAX_FRAME + 100, 0x41);
  const bytes = encodeResultSet([col('b', 251)], [[big]], { binary: false, deprecateEof: true, statusFlags: 2, startSeq: 1 });
  for (const cut of [10, 60, 70, 1000, MAX_FRAME, bytes.length - 5]) {
    assert.equal(scan('query', true, [bytes.subarray(0, cut), bytes.subarray(cut)]).end, bytes.length, `cut ${cut}`);
  }
});

test('COM_FIELD_LIST ends at its EOF; single-packet commands end at once', () => {
  const w = new PacketWriter();
  writeColumnDefinition(w, cols[0], 1);
  writeColumnDefinition(w, cols[1], 2);
  writeEof(w, 2, 0, 3);
  const bytes = Buffer.from(w.finish());
  eachSplit(bytes, (chunks, label) => assert.equal(scan('field-list', true, chunks).end, bytes.length, label));
  const stat = new PacketWriter().begin(1).string('Uptime: 5  Threads: 1').end().finish();
  assert.equal(scan('single', true, [stat]).end, stat.length);
});

test('an unchanged rows array is encoded once per set of options; other options encode afresh', () => {
  const opts = { binary: false, deprecateEof: true, statusFlags: Status.AUTOCOMMIT, startSeq: 1 };
  const first = encodeResultSetOnce(cols, rows, opts);
  // Reused once, the encoding moves to a buffer of its own size (no pinned pool slab); then the same object.
  const kept = encodeResultSetOnce(cols, rows, { ...opts });
  assert.deepEqual(kept, first);
  assert.equal(kept.buffer.byteLength, kept.length);
  assert.equal(encodeResultSetOnce(cols, rows, { ...opts }), kept, 'the same bytes object');
  assert.deepEqual(first, encodeResultSet(cols, rows, opts));
  const inTx = encodeResultSetOnce(cols, rows, { ...opts, statusFlags: Status.AUTOCOMMIT | Status.IN_TRANS });
  assert.notEqual(inTx, first);
  assert.deepEqual(inTx, encodeResultSet(cols, rows, { ...opts, statusFlags: Status.AUTOCOMMIT | Status.IN_TRANS }));
  assert.deepEqual(encodeResultSetOnce(cols, rows.slice(), { ...opts, binary: true }), encodeResultSet(cols, rows, { ...opts, binary: true }));
});

test('a LOCAL INFILE request pauses the response until the file is sent; upstream\'s OK then ends it, or leads to more results', () => {
  const request = new PacketWriter().begin(1).u8(0xfb).string('rows.csv').end().finish();
  for (const more of [false, true]) {
    const after = new PacketWriter();
    writeOk(after, { affectedRows: 3, insertId: 0, status: Status.AUTOCOMMIT | (more ? Status.MORE_RESULTS_EXISTS : 0), warnings: 0, info: 'Records: 3' }, 4);
    const rest = more
      ? Buffer.concat([after.finish(), encodeResultSet(cols, rows, { binary: false, deprecateEof: true, statusFlags: Status.AUTOCOMMIT, startSeq: 5 })])
      : after.finish();
    eachSplit(request, (chunks, label) => {
      let asked = 0;
      const s = new ResponseScanner({ onOk: () => undefined, onEof: () => undefined, onErr: () => undefined, onPrepareOk: () => undefined, onLocalInfile: () => asked++ });
      s.begin('query', true);
      for (const c of chunks) assert.equal(s.feed(c), -1, label);
      assert.equal(asked, 1, label);
      assert.equal(s.active, true, 'waiting for the file');
      s.localInfileSent();
      let end = -1;
      let base = 0;
      for (const c of [rest.subarray(0, 7), rest.subarray(7)]) {
        const e = s.feed(c);
        if (e >= 0 && end < 0) end = base + e;
        base += c.length;
      }
      assert.equal(end, rest.length, label);
      assert.equal(s.active, false);
    });
  }
});

test('an ERR while a LOCAL INFILE file is awaited ends the response', () => {
  const s = new ResponseScanner({ onOk: () => undefined, onEof: () => undefined, onErr: () => undefined, onPrepareOk: () => undefined });
  s.begin('query', false);
  assert.equal(s.feed(new PacketWriter().begin(1).u8(0xfb).string('f').end().finish()), -1);
  const w = new PacketWriter();
  writeErr(w, { errno: 1927, sqlState: '70100', message: 'Connection was killed' }, 2);
  const err = w.finish();
  assert.equal(s.feed(err), err.length);
});
