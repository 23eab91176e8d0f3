import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { fdsNeeded } from '../../src/proxy/fd-limit.js';

const module = fileURLToPath(new URL('../../src/proxy/fd-limit.ts', import.meta.url));

/** Runs raiseFdLimit in a fresh process started with the given soft:hard open-files limits. */
function raisedUnder(soft: number, hard: number, needed: number): { limits: { soft: number; hard: number }; warning: string | null } {
  const script = `const m = await import(${JSON.stringify(module)}); console.log(JSON.stringify(m.raiseFdLimit(${needed})));`;
  const r = spawnSync('prlimit', [`--nofile=${soft}:${hard}`, process.execPath, '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as never;
}

test('the soft open-files limit is raised to the hard limit, with a warning only when that is short', () => {
  const enough = raisedUnder(1024, 4096, 3000);
  assert.deepEqual(enough.limits, { soft: 4096, hard: 4096 });
  assert.equal(enough.warning, null);
  const short = raisedUnder(1024, 4096, fdsNeeded(8000));
  assert.equal(short.limits.soft, 4096);
  assert.match(short.warning ?? '', /open-files limit is 4096; --max-clients needs about 16256/);
});
