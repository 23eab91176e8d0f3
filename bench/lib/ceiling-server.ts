/**
 * The ceiling of a Node MySQL endpoint on this machine: a tiny server that
 * answers every SELECT — text or prepared — with one constant row from a Map of pre-encoded
 * responses, and everything else with OK. Rotor's cached reads are reported as a fraction of it.
 *
 * Deliberately minimal and self-contained (no TLS, no DEPRECATE_EOF, any password accepted); it is a
 * yardstick, not a server. Run as its own process so its CPU can be measured:
 *   node --import tsx bench/lib/ceiling-server.ts --port 3399
 */
import { createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';

const CAPS = 0x1 | 0x2 | 0x4 | 0x8 | 0x200 | 0x2000 | 0x8000 | 0x10000 | 0x20000 | 0x40000 | 0x80000 | 0x200000;
const UTF8MB4 = 45;
const AUTOCOMMIT = 0x0002;
const ROW_VALUE = Buffer.from('ceiling-'.padEnd(119, 'x'));

function lenenc(n: number): Buffer {
  if (n < 251) return Buffer.from([n]);
  if (n < 0x10000) return Buffer.from([0xfc, n & 0xff, n >> 8]);
  const b = Buffer.alloc(4);
  b[0] = 0xfd;
  b.writeUIntLE(n, 1, 3);
  return b;
}

function lenencStr(s: string | Buffer): Buffer {
  const b = typeof s === 'string' ? Buffer.from(s) : s;
  return Buffer.concat([lenenc(b.length), b]);
}

function packet(seq: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h.writeUIntLE(payload.length, 0, 3);
  h[3] = seq & 0xff;
  return Buffer.concat([h, payload]);
}

function ok(): Buffer {
  return Buffer.from([0x00, 0, 0, AUTOCOMMIT & 0xff, AUTOCOMMIT >> 8, 0, 0]);
}

function eof(): Buffer {
  return Buffer.from([0xfe, 0, 0, AUTOCOMMIT & 0xff, AUTOCOMMIT >> 8]);
}

function columnDef(name: string, type: number): Buffer {
  const fixed = Buffer.alloc(13);
  fixed[0] = 0x0c;
  fixed.writeUInt16LE(UTF8MB4, 1);
  fixed.writeUInt32LE(480, 3);
  fixed[7] = type;
  return Buffer.concat([lenencStr('def'), lenencStr('sbtest'), lenencStr('t'), lenencStr('t'), lenencStr(name), lenencStr(name), fixed]);
}

/** A whole response as packets numbered from seq 1. */
function response(payloads: Buffer[]): Buffer {
  return Buffer.concat(payloads.map((p, i) => packet(i + 1, p)));
}

const TEXT_ROW = response([lenenc(1), columnDef('c', 0xfe), eof(), lenencStr(ROW_VALUE), eof()]);
const BINARY_ROW = response([lenenc(1), columnDef('c', 0xfe), eof(), Buffer.concat([Buffer.from([0x00, 0x00]), lenencStr(ROW_VALUE)]), eof()]);
const OK = response([ok()]);

function handshake(connId: number): Buffer {
  const scramble = Buffer.from('abcdefghijklmnopqrst');
  const head = Buffer.alloc(4);
  head.writeUInt32LE(connId);
  const caps = Buffer.alloc(2);
  caps.writeUInt16LE(CAPS & 0xffff);
  const capsHi = Buffer.alloc(2);
  capsHi.writeUInt16LE(CAPS >>> 16);
  const payload = Buffer.concat([
    Buffer.from([10]), Buffer.from('5.7.99-rotor-ceiling\0'), head, scramble.subarray(0, 8), Buffer.from([0]), caps,
    Buffer.from([UTF8MB4, AUTOCOMMIT & 0xff, AUTOCOMMIT >> 8]), capsHi, Buffer.from([21]), Buffer.alloc(10),
    scramble.subarray(8), Buffer.from([0]), Buffer.from('mysql_native_password\0'),
  ]);
  return packet(0, payload);
}

function isSelect(sql: string): boolean {
  return /^\s*select\b/i.test(sql);
}

function serve(socket: Socket, connId: number): void {
  socket.setNoDelay(true);
  const byText = new Map<string, Buffer>();
  const byStatement = new Map<number, Buffer>();
  let nextStmt = 1;
  let authed = false;
  let buf: Buffer = Buffer.alloc(0);
  socket.write(handshake(connId));
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    const out: Buffer[] = [];
    while (buf.length >= 4) {
      const len = buf.readUIntLE(0, 3);
      if (buf.length < 4 + len) break;
      const payload = buf.subarray(4, 4 + len);
      buf = buf.subarray(4 + len);
      if (!authed) {
        authed = true;
        out.push(packet(2, ok()));
        continue;
      }
      const cmd = payload[0];
      if (cmd === 0x01) {
        socket.end();
        return;
      } else if (cmd === 0x03) {
        const sql = payload.toString('utf8', 1);
        let r = byText.get(sql);
        if (!r) {
          r = isSelect(sql) ? TEXT_ROW : OK;
          if (byText.size < 100_000) byText.set(sql, r);
        }
        out.push(r);
      } else if (cmd === 0x16) {
        const sql = payload.toString('utf8', 1);
        const params = (sql.match(/\?/g) ?? []).length;
        const cols = isSelect(sql) ? 1 : 0;
        const id = nextStmt++;
        const head = Buffer.alloc(12);
        head.writeUInt32LE(id, 1);
        head.writeUInt16LE(cols, 5);
        head.writeUInt16LE(params, 7);
        const parts: Buffer[] = [head];
        if (params) parts.push(...Array.from({ length: params }, () => columnDef('?', 0xfd)), eof());
        if (cols) parts.push(columnDef('c', 0xfe), eof());
        byStatement.set(id, cols ? BINARY_ROW : OK);
        out.push(response(parts));
      } else if (cmd === 0x17) {
        out.push(byStatement.get(payload.readUInt32LE(1)) ?? OK);
      } else if (cmd === 0x19) {
        byStatement.delete(payload.readUInt32LE(1)); // COM_STMT_CLOSE has no response
      } else {
        out.push(OK);
      }
    }
    if (out.length === 1) socket.write(out[0]);
    else if (out.length > 1) socket.write(Buffer.concat(out));
  });
}

/** Starts the ceiling responder on 127.0.0.1:`port` (0 = any free port). */
export async function startCeilingServer(port: number): Promise<{ server: Server; port: number }> {
  let conn = 0;
  const server = createServer((s) => serve(s, ++conn));
  server.maxConnections = 20_000;
  await new Promise<void>((res) => server.listen({ port, host: '127.0.0.1', backlog: 4096 }, res));
  const addr = server.address();
  return { server, port: typeof addr === 'object' && addr ? addr.port : port };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--port');
  const { port } = await startCeilingServer(i >= 0 ? Number(process.argv[i + 1]) : 0);
  process.stdout.write(`ceiling listening on 127.0.0.1:${port}\n`);
}
