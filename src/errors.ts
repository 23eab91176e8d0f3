/**
 * The error catalog: every error Rotor itself raises, with its MySQL errno, SQLSTATE, message
 * template and HTTP status. Upstream errors are never re-coded: they reach the client unchanged.
 *
 * Three families, never mixed (STYLE.md): "cannot be cached" is control flow (the statement goes
 * upstream, the reason recorded); a bug is `invariant()`; an upstream error is relayed as is.
 * docs/errors.md lists the same codes; test/errors.test.ts checks that they agree.
 */

export interface ErrorSpec {
  readonly errno: number;
  readonly sqlState: string;
  readonly message: string;
  readonly http: number;
}

export const ERRORS = {
  ERR_PROXY_UNKNOWN_COMMAND: { errno: 1047, sqlState: '08S01', message: 'Unknown command', http: 400 },
  ERR_PROXY_MALFORMED_PACKET: { errno: 1835, sqlState: 'HY000', message: 'Malformed communication packet', http: 400 },
  ERR_PROXY_PACKET_TOO_LARGE: { errno: 1153, sqlState: '08S01', message: "Got a packet bigger than 'max_allowed_packet' bytes", http: 413 },
  ERR_PROXY_UPSTREAM_CONNECT: { errno: 2003, sqlState: 'HY000', message: "Can't connect to the upstream server: %s", http: 503 },
  ERR_PROXY_NOT_SUPPORTED: { errno: 1235, sqlState: '42000', message: 'Rotor does not support %s', http: 501 },
  ERR_PROXY_TOO_MANY_CONNECTIONS: { errno: 1040, sqlState: '08004', message: 'Too many connections', http: 503 },
  ERR_PROXY_HANDSHAKE: { errno: 1043, sqlState: '08S01', message: 'Bad handshake', http: 400 },
  ERR_PROXY_SHUTTING_DOWN: { errno: 1053, sqlState: '08S01', message: 'Server shutdown in progress', http: 503 },
  ERR_CACHE_PARSE: { errno: 1064, sqlState: '42000', message: 'The query could not be parsed: %s', http: 400 },
  ERR_CACHE_UNSUPPORTED: { errno: 1235, sqlState: '42000', message: 'The query cannot be cached: %s', http: 422 },
  ERR_CACHE_UNKNOWN_TABLE: { errno: 1146, sqlState: '42S02', message: "Table '%s' doesn't exist", http: 404 },
  ERR_CACHE_UNKNOWN_COLUMN: { errno: 1054, sqlState: '42S22', message: "Unknown column '%s' in '%s'", http: 404 },
  ERR_CACHE_ACCESS_DENIED: { errno: 1227, sqlState: '42000', message: 'Access denied; you need (at least one of) the PROCESS privilege(s) for this operation', http: 403 },
  ERR_CACHE_TEMPORARY_TABLE: { errno: 1235, sqlState: '42000', message: 'A temporary table of this session shadows %s: cache commands refuse it', http: 409 },
  ERR_CACHE_EXISTS: { errno: 1050, sqlState: '42S01', message: 'The query is already cached, as %s', http: 409 },
  ERR_CACHE_ALWAYS_DIFFERS: { errno: 1050, sqlState: '42S01', message: 'The query is already cached, as %s, %s ALWAYS: drop it to register it otherwise', http: 409 },
  ERR_PROXIED_NOT_FOUND: { errno: 1146, sqlState: '42S02', message: 'No proxied query with id %s', http: 404 },
  ERR_CACHE_NOT_FOUND: { errno: 1146, sqlState: '42S02', message: 'No cache with id %s', http: 404 },
  ERR_CACHE_FILL_FAILED: { errno: 1105, sqlState: 'HY000', message: 'Filling the cache failed: %s', http: 502 },
  ERR_ADMIN_UNAUTHORIZED: { errno: 1045, sqlState: '28000', message: 'A valid bearer token is required', http: 401 },
  ERR_ADMIN_BAD_REQUEST: { errno: 1064, sqlState: '42000', message: 'Bad request: %s', http: 400 },
  ERR_ADMIN_NOT_FOUND: { errno: 1047, sqlState: '08S01', message: 'No route %s %s', http: 404 },
  ERR_ADMIN_UNSUPPORTED_MEDIA_TYPE: { errno: 1235, sqlState: '42000', message: 'Unsupported content type %s: send application/json', http: 415 },
  ERR_ADMIN_BODY_TOO_LARGE: { errno: 1153, sqlState: '08S01', message: 'The request body is larger than %s bytes', http: 413 },
  ERR_ADMIN_TOO_MANY_REGISTRATIONS: { errno: 1226, sqlState: '42000', message: 'Cache registration refused: %s', http: 429 },
  ERR_REGISTRY_UNAVAILABLE: { errno: 1836, sqlState: 'HY000', message: 'The shared cache registry (%s) is unreachable: caches cannot be registered or dropped until it is back', http: 503 },
  ERR_HTTP_UNAUTHORIZED: { errno: 1045, sqlState: '28000', message: 'Access denied: send a MySQL account (HTTP Basic) or a read token of the cache (Bearer)', http: 401 },
  ERR_HTTP_TOKEN_INVALID: { errno: 1045, sqlState: '28000', message: 'Access denied: the read token is not valid (revoked, or its cache dropped)', http: 401 },
  ERR_HTTP_TOKEN_OTHER_CACHE: { errno: 1142, sqlState: '42000', message: 'Access denied: the read token is for another cache than %s', http: 403 },
  ERR_HTTP_ACCESS_DENIED: { errno: 1142, sqlState: '42000', message: "SELECT command denied to user '%s' for cache %s", http: 403 },
  ERR_HTTP_TOO_MANY_FAILURES: { errno: 1129, sqlState: 'HY000', message: 'Host %s is blocked because of %s failed logins: try again in %s s', http: 429 },
  ERR_HTTP_LOGINS_BUSY: { errno: 1040, sqlState: '08004', message: 'Too many logins being checked at once: try again', http: 503 },
  ERR_HTTP_UPSTREAM_UNREACHABLE: { errno: 2003, sqlState: 'HY000', message: "Can't check the login: the upstream is out of reach (%s)", http: 503 },
  ERR_HTTP_BAD_KEY: { errno: 1210, sqlState: 'HY000', message: 'Incorrect key for cache %s: %s', http: 400 },
  ERR_HTTP_BAD_JSON: { errno: 1064, sqlState: '42000', message: 'Malformed request body: %s', http: 400 },
  ERR_HTTP_BAD_REQUEST: { errno: 1064, sqlState: '42000', message: 'Bad request: %s', http: 400 },
  ERR_HTTP_UNSUPPORTED_MEDIA_TYPE: { errno: 1235, sqlState: '42000', message: 'Unsupported content type %s: send application/json', http: 415 },
  ERR_HTTP_BODY_TOO_LARGE: { errno: 1153, sqlState: '08S01', message: 'The request body is larger than %s bytes', http: 413 },
  ERR_HTTP_NOT_FOUND: { errno: 1047, sqlState: '08S01', message: 'No route %s %s', http: 404 },
  ERR_HTTP_METHOD_NOT_ALLOWED: { errno: 1047, sqlState: '08S01', message: 'Method %s is not allowed on %s', http: 405 },
  ERR_HTTP_UNAVAILABLE: { errno: 1105, sqlState: 'HY000', message: 'Cache %s cannot answer now: %s', http: 503 },
  ERR_CONFIG_INVALID: { errno: 1210, sqlState: 'HY000', message: 'Invalid configuration: %s', http: 400 },
  ERR_BINLOG_REQUIREMENT: { errno: 1236, sqlState: 'HY000', message: 'The upstream does not meet a binlog requirement: %s', http: 503 },
  ERR_INTERNAL: { errno: 1105, sqlState: 'HY000', message: 'Internal error: %s', http: 500 },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/** An error from the catalog, carrying what the MySQL and HTTP fronts need to report it. */
export class RotorError extends Error {
  readonly code: ErrorCode;
  readonly errno: number;
  readonly sqlState: string;
  readonly http: number;
  readonly detail: unknown;

  constructor(code: ErrorCode, args: ReadonlyArray<string | number> = [], detail?: unknown) {
    const spec: ErrorSpec = ERRORS[code];
    let i = 0;
    super(spec.message.replace(/%s/g, () => String(args[i++] ?? '')));
    this.name = 'RotorError';
    this.code = code;
    this.errno = spec.errno;
    this.sqlState = spec.sqlState;
    this.http = spec.http;
    this.detail = detail;
  }
}

/** Asserts something that only a bug can make false. */
export function invariant(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new RotorError('ERR_INTERNAL', [msg]);
}
