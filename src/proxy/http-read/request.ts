/**
 * What an HTTP read request says, parsed with as little work as the hot path allows: the route
 * (`/v1/caches/:name` and `/v1/caches/:name/lookup`), the query string's pairs, the Authorization
 * header, and a lookup's JSON body. Every malformed input is a catalog error, never a throw.
 */
import { RotorError } from '../../errors.js';
import { intValue } from '../../values.js';
import type { KeyRequest, KeyValue, ReadCredentials } from '../read-router.js';

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

/** A JSON number token (JSON's grammar), read where the scan of a body stands. */
const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?/y;

/**
 * The number tokens of `body` (JSON that parsed), in the order they are written: JSON.parse keeps
 * only each number's nearest double, and a number's digits are its meaning here.
 */
function numberTexts(body: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (c === 0x22 /* " */) {
      for (i++; i < body.length && body.charCodeAt(i) !== 0x22; i++) if (body.charCodeAt(i) === 0x5c /* \ */) i++;
    } else if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(body);
      if (m === null) break;
      out.push(m[0]);
      i += m[0].length - 1;
    }
  }
  return out;
}

/**
 * A JSON number as the SQL literal of the same text ([note: http-keys]): digits alone are an
 * integer, exact at any size (a number while exact as one, else a bigint); with a fraction or an
 * exponent, its text, marked as a number.
 */
function numberValue(text: string): KeyValue {
  return /[.eE]/.test(text) ? { number: text } : intValue(text);
}

/**
 * A lookup's body, `{"keys": [[v, …], …]}`: each key the cache's parameters in order, each value a
 * string, a number or null. A number is the SQL literal written as it is ([note: http-keys]): `42`
 * and `12345678901234567890` integers, `1.50` the DECIMAL 1.50, `1e3` the DOUBLE 1e3 (never a
 * string, nor the double JSON.parse would make of it). Each key is kept as its JSON, numbers in
 * their own digits, to echo it in the answer.
 */
export function lookupKeys(body: string): { readonly request: KeyRequest; readonly given: ReadonlyArray<string> } | RotorError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (e) {
    return new RotorError('ERR_HTTP_BAD_JSON', [(e as Error).message.slice(0, 200)]);
  }
  const keys = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as { keys?: unknown }).keys : undefined;
  if (!Array.isArray(keys) || Object.keys(parsed as object).length !== 1) return new RotorError('ERR_HTTP_BAD_JSON', ['expected {"keys": [[value, …], …]}']);
  const texts = numberTexts(body);
  let n = 0;
  const out: KeyValue[][] = [];
  const given: string[] = [];
  for (const k of keys) {
    if (!Array.isArray(k)) return new RotorError('ERR_HTTP_BAD_JSON', ['each key is an array of the cache\'s parameter values, in order']);
    const row: KeyValue[] = [];
    const echo: string[] = [];
    for (const v of k) {
      if (typeof v === 'string' || v === null) {
        row.push(v);
        echo.push(JSON.stringify(v));
      } else if (typeof v === 'number') {
        const text = texts[n++];
        // Numbers elsewhere in the body (a member named twice) would put the texts out of step.
        if (text === undefined || Number(text) !== v) return new RotorError('ERR_HTTP_BAD_JSON', ['expected {"keys": [[value, …], …]}, "keys" once']);
        row.push(numberValue(text));
        echo.push(text);
      } else return new RotorError('ERR_HTTP_BAD_JSON', [`a key value is a string, a number or null, not ${Array.isArray(v) ? 'an array' : typeof v}`]);
    }
    out.push(row);
    given.push(`[${echo.join(',')}]`);
  }
  if (n !== texts.length) return new RotorError('ERR_HTTP_BAD_JSON', ['expected {"keys": [[value, …], …]}, "keys" once']);
  return { request: { kind: 'keys', keys: out }, given };
}
