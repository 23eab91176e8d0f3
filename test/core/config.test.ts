import { totalmem } from 'node:os';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildConfig, parseHostPort } from '../../src/config.js';
import { RotorError } from '../../src/errors.js';

test('defaults listen on 3307 and admin on 6033, loopback', () => {
  const c = buildConfig({ upstream: 'mysql://app:pw@db.internal:3306/shop' });
  assert.deepEqual(c.listen, { host: '127.0.0.1', port: 3307 });
  assert.deepEqual(c.admin, { host: '127.0.0.1', port: 6033 });
  assert.equal(c.upstream.user, 'app');
  assert.equal(c.upstream.password, 'pw');
  assert.equal(c.upstream.database, 'shop');
});

test('percent-encoded credentials are decoded', () => {
  const c = buildConfig({ upstream: 'mysql://a%40b:p%3Aw@127.0.0.1:3306/' });
  assert.equal(c.upstream.user, 'a@b');
  assert.equal(c.upstream.password, 'p:w');
  assert.equal(c.upstream.database, null);
});

test('a missing or malformed upstream is one clear configuration error', () => {
  assert.throws(() => buildConfig({}), (e: unknown) => e instanceof RotorError && /--upstream is required/.test(e.message));
  assert.throws(() => buildConfig({ upstream: 'postgres://x@y/z' }), /must start with mysql:\/\//);
  assert.throws(() => buildConfig({ upstream: 'not a url' }), /not a URL/);
});

test('the admin server refuses a non-loopback address without a token', () => {
  assert.throws(() => buildConfig({ upstream: 'mysql://u@h/d', admin: '0.0.0.0:6033' }), /without --admin-token/);
  const c = buildConfig({ upstream: 'mysql://u@h/d', admin: '0.0.0.0:6033', adminToken: 't' });
  assert.equal(c.adminToken, 't');
});

test('host:port parsing accepts IPv6 brackets and rejects garbage', () => {
  assert.deepEqual(parseHostPort('[::1]:3307', 'x'), { host: '::1', port: 3307 });
  assert.deepEqual(parseHostPort(':3307', 'x'), { host: '127.0.0.1', port: 3307 });
  assert.throws(() => parseHostPort('3307', '--listen'), /--listen must be HOST:PORT/);
  assert.throws(() => parseHostPort('h:70000', '--listen'), /HOST:PORT/);
});

test('numeric flags are range-checked', () => {
  assert.throws(() => buildConfig({ upstream: 'mysql://u@h/d', backlog: 'lots' }), /--backlog must be an integer/);
  assert.equal(buildConfig({ upstream: 'mysql://u@h/d', serverId: '77' }).serverId, 77);
});

test('the miss policy is relay by default, fill on request, and nothing else', () => {
  assert.equal(buildConfig({ upstream: 'mysql://u@h/d' }).missPolicy, 'relay');
  assert.equal(buildConfig({ upstream: 'mysql://u@h/d', missPolicy: 'fill' }).missPolicy, 'fill');
  assert.throws(() => buildConfig({ upstream: 'mysql://u@h/d', missPolicy: 'admit' }), /--miss-policy must be relay or fill/);
});

test('consistency is eventual by default, session on request, and nothing else', () => {
  assert.equal(buildConfig({ upstream: 'mysql://u@h/d' }).consistency, 'eventual');
  assert.equal(buildConfig({ upstream: 'mysql://u@h/d', consistency: 'session' }).consistency, 'session');
  assert.throws(() => buildConfig({ upstream: 'mysql://u@h/d', consistency: 'strong' }), /--consistency must be eventual or session/);
  assert.equal(buildConfig({ upstream: 'mysql://u@h/d', maxStaleness: '250' }).maxStalenessMs, 250);
});

test('upstream TLS is auto by default, off or required on request, and a CA needs it on', () => {
  assert.deepEqual(buildConfig({ upstream: 'mysql://u@h/d' }).upstreamTls, { mode: 'auto', ca: null });
  assert.deepEqual(buildConfig({ upstream: 'mysql://u@h/d', upstreamTls: 'required', upstreamCa: 'PEM' }).upstreamTls, { mode: 'required', ca: 'PEM' });
  assert.equal(buildConfig({ upstream: 'mysql://u@h/d', upstreamTls: 'off' }).upstreamTls.mode, 'off');
  assert.throws(() => buildConfig({ upstream: 'mysql://u@h/d', upstreamTls: 'yes' }), /--upstream-tls must be off, auto or required/);
  assert.throws(() => buildConfig({ upstream: 'mysql://u@h/d', upstreamTls: 'off', upstreamCa: 'PEM' }), /--upstream-ca needs/);
});

test('the memory limit takes bytes or binary units, defaults to min(1 GiB, a quarter of the memory), and refuses nonsense', () => {
  const base = { upstream: 'mysql://u:p@127.0.0.1:3306/db' };
  assert.equal(buildConfig(base).memoryLimitBytes, Math.min(1024 ** 3, Math.floor(totalmem() / 4)));
  assert.equal(buildConfig({ ...base, memoryLimit: '512MiB' }).memoryLimitBytes, 512 * 1024 ** 2);
  assert.equal(buildConfig({ ...base, memoryLimit: '2GiB' }).memoryLimitBytes, 2 * 1024 ** 3);
  assert.equal(buildConfig({ ...base, memoryLimit: '64m' }).memoryLimitBytes, 64 * 1024 ** 2);
  assert.equal(buildConfig({ ...base, memoryLimit: '1.5GiB' }).memoryLimitBytes, 1.5 * 1024 ** 3);
  assert.equal(buildConfig({ ...base, memoryLimit: '8388608' }).memoryLimitBytes, 8 * 1024 ** 2);
  for (const bad of ['lots', '10', '5TB', '-1GiB', '1 G i B']) {
    assert.throws(() => buildConfig({ ...base, memoryLimit: bad }), (e: unknown) => e instanceof RotorError && /--memory-limit must be a size/.test(e.message), bad);
  }
});

test('the shared registry is off by default, takes a redis:// or rediss:// URL with a database number, and never repeats a password', () => {
  const base = { upstream: 'mysql://app:pw@db.internal:3306/shop' };
  assert.equal(buildConfig(base).redis, null);
  assert.equal(buildConfig({ ...base, redis: 'redis://127.0.0.1:6379' }).redis, 'redis://127.0.0.1:6379');
  assert.equal(buildConfig({ ...base, redis: 'rediss://:secret@cache.internal:6380/2' }).redis, 'rediss://:secret@cache.internal:6380/2');
  for (const bad of ['http://:secret@x:6379', 'redis://:secret@x:6379/app', 'not a url']) {
    assert.throws(() => buildConfig({ ...base, redis: bad }), (e: unknown) => e instanceof RotorError && /--redis/.test(e.message) && !e.message.includes('secret'), bad);
  }
});
