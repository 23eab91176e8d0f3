import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../scripts/private-server.js';

const bin = fileURLToPath(new URL('../../bin/rotor.js', import.meta.url));

function rotor(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('start --help explains every flag and its environment variable', () => {
  const r = rotor(['start', '--help']);
  assert.equal(r.status, 0);
  for (const flag of ['--upstream', '--listen', '--admin', '--data-dir', '--redis', '--admin-token', '--server-id', '--backlog', '--upstream-tls', '--upstream-ca']) {
    assert.match(r.stdout, new RegExp(flag));
  }
  assert.match(r.stdout, /ROTOR_UPSTREAM/);
  assert.match(r.stdout, /ROTOR_UPSTREAM_TLS/);
  assert.match(r.stdout, /ROTOR_UPSTREAM_CA/);
  assert.match(r.stdout, /ROTOR_REDIS/);
});

test('an unknown flag exits non-zero with one line', () => {
  const r = rotor(['start', '--bogus']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /unknown option '--bogus'/);
});

test('a missing upstream is one clear line and exit 1', () => {
  const r = rotor(['start'], { ROTOR_UPSTREAM: '' });
  assert.equal(r.status, 1);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /--upstream is required/);
});

test('an unreachable upstream is one clear line and exit 1', async () => {
  const port = await freePort();
  const r = rotor(['start', '--upstream', `mysql://u:p@127.0.0.1:${port}/db`, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^rotor: Can't connect to the upstream server: 127\.0\.0\.1:\d+: .*ECONNREFUSED/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});

test('the environment supplies flags', () => {
  const r = rotor(['start'], { ROTOR_UPSTREAM: 'mysql://u@h/d', ROTOR_ADMIN: '0.0.0.0:6033' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /without --admin-token/);
});

test('--version prints the package version', () => {
  const r = rotor(['--version']);
  assert.equal(r.status, 0);
  assert.match(r.stdout.trim(), /^\d+\.\d+\.\d+/);
});

test('--log-level takes only pino\'s levels, from the flag or the environment', () => {
  const flag = rotor(['start', '--upstream', 'mysql://u@h/d', '--log-level', 'loud']);
  assert.notEqual(flag.status, 0);
  assert.match(flag.stderr, /argument 'loud' is invalid\. Allowed choices are fatal, error, warn, info, debug, trace, silent/);
  const env = rotor(['start', '--upstream', 'mysql://u@h/d'], { ROTOR_LOG_LEVEL: 'verbose' });
  assert.notEqual(env.status, 0);
  assert.match(env.stderr, /verbose/);
});

test('a data dir that cannot be written refuses to start, in one line, before reaching the upstream', async () => {
  const port = await freePort();
  // A folder under a file can never be created (root may write anywhere else).
  const r = rotor(['start', '--upstream', `mysql://u:p@127.0.0.1:${port}/db`, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--data-dir', `${bin}/data`]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^rotor: Invalid configuration: --data-dir .* cannot be written \(ENOTDIR\)/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});
