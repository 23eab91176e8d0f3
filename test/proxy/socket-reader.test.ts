import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { SocketReader } from '../../src/proxy/socket-reader.js';

/** A server that sends `pieces` one by one, each after the client's byte for the one before. */
async function twoReads(held: boolean): Promise<{ first: Buffer; firstNow: string; second: string }> {
  const pieces = ['first chunk', 'SECOND.....'];
  const server = createServer((s: Socket) => {
    let i = 0;
    s.write(pieces[i++]);
    s.on('data', () => {
      if (i < pieces.length) s.write(pieces[i++]);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const reader = new SocketReader();
  const socket = connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, onread: reader.onread });
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve) => {
    reader.attach((chunk) => {
      chunks.push(chunk);
      if (chunks.length === 2) resolve();
      else socket.write('.');
    }, () => held);
  });
  socket.destroy();
  server.close();
  return { first: chunks[0], firstNow: chunks[0].toString(), second: chunks[1].toString() };
}

test('a chunk said to be held keeps its bytes: the next read goes to another buffer', async () => {
  const r = await twoReads(true);
  assert.equal(r.second, 'SECOND.....');
  assert.equal(r.firstNow, 'first chunk');
});

test('a chunk not held is a view of the one buffer every read reuses', async () => {
  // What the sink MUST NOT keep: the second read wrote over the first chunk's bytes. [note: read-buffer]
  const r = await twoReads(false);
  assert.equal(r.second, 'SECOND.....');
  assert.equal(r.firstNow, 'SECOND.....');
});
