/**
 * The admin HTTP API (fastify). `buildAdminApp` makes the app; `src/index.ts` calls `listen`, and
 * tests use `inject()`. Every `/api/*` route requires `Authorization: Bearer <token>` when a token
 * is configured. Errors use the catalog in src/errors.ts: `{ code, message, errno, sqlState }` with
 * the catalog's HTTP status (422 bodies add `reason: { clause, detail }`).
 */
import { timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { RotorError } from '../../errors.js';
import type { Value } from '../../values.js';

/** What the admin API needs from the rest of Rotor; src/index.ts supplies it. */
export interface AdminBackend {
  /** True once Rotor serves clients; /health answers 503 before and while stopping. */
  serving(): boolean;
  status(): Record<string, unknown>;
  caches: CacheAdmin | null;
  metrics?: () => Promise<{ contentType: string; body: string }>;
}

export interface CacheAdmin {
  register(req: { sql: string; name?: string; database?: string }): Promise<{ readonly id: string }>;
  list(): ReadonlyArray<object>;
  get(idOrName: string): object | null;
  drop(idOrName: string): boolean;
  evict(idOrName: string, keys: ReadonlyArray<ReadonlyArray<Value>> | 'all'): number;
  dot?(idOrName: string): string | null;
}

export interface AdminOptions {
  readonly token: string | null;
  readonly logger?: boolean;
}

function tokenMatches(header: string | undefined, token: string): boolean {
  if (!header?.startsWith('Bearer ')) return false;
  const given = Buffer.from(header.slice(7).trim());
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

function sendError(reply: FastifyReply, err: RotorError): FastifyReply {
  const body: Record<string, unknown> = { code: err.code, message: err.message, errno: err.errno, sqlState: err.sqlState };
  if (err.detail !== undefined) body.reason = err.detail;
  return reply.code(err.http).send(body);
}

function badRequest(detail: string): RotorError {
  return new RotorError('ERR_ADMIN_BAD_REQUEST', [detail]);
}

function cacheNotFound(id: string): RotorError {
  return new RotorError('ERR_CACHE_NOT_FOUND', [id]);
}

export function buildAdminApp(backend: AdminBackend, opts: AdminOptions): FastifyInstance {
  const app = Fastify({ logger: opts.logger ?? false, bodyLimit: 1 << 20 });

  app.setErrorHandler((err: Error, _req, reply) => {
    if (err instanceof RotorError) return sendError(reply, err);
    const status = (err as { statusCode?: number }).statusCode;
    if (status && status >= 400 && status < 500) return sendError(reply, badRequest(err.message));
    return sendError(reply, new RotorError('ERR_INTERNAL', [err.message]));
  });

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    if (!opts.token || !req.url.startsWith('/api/')) return;
    if (!tokenMatches(req.headers.authorization, opts.token)) {
      reply.header('www-authenticate', 'Bearer');
      return sendError(reply, new RotorError('ERR_ADMIN_UNAUTHORIZED'));
    }
  });

  app.get('/health', async (_req, reply) =>
    backend.serving() ? { status: 'ok' } : reply.code(503).send({ status: 'unavailable' }),
  );

  app.get('/api/status', async () => backend.status());

  if (backend.metrics) {
    const metrics = backend.metrics;
    app.get('/metrics', async (_req, reply) => {
      const m = await metrics();
      return reply.type(m.contentType).send(m.body);
    });
  }

  const caches = (): CacheAdmin => {
    if (!backend.caches) throw new RotorError('ERR_PROXY_NOT_SUPPORTED', ['caches without a running engine']);
    return backend.caches;
  };

  app.post('/api/caches', async (req, reply) => {
    const body = req.body as { sql?: unknown; name?: unknown; database?: unknown } | undefined;
    if (!body || typeof body.sql !== 'string' || !body.sql.trim()) throw badRequest('body must be JSON with a "sql" string');
    if (body.name !== undefined && typeof body.name !== 'string') throw badRequest('"name" must be a string');
    if (body.database !== undefined && typeof body.database !== 'string') throw badRequest('"database" must be a string');
    const info = await caches().register({ sql: body.sql, name: body.name, database: body.database });
    return reply.code(201).send(info);
  });

  app.get('/api/caches', async () => caches().list());

  app.get('/api/caches/:id', async (req) => {
    const { id } = req.params as { id: string };
    const info = caches().get(id);
    if (!info) throw cacheNotFound(id);
    return info;
  });

  app.delete('/api/caches/:id', async (req, reply) => {
    const { id } = req.params as { id: string };
    if (!caches().drop(id)) throw cacheNotFound(id);
    return reply.code(204).send();
  });

  app.post('/api/caches/:id/evict', async (req) => {
    const { id } = req.params as { id: string };
    const body = req.body as { keys?: unknown; all?: unknown } | undefined;
    let keys: ReadonlyArray<ReadonlyArray<Value>> | 'all';
    if (body?.all === true) keys = 'all';
    else if (Array.isArray(body?.keys) && body.keys.every((k) => Array.isArray(k))) keys = body.keys as Value[][];
    else throw badRequest('body must be { "keys": [[…], …] } or { "all": true }');
    if (!caches().get(id)) throw cacheNotFound(id);
    return { evicted: caches().evict(id, keys) };
  });

  app.get('/api/caches/:id/graph', async (req, reply) => {
    const { id } = req.params as { id: string };
    const dot = caches().dot?.(id);
    if (dot === undefined || dot === null) throw cacheNotFound(id);
    return reply.type('text/vnd.graphviz').send(dot);
  });

  return app;
}
