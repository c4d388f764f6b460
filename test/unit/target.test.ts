import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PlaybookError } from '../../scripts/procedures/errors.ts';
import { maskUserinfo, parseRedisUrl } from '../../scripts/procedures/target.ts';

function usageError(url: string): PlaybookError {
  try {
    parseRedisUrl(url, {});
  } catch (error) {
    assert.ok(error instanceof PlaybookError);
    assert.equal(error.kind, 'usage');
    assert.equal(error.exitCode, 2);
    return error;
  }
  assert.fail(`expected ${url} to be refused`);
}

test('the default URL is the local server on 6379', () => {
  const target = parseRedisUrl(undefined, {});
  assert.deepEqual([target.host, target.port, target.db, target.url], ['127.0.0.1', 6379, 0, 'redis://127.0.0.1:6379']);
  assert.equal(target.username, undefined);
  assert.equal(target.password, undefined);
});

test('host, port and db come from the URL; the shown URL never has the password', () => {
  const target = parseRedisUrl('redis://ops:p%40ss%3Aword@cache.internal:6380/2', {});
  assert.equal(target.host, 'cache.internal');
  assert.equal(target.port, 6380);
  assert.equal(target.db, 2);
  assert.equal(target.username, 'ops');
  assert.equal(target.password, 'p@ss:word');
  assert.equal(target.url, 'redis://ops@cache.internal:6380/2');
});

test('userinfo without a colon is the password of the default user, as for redis-cli -u', () => {
  const target = parseRedisUrl('redis://secret@127.0.0.1', {});
  assert.equal(target.username, undefined);
  assert.equal(target.password, 'secret');
  assert.equal(parseRedisUrl('redis://:secret@127.0.0.1', {}).password, 'secret');
});

test('REDISCLI_AUTH is the password when the URL has none; the URL wins otherwise', () => {
  assert.equal(parseRedisUrl('redis://127.0.0.1:7000', { REDISCLI_AUTH: 'from-env' }).password, 'from-env');
  assert.equal(parseRedisUrl('redis://:from-url@127.0.0.1:7000', { REDISCLI_AUTH: 'from-env' }).password, 'from-url');
  assert.equal(parseRedisUrl('redis://127.0.0.1:7000', { REDISCLI_AUTH: '' }).password, undefined);
});

test('IPv6 hosts lose their brackets and get them back in the shown URL', () => {
  const target = parseRedisUrl('redis://[::1]:7001', {});
  assert.equal(target.host, '::1');
  assert.equal(target.url, 'redis://[::1]:7001');
});

test('rediss:// asks for TLS with the certificate checked, and keeps its scheme and credentials', () => {
  const target = parseRedisUrl('rediss://ops:s%40cret@cache.example:6380/1', {});
  assert.deepEqual(target.tls, { insecure: false });
  assert.equal(target.username, 'ops');
  assert.equal(target.password, 's@cret');
  assert.equal(target.url, 'rediss://ops@cache.example:6380/1');
  assert.equal(parseRedisUrl('redis://127.0.0.1:6379', {}).tls, undefined);
});

test('other schemes, a missing scheme, bad ports and paths are usage errors', () => {
  assert.match(usageError('http://127.0.0.1:6379').message, /Expected a redis:\/\/ or rediss:\/\/ URL, got the scheme "http:\/\/"/);
  assert.match(usageError('localhost:6379').message, /Expected --url like redis:\/\/127\.0\.0\.1:6379, got "localhost:6379"/);
  assert.match(usageError('redis://127.0.0.1:70000').message, /port from 1 to 65535/);
  assert.match(usageError('redis://127.0.0.1:6379/cache').message, /database number/);
  assert.match(usageError('redis://127.0.0.1:6379?db=1').message, /Query parameters/);
});

test('a refused URL is echoed with its password masked', () => {
  const error = usageError('http://admin:hunter2@127.0.0.1');
  assert.doesNotMatch(error.message, /hunter2/);
  assert.match(error.message, /http:\/\/\*\*\*@127\.0\.0\.1/);
  assert.equal(maskUserinfo('redis://:a@b@host:1/0'), 'redis://***@host:1/0');
});
