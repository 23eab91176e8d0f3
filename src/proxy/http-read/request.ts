/**
 * What an HTTP read request says, parsed with as little work as the hot path allows: the route
 * (`/v1/caches/:name` and `/v1/caches/:name/lookup`), the query string's pairs, the Authorization
 * header, and a lookup's JSON body. Every malformed input is a catalog error, never a throw.
 */
import { RotorError } from '../../errors.js';
import type { Value } from '../../values.js';
import type { KeyRequest, ReadCredentials } from '../read-router.js';

export type Route =
  | { readonly kind: 'get'; readonly cache: string; readonly query: string }
  | { readonly kind: 'lookup'; readonly cache: string }
  | { readonly kind: 'health' };

const PREFIX = '/v1/caches/';

/** `%xx` and `+` decoded (form encoding); null when malformed. */
function decode(s: string): string | null {
  if (s.indexOf('%') < 0 && s.indexOf('+') < 0) return s;
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return null;
  }
}

/** The route of a request target, or an error (404 for an unknown path, 405 for a method it does not take). */
export function route(method: string, url: string): Route | RotorError {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  if (path === '/v1/health') return method === 'GET' || method === 'HEAD' ? { kind: 'health' } : new RotorError('ERR_HTTP_METHOD_NOT_ALLOWED', [method, path]);
  if (!path.startsWith(PREFIX)) return new RotorError('ERR_HTTP_NOT_FOUND', [method, path.slice(0, 200)]);
  const rest = path.slice(PREFIX.length);
  const slash = rest.indexOf('/');
  const rawName = slash < 0 ? rest : rest.slice(0, slash);
  const tail = slash < 0 ? '' : rest.slice(slash);
  const cache = decode(rawName);
  if (cache === null || cache === '' || cache.length > 256) return new RotorError('ERR_HTTP_BAD_REQUEST', ['the cache name in the path is empty, too long or badly escaped']);
  if (tail === '' ) {
    if (method !== 'GET' && method !== 'HEAD') return new RotorError('ERR_HTTP_METHOD_NOT_ALLOWED', [method, path.slice(0, 200)]);
    return { kind: 'get', cache, query: q < 0 ? '' : url.slice(q + 1) };
  }
  if (tail === '/lookup') {
    if (method !== 'POST') return new RotorError('ERR_HTTP_METHOD_NOT_ALLOWED', [method, path.slice(0, 200)]);
    return { kind: 'lookup', cache };
  }
  return new RotorError('ERR_HTTP_NOT_FOUND', [method, path.slice(0, 200)]);
}

/** A query string's `name=value` pairs, in order, decoded; an error for a malformed one. */
export function queryPairs(query: string): KeyRequest | RotorError {
  const pairs: Array<readonly [string, string]> = [];
  if (query === '') return { kind: 'query', pairs };
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const k = decode(eq < 0 ? part : part.slice(0, eq));
    const v = decode(eq < 0 ? '' : part.slice(eq + 1));
    if (k === null || v === null) return new RotorError('ERR_HTTP_BAD_REQUEST', ['the query string is badly escaped']);
    pairs.push([k, v]);
    if (pairs.length > 64) return new RotorError('ERR_HTTP_BAD_REQUEST', ['more than 64 query parameters']);
  }
  return { kind: 'query', pairs };
}

/** The credentials of an Authorization header (none without one); an error for one that cannot be read. */
export function credentials(header: string | undefined): ReadCredentials | RotorError {
  if (header === undefined || header === '') return NONE;
  const sp = header.indexOf(' ');
  const scheme = (sp < 0 ? header : header.slice(0, sp)).toLowerCase();
  const value = sp < 0 ? '' : header.slice(sp + 1).trim();
  if (scheme === 'bearer' && value !== '') return { kind: 'bearer', token: value };
  if (scheme === 'basic' && value !== '') {
    const text = Buffer.from(value, 'base64').toString('utf8');
    const colon = text.indexOf(':');
    if (colon > 0) return { kind: 'basic', user: text.slice(0, colon), password: text.slice(colon + 1) };
  }
  return new RotorError('ERR_HTTP_UNAUTHORIZED');
}

const NONE: ReadCredentials = Object.freeze({ kind: 'none' });

/**
 * A lookup's body, `{"keys": [[v, …], …]}`: each key the cache's parameters in order, each value a
 * string, a number or null. A number is what the same number written in the statement would be:
 * an integer as an integer (beyond 2^53 it must be sent as a string, which JSON numbers cannot
 * carry exactly), any other as its decimal text (`1.5` as the literal 1.5 is read). The keys as
 * given are kept to echo them in the answer.
 */
export function lookupKeys(body: string): { readonly request: KeyRequest; readonly given: ReadonlyArray<unknown> } | RotorError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (e) {
    return new RotorError('ERR_HTTP_BAD_JSON', [(e as Error).message.slice(0, 200)]);
  }
  const keys = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as { keys?: unknown }).keys : undefined;
  if (!Array.isArray(keys) || Object.keys(parsed as object).length !== 1) return new RotorError('ERR_HTTP_BAD_JSON', ['expected {"keys": [[value, …], …]}']);
  const out: Value[][] = [];
  for (const k of keys) {
    if (!Array.isArray(k)) return new RotorError('ERR_HTTP_BAD_JSON', ['each key is an array of the cache\'s parameter values, in order']);
    const row: Value[] = [];
    for (const v of k) {
      if (typeof v === 'string' || v === null) row.push(v);
      else if (typeof v === 'number') {
        if (Number.isInteger(v) && !Number.isSafeInteger(v)) return new RotorError('ERR_HTTP_BAD_JSON', [`${v} is beyond 2^53: send it as a string`]);
        row.push(Number.isInteger(v) ? v : String(v));
      } else return new RotorError('ERR_HTTP_BAD_JSON', [`a key value is a string, a number or null, not ${Array.isArray(v) ? 'an array' : typeof v}`]);
    }
    out.push(row);
  }
  return { request: { kind: 'keys', keys: out }, given: keys };
}
