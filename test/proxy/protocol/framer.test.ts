import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PacketFramer, PacketTooLarge, type Packet } from '../../../src/proxy/protocol/framer.js';
import { PacketWriter } from '../../../src/proxy/protocol/packet-writer.js';
import { MAX_FRAME } from '../../../src/proxy/protocol/constants.js';
import { eachSplit } from './split.js';

function collect(framer: PacketFramer, chunks: Buffer[]): Packet[] {
  const out: Packet[] = [];
  for (const c of chunks) framer.push(c, (p) => out.push({ seq: p.seq, payload: Buffer.from(p.payload), raw: Buffer.from(p.raw) }));
  return out;
}

test('reassembles packets split at every byte offset, raw bytes included', () => {
  const w = new PacketWriter();
  w.begin(0).u8(3).string('select 1').end();
  w.begin(1).end(); // empty payload
  w.begin(2).string('x'.repeat(300)).end();
  const bytes = Buffer.from(w.finish());
  eachSplit(bytes, (chunks, label) => {
    const framer = new PacketFramer();
    const packets = collect(framer, chunks);
    assert.equal(packets.length, 3, label);
    assert.equal(packets[0].payload.toString('latin1', 1), 'select 1', label);
    assert.equal(packets[1].payload.length, 0, label);
    assert.equal(packets[2].seq, 2, label);
    assert.deepEqual(Buffer.concat(packets.map((p) => p.raw)), bytes, label);
    assert.ok(framer.idle, label);
  });
});

test('joins a payload of more than 16 MiB from its frames, including an exact multiple with an empty last frame', () => {
  for (const size of [MAX_FRAME + 10, MAX_FRAME]) {
    const payload = Buffer.alloc(size, 7);
    payload[0] = 3;
    payload[size - 1] = 9;
    const w = new PacketWriter(size + 64);
    w.begin(0).bytes(payload).end();
    const bytes = Buffer.from(w.finish());
    assert.equal(bytes.length, size + 8, 'two frame headers');
    for (const cut of [1, 3, 4, 5, MAX_FRAME + 3, MAX_FRAME + 4, MAX_FRAME + 5, MAX_FRAME + 7, bytes.length - 1]) {
      const packets = collect(new PacketFramer(), [bytes.subarray(0, cut), bytes.subarray(cut)]);
      assert.equal(packets.length, 1, `cut ${cut}`);
      assert.deepEqual(packets[0].payload, payload);
      assert.deepEqual(packets[0].raw, bytes);
    }
  }
});

test('refuses a packet announced above the limit before buffering it', () => {
  const framer = new PacketFramer(1000);
  assert.throws(() => framer.push(Buffer.from([0xff, 0xff, 0xff, 0]), () => undefined), PacketTooLarge);
});
