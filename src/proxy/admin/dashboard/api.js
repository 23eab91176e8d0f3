// The admin API as the page uses it. The token, when Rotor asks for one, is kept in
// sessionStorage: entered once per tab, sent as a bearer token on every /api/* fetch, and gone
// when the tab closes.

const TOKEN_KEY = 'rotor.adminToken';

/** The API answered 401: no token, or not the right one. */
export class Unauthorized extends Error {}

/** Any other error answer, with the catalog's `{ code, message }` when the body had them. */
export class ApiError extends Error {
  constructor(status, body) {
    const detail = body && typeof body === 'object' ? `${body.code ?? status}: ${body.message ?? ''}` : `HTTP ${status}`;
    super(detail);
    this.status = status;
    this.body = body;
  }
}

export function setToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function clearToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

export function hasToken() {
  return sessionStorage.getItem(TOKEN_KEY) !== null;
}

/**
 * JSON (or text, for a non-JSON answer) from `path`; throws Unauthorized or ApiError.
 * @param {string} path
 * @param {{ method?: string, body?: unknown }} [opts]
 */
export async function api(path, { method = 'GET', body } = {}) {
  const headers = { accept: 'application/json' };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  const text = await res.text();
  const json = (res.headers.get('content-type') ?? '').includes('application/json');
  const data = text !== '' && json ? JSON.parse(text) : text;
  if (res.status === 401) throw new Unauthorized(data?.message ?? 'unauthorized');
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}
