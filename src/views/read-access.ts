/**
 * Who may read a cache over HTTP without a MySQL account: per-cache read tokens, and caches marked
 * public, both given through the admin API. A token is 32 random bytes; only its SHA-256 is kept
 * (the token itself is shown once, when it is made), so a dump of Rotor's memory or of the admin
 * API does not give it away. A token reads its one cache; revoking it, or dropping the cache, ends
 * it at once. Kept in this process's memory: a restart forgets tokens and public marks (README).
 */
import { createHash, randomBytes } from 'node:crypto';

/** A token as the admin API shows it (never the token itself, after its creation). */
export interface ReadTokenInfo {
  readonly id: string;
  readonly cacheId: string;
  readonly label: string | null;
  readonly createdAt: string;
}

/** Tokens kept at most, over every cache. */
export const MAX_READ_TOKENS = 10_000;

const PREFIX = 'rtk_';

function digest(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

export class ReadAccess {
  /** SHA-256 of a token → what it grants. */
  readonly #tokens = new Map<string, ReadTokenInfo>();
  readonly #public = new Set<string>();

  /** A new token for the cache: the token (shown once) and its description; null when too many are kept. */
  create(cacheId: string, label: string | null): { readonly token: string; readonly info: ReadTokenInfo } | null {
    if (this.#tokens.size >= MAX_READ_TOKENS) return null;
    const token = PREFIX + randomBytes(32).toString('base64url');
    const info: ReadTokenInfo = { id: randomBytes(8).toString('hex'), cacheId, label, createdAt: new Date().toISOString() };
    this.#tokens.set(digest(token), info);
    return { token, info };
  }

  /** Ends a token of the cache; false when it has none of that id. */
  revoke(cacheId: string, tokenId: string): boolean {
    for (const [h, t] of this.#tokens) {
      if (t.id === tokenId && t.cacheId === cacheId) {
        this.#tokens.delete(h);
        return true;
      }
    }
    return false;
  }

  list(cacheId: string): ReadTokenInfo[] {
    return [...this.#tokens.values()].filter((t) => t.cacheId === cacheId);
  }

  /** What a presented token grants, or undefined: found by its hash (no comparison of secrets). */
  token(token: string): ReadTokenInfo | undefined {
    if (!token.startsWith(PREFIX) || token.length > 100) return undefined;
    return this.#tokens.get(digest(token));
  }

  setPublic(cacheId: string, on: boolean): void {
    if (on) this.#public.add(cacheId);
    else this.#public.delete(cacheId);
  }

  isPublic(cacheId: string): boolean {
    return this.#public.has(cacheId);
  }

  /** A dropped cache: its tokens and public mark end with it. */
  forget(cacheId: string): void {
    this.#public.delete(cacheId);
    for (const [h, t] of this.#tokens) if (t.cacheId === cacheId) this.#tokens.delete(h);
  }
}
