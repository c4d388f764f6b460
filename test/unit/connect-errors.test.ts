import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyConnectionError, type ConnectionFailure } from '../../scripts/procedures/connect.ts';
import { parseRedisUrl } from '../../scripts/procedures/target.ts';

const target = parseRedisUrl('redis://127.0.0.1:6390', {});

function classify(errors: unknown[], overrides: Partial<ConnectionFailure> = {}) {
  return classifyConnectionError(target, { errors, connected: true, passwordGiven: true, timeoutMs: 500, ...overrides });
}

function socketError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

test('refused, connect timeout and unknown host are "unreachable" (exit 3)', () => {
  const refused = classify([socketError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:6390'), new Error('Connection is closed.')], {
    connected: false,
  });
  assert.equal(refused.kind, 'unreachable');
  assert.equal(refused.exitCode, 3);
  assert.equal(
    refused.message,
    'Cannot reach redis://127.0.0.1:6390: connection refused (is the server running and listening on this port?)',
  );
  const timeout = classify([socketError('ETIMEDOUT', 'connect ETIMEDOUT')], { connected: false });
  assert.equal(timeout.kind, 'unreachable');
  assert.match(timeout.message, /no answer to the connection attempt within 500 ms/);
  assert.equal(classify([socketError('ENOTFOUND', 'getaddrinfo ENOTFOUND x')], { connected: false }).kind, 'unreachable');
});

test('WRONGPASS, NOAUTH, old "invalid password" and DENIED are "auth" (exit 4)', () => {
  const wrong = classify([new Error('WRONGPASS invalid username-password pair or user is disabled.')]);
  assert.equal(wrong.kind, 'auth');
  assert.equal(wrong.exitCode, 4);
  assert.match(wrong.message, /wrong password for the default user/);
  const missing = classify([new Error('NOAUTH Authentication required.')], { passwordGiven: false });
  assert.match(missing.message, /requires a password: give it in the URL .* or in the REDISCLI_AUTH environment variable/);
  assert.equal(classify([new Error('ERR invalid password')]).kind, 'auth');
  assert.equal(classify([new Error('DENIED Redis is running in protected mode')]).kind, 'auth');
});

test('an answer in another protocol, no answer and a closed connection are "protocol" (exit 5)', () => {
  const http = classify([new Error('Unknown RESP type 72 "H". Please report this.')]);
  assert.equal(http.kind, 'protocol');
  assert.equal(http.exitCode, 5);
  assert.equal(
    http.message,
    `redis://127.0.0.1:6390 is not a Redis server: it answered in a protocol other than Redis's (its answer starts with "H")`,
  );
  assert.doesNotMatch(http.message, /report this/);
  const silent = classify([new Error('Command timed out')]);
  assert.equal(silent.kind, 'protocol');
  assert.match(silent.message, /did not answer PING within 500 ms/);
  assert.equal(classify([new Error('Connection is closed.')]).kind, 'protocol');
});

test('anything else is "other" (exit 1) and keeps the cause', () => {
  const cause = new Error('ERR DB index is out of range');
  const error = classify([cause]);
  assert.equal(error.kind, 'other');
  assert.equal(error.exitCode, 1);
  assert.equal(error.cause, cause);
});
