import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { Status } from '../../src/proxy/protocol/constants.js';
import { encodeServerHandshake } from '../../src/proxy/protocol/handshake.js';
import { openUpstream } from '../../src/proxy/upstream-link.js';

test('leaves no listener of its own on the upstream socket once the handshake is read', async () => {
  // A listener left behind keeps the handshake's framer and timer alive for every idle session.
  const hello = encodeServerHandshake({
    serverVersion: '5.5.5-10.11.19-MariaDB-log', connectionId: 7, scramble: Buffer.from('abcdefgh0123456789AB'),
    capabilities: 0xf7fe | (0x81ff << 16), charset: 45, status: Status.AUTOCOMMIT, authPlugin: 'mysql_native_password', mariadbCapabilities: 0,
  });
  const server = createServer((s) => s.write(hello));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const link = await openUpstream('127.0.0.1', (server.address() as AddressInfo).port);
  const listeners = Object.fromEntries(['data', 'error', 'close'].map((e) => [e, link.socket.listenerCount(e)]));
  link.socket.destroy();
  server.close();
  assert.equal(link.handshake.connectionId, 7);
  assert.deepEqual(listeners, { data: 0, error: 0, close: 0 });
});
