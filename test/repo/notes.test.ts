import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('docs/architecture.md lists the same named notes as src/ cites', () => {
  const cited = new Set<string>();
  for (const f of sources(join(root, 'src'))) for (const m of readFileSync(f, 'utf8').matchAll(/\[note: ([a-z0-9-]+)\]/g)) cited.add(m[1]);
  const doc = readFileSync(join(root, 'docs/architecture.md'), 'utf8');
  const listed = [...doc.matchAll(/^\| `([a-z0-9-]+)` \|/gm)].map((m) => m[1]);
  assert.deepEqual(listed, [...listed].sort(), 'the list is in alphabetical order');
  assert.deepEqual(listed, [...cited].sort());
});
