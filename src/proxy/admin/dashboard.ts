/**
 * The dashboard at `GET /` of the admin port: a static page (src/proxy/admin/dashboard/: HTML, JS
 * modules, CSS; no build step) and Graphviz compiled to WebAssembly from the `@viz-js/viz`
 * package, which ships its wasm inside its one ES module file. These hold no data, so they load
 * without the admin token; the page asks for the token and sends it on its `/api/*` fetches.
 *
 * Only the files listed here are served (no path from a request reaches the file system). Each is
 * read once, on its first request, and answered with an ETag so a reload costs a 304. Every answer
 * carries a Content-Security-Policy that allows scripts, styles and fetches from the admin port
 * only, plus `wasm-unsafe-eval` for Graphviz's WebAssembly: no inline script, no other origin.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

const PAGE_DIR = fileURLToPath(new URL('./dashboard/', import.meta.url));

const TYPES = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
} as const;

type Kind = keyof typeof TYPES;

export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** `@viz-js/viz`'s ES module (its `require` entry is dist/viz.cjs; the module sits beside it). */
function vizModulePath(): string {
  return join(dirname(createRequire(import.meta.url).resolve('@viz-js/viz')), 'viz.js');
}

/** URL path → file and kind. */
function assets(): Map<string, { readonly file: string; readonly kind: Kind }> {
  const page = (name: string, kind: Kind) => ({ file: join(PAGE_DIR, name), kind });
  return new Map([
    ['/', page('index.html', 'html')],
    ['/dashboard/style.css', page('style.css', 'css')],
    ['/dashboard/favicon.svg', page('favicon.svg', 'svg')],
    ...['app', 'api', 'charts', 'tables', 'graph', 'format'].map((m): [string, { file: string; kind: Kind }] => [`/dashboard/${m}.js`, page(`${m}.js`, 'js')]),
    ['/dashboard/vendor/viz.js', { file: vizModulePath(), kind: 'js' }],
  ]);
}

interface Loaded {
  readonly body: Buffer;
  readonly etag: string;
}

/** Adds the dashboard's routes to the admin app. */
export function addDashboard(app: FastifyInstance): void {
  const loaded = new Map<string, Promise<Loaded>>();
  const load = (file: string): Promise<Loaded> => {
    let p = loaded.get(file);
    if (p === undefined) {
      p = readFile(file).then((body) => ({ body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` }));
      // A failed read is tried again on the next request, not remembered.
      p.catch(() => loaded.delete(file));
      loaded.set(file, p);
    }
    return p;
  };
  for (const [url, { file, kind }] of assets()) {
    app.get(url, async (req: FastifyRequest, reply: FastifyReply) => {
      const { body, etag } = await load(file);
      reply
        .header('content-security-policy', DASHBOARD_CSP)
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        .header('cache-control', 'no-cache')
        .header('etag', etag);
      if (req.headers['if-none-match'] === etag) return reply.code(304).send();
      return reply.type(TYPES[kind]).send(body);
    });
  }
}
