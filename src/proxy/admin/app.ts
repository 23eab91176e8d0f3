/**
 * The admin HTTP API (fastify). `buildAdminApp` makes the app; `src/index.ts` calls `listen`, and
 * tests use `inject()`. Every `/api/*` route requires `Authorization: Bearer <token>` when a token
 * is configured. Errors use the catalog in src/errors.ts: `{ code, message, errno, sqlState }` with
 * the catalog's HTTP status (422 bodies add `reason: { clause, detail }`). `GET /` is the dashboard
 * (src/proxy/admin/dashboard.ts), which needs no token: it holds no data, only the page that asks
 * for the token and then reads `/api/*`.
 */
import { timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { RotorError } from '../../errors.js';
import type { Value } from '../../values.js';
import { RegistrationLimit, type RegistrationLimits } from '../../views/registration-limit.js';
import { addDashboard } from './dashboard.js';
import type { HistorySample } from './history.js';

/** What the admin API needs from the rest of Rotor; src/index.ts supplies it. */
export interface AdminBackend {
  /** True once Rotor serves clients; /health answers 503 before and while stopping. */
  serving(): boolean;
  status(): Record<string, unknown>;
  caches: CacheAdmin | null;
  metrics?: () => Promise<{ contentType: string; body: string }>;
  /** The statements sessions send, with whether each can be cached (GET /api/queries). */
  queries?: (opts: { sort: 'total' | 'count' | 'p99'; limit: number; like?: string; supportedOnly: boolean }) => Promise<ReadonlyArray<object>>;
  /** The last minutes of lag, rates and memory, oldest first (GET /api/history; src/proxy/admin/history.ts). */
  history?: () => { readonly intervalMs: number; readonly samples: ReadonlyArray<HistorySample> };
}

export interface CacheAdmin {
  /** `created` false: the statement was cached already (that cache is the answer). */
  register(req: { sql: string; name?: string; database?: string; always?: boolean }): Promise<{ readonly id: string; readonly created?: boolean }>;
  list(): ReadonlyArray<object>;
  /** How many caches are registered (without describing each: registration stays flat in their number). */
  readonly count: number;
  get(idOrName: string): object | null;
  /** False when no such cache; rejects with a RotorError (ERR_REGISTRY_UNAVAILABLE: 503) when refused. */
  drop(idOrName: string): Promise<boolean>;
  evict(idOrName: string, keys: ReadonlyArray<ReadonlyArray<Value>> | 'all'): number;
  dot?(idOrName: string): string | null;
  /** HTTP reads (`--http-read`): a read token of the cache, shown once; null without such a cache. */
  createReadToken?(idOrName: string, label: string | null): { readonly token: string; readonly info: object } | null;
  /** The cache's read tokens (never the tokens themselves); null without such a cache. */
  readTokens?(idOrName: string): ReadonlyArray<object> | null;
  /** False without such a cache or token. */
  revokeReadToken?(idOrName: string, tokenId: string): boolean;
  /** Marks the cache readable over HTTP without credentials, or not; false without such a cache. */
  setPublic?(idOrName: string, on: boolean): boolean;
  /** Whether the cache is public; null without such a cache. */
  isPublic?(idOrName: string): boolean | null;
}

export interface AdminOptions {
  readonly token: string | null;
  /** Request logging (off by default); `stream` is where the lines go (tests read them). */
  readonly logger?: boolean | { readonly level?: string; readonly stream?: { write(line: string): void } };
  readonly registrations?: Partial<RegistrationLimits>;
  /** The limiter to share with the SQL port's CREATE CACHE (the engine's); else one of its own. */
  readonly limit?: RegistrationLimit;
  /** The registration limiter's clock, in milliseconds (tests). */
  readonly now?: () => number;
}

const BODY_LIMIT = 1 << 20;

/** MariaDB's longest identifier. */
const NAME = { type: 'string', minLength: 1, maxLength: 64 } as const;

const REGISTER_BODY = {
  type: 'object',
  required: ['sql'],
  additionalProperties: false,
  properties: { sql: { type: 'string', minLength: 1, maxLength: 65_536, pattern: '\\S' }, name: NAME, database: NAME, always: { type: 'boolean' } },
} as const;

const EVICT_BODY = {
  oneOf: [
    {
      type: 'object', required: ['keys'], additionalProperties: false,
      properties: { keys: { type: 'array', maxItems: 10_000, items: { type: 'array', maxItems: 64, items: { type: ['string', 'number', 'null'] } } } },
    },
    { type: 'object', required: ['all'], additionalProperties: false, properties: { all: { const: true } } },
  ],
} as const;

const QUERIES_QUERY = {
  type: 'object',
  additionalProperties: false,
  properties: {
    sort: { enum: ['total', 'count', 'p99'] },
    limit: { type: 'string', pattern: '^[1-9][0-9]{0,3}$' },
    like: { type: 'string', maxLength: 1024 },
    supported: { enum: ['true', 'false'] },
  },
} as const;

const ID_PARAMS = { type: 'object', properties: { id: { type: 'string', minLength: 1, maxLength: 256 } } } as const;

const TOKEN_PARAMS = { type: 'object', properties: { id: { type: 'string', minLength: 1, maxLength: 256 }, token: { type: 'string', minLength: 1, maxLength: 64 } } } as const;

const TOKEN_BODY = { type: 'object', additionalProperties: false, properties: { label: { type: 'string', maxLength: 200 } } } as const;

const PUBLIC_BODY = { type: 'object', required: ['public'], additionalProperties: false, properties: { public: { type: 'boolean' } } } as const;

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

/** Fastify's own errors (content type, JSON, schema, body size) as catalog errors. */
function fromFastify(err: FastifyError, req: FastifyRequest): RotorError {
  if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new RotorError('ERR_ADMIN_UNSUPPORTED_MEDIA_TYPE', [String(req.headers['content-type'] ?? '(none)').slice(0, 100)]);
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new RotorError('ERR_ADMIN_BODY_TOO_LARGE', [BODY_LIMIT]);
  const status = err.statusCode;
  if (status && status >= 400 && status < 500) return badRequest(err.message);
  return new RotorError('ERR_INTERNAL', [err.message]);
}

function loggerOptions(logger: AdminOptions['logger']): object | false {
  if (!logger) return false;
  const { level = 'info', stream } = logger === true ? {} : logger;
  return { level, ...(stream ? { stream } : {}), redact: ['req.headers.authorization', 'headers.authorization', 'authorization'] };
}

function cacheNotFound(id: string): RotorError {
  return new RotorError('ERR_CACHE_NOT_FOUND', [id]);
}

export function buildAdminApp(backend: AdminBackend, opts: AdminOptions): FastifyInstance {
  const app = Fastify({
    logger: loggerOptions(opts.logger),
    bodyLimit: BODY_LIMIT,
    // Exactly what the schemas say: no "5" for 5, no silently dropped properties.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false, allowUnionTypes: true } },
    frameworkErrors: (err, req, reply) => sendError(reply, fromFastify(err, req)),
  });
  // JSON only: a text/plain body is refused with 415 rather than handed to a route as a string.
  app.removeContentTypeParser('text/plain');
  const limit = opts.limit ?? new RegistrationLimit(opts.registrations, opts.now);

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof RotorError) return sendError(reply, err);
    return sendError(reply, fromFastify(err, req));
  });

  app.setNotFoundHandler((req, reply) => sendError(reply, new RotorError('ERR_ADMIN_NOT_FOUND', [req.method, req.url.slice(0, 200)])));

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

  if (backend.history) {
    const history = backend.history;
    app.get('/api/history', async () => history());
  }

  addDashboard(app);

  if (backend.metrics) {
    const metrics = backend.metrics;
    app.get('/metrics', async (_req, reply) => {
      const m = await metrics();
      return reply.type(m.contentType).send(m.body);
    });
  }

  if (backend.queries) {
    const queries = backend.queries;
    app.get('/api/queries', { schema: { querystring: QUERIES_QUERY } }, async (req) => {
      const q = req.query as { sort?: 'total' | 'count' | 'p99'; limit?: string; like?: string; supported?: string };
      return queries({ sort: q.sort ?? 'total', limit: q.limit === undefined ? 100 : Number(q.limit), supportedOnly: q.supported === 'true', ...(q.like === undefined ? {} : { like: q.like }) });
    });
  }

  const caches = (): CacheAdmin => {
    if (!backend.caches) throw new RotorError('ERR_PROXY_NOT_SUPPORTED', ['caches without a running engine']);
    return backend.caches;
  };

  app.post('/api/caches', { schema: { body: REGISTER_BODY } }, async (req, reply) => {
    const body = req.body as { sql: string; name?: string; database?: string; always?: boolean };
    const admin = caches();
    const refusal = limit.refusal(admin.count);
    if (refusal !== null) throw new RotorError('ERR_ADMIN_TOO_MANY_REGISTRATIONS', [refusal]);
    const info = await admin.register({ sql: body.sql, name: body.name, database: body.database, ...(body.always === true ? { always: true } : {}) });
    return reply.code(info.created === false ? 200 : 201).send(info);
  });

  app.get('/api/caches', async () => caches().list());

  app.get('/api/caches/:id', { schema: { params: ID_PARAMS } }, async (req) => {
    const { id } = req.params as { id: string };
    const info = caches().get(id);
    if (!info) throw cacheNotFound(id);
    return info;
  });

  app.delete('/api/caches/:id', { schema: { params: ID_PARAMS } }, async (req, reply) => {
    const { id } = req.params as { id: string };
    if (!(await caches().drop(id))) throw cacheNotFound(id);
    return reply.code(204).send();
  });

  app.post('/api/caches/:id/evict', { schema: { params: ID_PARAMS, body: EVICT_BODY } }, async (req) => {
    const { id } = req.params as { id: string };
    const body = req.body as { keys: Value[][] } | { all: true };
    const keys: ReadonlyArray<ReadonlyArray<Value>> | 'all' = 'all' in body ? 'all' : body.keys;
    if (!caches().get(id)) throw cacheNotFound(id);
    return { evicted: caches().evict(id, keys) };
  });

  app.get('/api/caches/:id/graph', { schema: { params: ID_PARAMS } }, async (req, reply) => {
    const { id } = req.params as { id: string };
    const dot = caches().dot?.(id);
    if (dot === undefined || dot === null) throw cacheNotFound(id);
    return reply.type('text/vnd.graphviz').send(dot);
  });

  // Reads over HTTP (`--http-read`, src/proxy/http-read/): read tokens and public marks per cache.
  const reads = <K extends 'createReadToken' | 'readTokens' | 'revokeReadToken' | 'setPublic' | 'isPublic'>(k: K): NonNullable<CacheAdmin[K]> => {
    const f = caches()[k];
    if (f === undefined) throw new RotorError('ERR_PROXY_NOT_SUPPORTED', ['HTTP reads without a running engine']);
    return f.bind(caches()) as NonNullable<CacheAdmin[K]>;
  };

  app.post('/api/caches/:id/tokens', { schema: { params: ID_PARAMS, body: TOKEN_BODY } }, async (req, reply) => {
    const { id } = req.params as { id: string };
    const body = (req.body ?? {}) as { label?: string };
    const made = reads('createReadToken')(id, body.label ?? null);
    if (made === null) throw cacheNotFound(id);
    return reply.code(201).send({ token: made.token, ...made.info });
  });

  app.get('/api/caches/:id/tokens', { schema: { params: ID_PARAMS } }, async (req) => {
    const { id } = req.params as { id: string };
    const list = reads('readTokens')(id);
    if (list === null) throw cacheNotFound(id);
    return list;
  });

  app.delete('/api/caches/:id/tokens/:token', { schema: { params: TOKEN_PARAMS } }, async (req, reply) => {
    const { id, token } = req.params as { id: string; token: string };
    if (!reads('revokeReadToken')(id, token)) throw new RotorError('ERR_CACHE_NOT_FOUND', [`${id} (or no read token ${token} of it)`]);
    return reply.code(204).send();
  });

  app.get('/api/caches/:id/public', { schema: { params: ID_PARAMS } }, async (req) => {
    const { id } = req.params as { id: string };
    const on = reads('isPublic')(id);
    if (on === null) throw cacheNotFound(id);
    return { public: on };
  });

  app.put('/api/caches/:id/public', { schema: { params: ID_PARAMS, body: PUBLIC_BODY } }, async (req) => {
    const { id } = req.params as { id: string };
    const { public: on } = req.body as { public: boolean };
    if (!reads('setPublic')(id, on)) throw cacheNotFound(id);
    return { public: on };
  });

  return app;
}
