/**
 * The ceiling of an HTTP JSON endpoint on this machine, per framework: a tiny server answering
 * `GET /v1/caches/:name?key=N` with a constant pre-encoded JSON body of a point read's size (and
 * the same headers Rotor sends), over node:http or over fastify. What the two cost per request is
 * what choosing one or the other costs on Rotor's HTTP read path. Run as its own process:
 *   node --import tsx bench/lib/http-ceiling.ts --framework node|fastify --port 8099
 */
import { createServer } from 'node:http';
import Fastify from 'fastify';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
};
const framework = arg('framework') ?? 'node';
const port = Number(arg('port') ?? 8099);
const BODY = Buffer.from(JSON.stringify({ cache: 'q_ceiling', columns: [{ name: 'c', type: 'CHAR' }], rows: [{ c: 'ceiling-'.padEnd(119, 'x') }] }));
const HEADERS = {
  'content-type': 'application/json; charset=utf-8', etag: '"ceilingceilingceilingceiling"', 'cache-control': 'private, no-cache',
  'rotor-lag-ms': '0', 'rotor-binlog-position': 'mariadb-bin.000001:1234', 'rotor-gtid': '0-1-1',
};

if (framework === 'fastify') {
  const app = Fastify({ logger: false });
  app.get('/v1/caches/:name', async (req, reply) => {
    const key = (req.query as { key?: string }).key;
    if (key === undefined) return reply.code(400).send({ error: 'key' });
    return reply.headers(HEADERS).send(BODY);
  });
  await app.listen({ host: '127.0.0.1', port });
} else {
  const server = createServer({ noDelay: true, keepAlive: true }, (req, res) => {
    if (!(req.url ?? '').startsWith('/v1/caches/')) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { ...HEADERS, 'content-length': BODY.length });
    res.end(BODY);
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
}
process.stdout.write(`listening ${framework} ${port}\n`);
