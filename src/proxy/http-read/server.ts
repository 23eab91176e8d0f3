/**
 * The HTTP read listener (`--http-read HOST:PORT`): caches read by key as JSON, without a MySQL
 * driver, on a port of its own (the admin API stays where it is). node:http directly, not fastify:
 * the routes are two fixed paths that need no schema, hook or plugin, and the body limit, the 413
 * that closes the connection and the error bodies are simplest written by hand. Not for speed:
 * bench/http.ts measured the two answering a constant JSON at the same CPU per request (fastify
 * 1.02× node:http), so either would do.
 *
 *   GET  /v1/caches/:name?key=42             one key (parameters by position or by column name)
 *   POST /v1/caches/:name/lookup             {"keys": [[42], [43]]}: several keys
 *   GET  /v1/health                          200 while serving
 *
 * Every answer carries the binlog position and GTID the view had applied when it was read
 * (`Rotor-Binlog-Position`, `Rotor-Gtid`), the stream's lag (`Rotor-Lag-Ms`), a strong `ETag`
 * that changes whenever the key's rows do (`If-None-Match` → 304), and `Cache-Control: no-cache`
 * (a client or cache may keep the answer but revalidates it each time, which costs a 304).
 * Keep-alive is on; an answer is written with one `end()` of bytes encoded when the key last
 * changed ([note: derived-answer]). Errors are JSON, `{"error": {code, message, errno, sqlState}}`,
 * with the catalog's HTTP status.
 */
import { createHash } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { RotorError } from '../../errors.js';
import type { KeyReadAnswer, KeyReadError, KeyReadRouter, KeyRequest, ReadCredentials } from '../read-router.js';
import { FailureLimit } from './failure-limit.js';
import { credentials, lookupKeys, queryPairs, route } from './request.js';

/** What the answer reflects: the binlog the views have applied (src/binlog/stream.ts `status()`). */
export interface ReadPosition {
  readonly file: string | null;
  readonly position: number | null;
  readonly gtid: string | null;
  readonly lagMs: number | null;
}

export interface HttpReadOptions {
  readonly listen: { readonly host: string; readonly port: number };
  readonly router: KeyReadRouter;
  readonly position: () => ReadPosition;
  /** PEM certificate and key: HTTPS instead of HTTP. */
  readonly tls?: { readonly cert: string; readonly key: string } | null;
  readonly maxClients?: number;
  /** A lookup's body, at most (bytes). Default {@link MAX_BODY}. */
  readonly maxBody?: number;
  readonly logger: Logger;
  /** Failed logins per client address (tests give their own clock). */
  readonly failures?: FailureLimit;
}

/** A lookup's body at most, by default: a thousand keys of a few values each. */
export const MAX_BODY = 256 * 1024;

const JSON_TYPE = 'application/json; charset=utf-8';
const WWW_AUTHENTICATE = 'Basic realm="rotor", charset="UTF-8", Bearer';

export interface HttpReadServer {
  readonly server: Server;
  listen(): Promise<{ host: string; port: number }>;
  close(): Promise<void>;
}

function errorBody(e: RotorError | KeyReadError): Buffer {
  const code = e instanceof RotorError ? e.code : e.code;
  return Buffer.from(JSON.stringify({ error: { code, message: e.message, errno: e.errno, sqlState: e.sqlState } }));
}

/** Whether `If-None-Match` names `etag` (or `*`). */
function notModified(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header === etag || header.trim() === '*') return true;
  for (const t of header.split(',')) {
    const x = t.trim();
    if (x === etag || x === `W/${etag}`) return true;
  }
  return false;
}

export function createHttpReadServer(opts: HttpReadOptions): HttpReadServer {
  const { router, log } = { router: opts.router, log: opts.logger };
  const failures = opts.failures ?? new FailureLimit();
  const maxBody = opts.maxBody ?? MAX_BODY;

  const sendError = (res: ServerResponse, e: RotorError | KeyReadError, extra: Record<string, string | number> = {}): void => {
    if (res.headersSent || res.destroyed) return;
    const body = errorBody(e);
    res.writeHead(e.http, { 'content-type': JSON_TYPE, 'content-length': body.length, 'cache-control': 'no-store', ...extra, ...(e.http === 401 ? { 'www-authenticate': WWW_AUTHENTICATE } : {}) });
    res.end(body);
  };

  const sendRows = (req: IncomingMessage, res: ServerResponse, name: string, a: KeyReadAnswer, given: ReadonlyArray<string> | null): void => {
    if (res.destroyed) return;
    // Read in the same tick as the rows were: no batch is applied in between. [note: hot-path]
    const p = opts.position();
    let body: Buffer;
    let etag: string;
    if (given === null) {
      const k = a.keys[0];
      etag = k.etag;
      body = Buffer.concat([Buffer.from(`{"cache":${JSON.stringify(name)},"columns":${a.columns},"rows":`), k.json, CLOSE]);
    } else {
      const h = createHash('sha1');
      const parts: Buffer[] = [Buffer.from(`{"cache":${JSON.stringify(name)},"columns":${a.columns},"results":[`)];
      for (let i = 0; i < a.keys.length; i++) {
        h.update(a.keys[i].etag);
        parts.push(Buffer.from(`${i === 0 ? '' : ','}{"key":${given[i]},"rows":`), a.keys[i].json, CLOSE);
      }
      parts.push(CLOSE_LIST);
      body = Buffer.concat(parts);
      etag = `"k${a.keys.length}-${h.digest('base64url')}"`;
    }
    const headers: Record<string, string | number> = {
      'content-type': JSON_TYPE,
      etag,
      'cache-control': a.public ? 'public, no-cache' : 'private, no-cache',
      'rotor-lag-ms': p.lagMs === null ? 'unknown' : String(Math.round(p.lagMs)),
    };
    if (p.file !== null && p.position !== null) headers['rotor-binlog-position'] = `${p.file}:${p.position}`;
    if (p.gtid !== null) headers['rotor-gtid'] = p.gtid;
    if (notModified(req.headers['if-none-match'], etag)) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    headers['content-length'] = body.length;
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
  };

  /** Asks the router, then answers; counts a refused login of `source`. */
  const answer = (req: IncomingMessage, res: ServerResponse, name: string, keys: KeyRequest, cred: ReadCredentials, source: string, given: ReadonlyArray<string> | null): void => {
    const done = (r: KeyReadAnswer | KeyReadError): void => {
      if (r.kind === 'rows') return sendRows(req, res, name, r, given);
      if (r.http === 401 && cred.kind !== 'none') failures.fail(source);
      sendError(res, r);
    };
    const r = router.read(name, keys, cred, source);
    if (r instanceof Promise) {
      r.then(done, (e: unknown) => {
        log.warn({ err: e }, 'an HTTP read failed');
        sendError(res, new RotorError('ERR_INTERNAL', [e instanceof Error ? e.message : String(e)]));
      });
    } else done(r);
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const r = route(req.method ?? 'GET', req.url ?? '/');
    if (r instanceof RotorError) return sendError(res, r, r.http === 405 ? { allow: req.url?.includes('/lookup') ? 'POST' : 'GET, HEAD' } : {});
    if (r.kind === 'health') {
      res.writeHead(200, { 'content-type': JSON_TYPE, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : '{"status":"ok"}');
      return;
    }
    const source = req.socket.remoteAddress ?? 'unknown';
    const wait = failures.blockedFor(source);
    if (wait > 0) return sendError(res, new RotorError('ERR_HTTP_TOO_MANY_FAILURES', [source, failures.maxFailures, wait]), { 'retry-after': wait });
    const cred = credentials(req.headers.authorization);
    if (cred instanceof RotorError) {
      failures.fail(source);
      return sendError(res, cred);
    }
    if (r.kind === 'get') {
      const keys = queryPairs(r.query);
      if (keys instanceof RotorError) return sendError(res, keys);
      return answer(req, res, r.cache, keys, cred, source, null);
    }
    const type = req.headers['content-type'] ?? '';
    if (!/^application\/json\s*(;|$)/i.test(type)) {
      req.resume();
      return sendError(res, new RotorError('ERR_HTTP_UNSUPPORTED_MEDIA_TYPE', [String(type || '(none)').slice(0, 100)]));
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > maxBody) return tooLarge(req, res);
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBody) {
        req.removeAllListeners('data');
        tooLarge(req, res);
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (size > maxBody || res.headersSent) return;
      const parsed = lookupKeys(Buffer.concat(chunks).toString('utf8'));
      if (parsed instanceof RotorError) return sendError(res, parsed);
      answer(req, res, r.cache, parsed.request, cred, source, parsed.given);
    });
    req.on('error', () => res.destroy());
  };

  /** 413, and the connection closes: the rest of the body is not read. */
  const tooLarge = (req: IncomingMessage, res: ServerResponse): void => {
    sendError(res, new RotorError('ERR_HTTP_BODY_TOO_LARGE', [maxBody]), { connection: 'close' });
    res.on('finish', () => req.socket.destroySoon());
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    try {
      handle(req, res);
    } catch (e) {
      log.warn({ err: e }, 'an HTTP read failed');
      sendError(res, new RotorError('ERR_INTERNAL', [e instanceof Error ? e.message : String(e)]));
    }
  };

  const serverOpts = { noDelay: true, keepAlive: true, requestTimeout: 30_000, headersTimeout: 10_000 };
  const server: Server = opts.tls
    ? createHttpsServer({ ...serverOpts, cert: opts.tls.cert, key: opts.tls.key }, onRequest)
    : createHttpServer(serverOpts, onRequest);
  server.keepAliveTimeout = 65_000;
  if (opts.maxClients !== undefined) server.maxConnections = opts.maxClients;
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy();
  });

  return {
    server,
    listen: () => new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.listen.port, opts.listen.host, () => {
        server.off('error', reject);
        const a = server.address() as AddressInfo;
        resolve({ host: opts.listen.host, port: a.port });
      });
    }),
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

const CLOSE = Buffer.from('}');
const CLOSE_LIST = Buffer.from(']}');
