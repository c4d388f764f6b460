import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { startRedis } from '../../scripts/harness/redis-server.ts';
import { assertOneLineFailure, runCli, type CliRun } from '../support/run-cli.ts';

/** A password with characters that need escaping in a URL and in redis.conf. */
const password = `pw ${randomBytes(6).toString('hex')}@:/%"`;
const encoded = encodeURIComponent(password);

function assertNoSecret(run: CliRun, secret: string): void {
  for (const text of [run.stdout, run.stderr]) {
    assert.ok(!text.includes(secret), 'the password appears in the output');
    assert.ok(!text.includes(encodeURIComponent(secret)), 'the URL-encoded password appears in the output');
  }
}

test('inspect logs in with REDISCLI_AUTH or the URL password and never prints it', async () => {
  await using redis = await startRedis({ config: { save: '900 1' }, password });
  const port = String(redis.port);

  const viaEnv = await runCli(['inspect', '--url', redis.url, '--json'], { REDISCLI_AUTH: password });
  assert.equal(viaEnv.exitCode, 0, viaEnv.stderr);
  assert.equal((JSON.parse(viaEnv.stdout) as { url: string }).url, `redis://127.0.0.1:${port}`);
  assertNoSecret(viaEnv, password);

  const viaUrl = await runCli(['inspect', '--url', `redis://:${encoded}@127.0.0.1:${port}`, '--json']);
  assert.equal(viaUrl.exitCode, 0, viaUrl.stderr);
  assertNoSecret(viaUrl, password);

  const viaUser = await runCli(['inspect', `--url=redis://default:${encoded}@127.0.0.1:${port}`]);
  assert.equal(viaUser.exitCode, 0, viaUser.stderr);
  assert.match(viaUser.stdout, new RegExp(`at redis://default@127\\.0\\.0\\.1:${port} `));
  assertNoSecret(viaUser, password);
});

test('without a password or with a wrong one: exit 4, one line, no password shown even in debug output', async () => {
  await using redis = await startRedis({ password });

  const missing = await runCli(['inspect', '--url', redis.url]);
  assertOneLineFailure(missing, 4, /the server requires a password: give it in the URL .* or in the REDISCLI_AUTH environment variable/);

  const wrong = `${password}-wrong`;
  const viaEnv = await runCli(['inspect', '--url', redis.url], { REDISCLI_AUTH: wrong });
  assertOneLineFailure(viaEnv, 4, /wrong password for the default user \(WRONGPASS/);
  assertNoSecret(viaEnv, wrong);

  const debug = await runCli(['inspect', '--url', `redis://:${encodeURIComponent(wrong)}@${redis.host}:${redis.port}`], {
    REDIS_PLAYBOOK_DEBUG: '1',
  });
  assert.equal(debug.exitCode, 4);
  assert.match(debug.stderr, /\n\s+at /, 'debug mode shows the cause chain');
  assertNoSecret(debug, wrong);
});
