import assert from 'node:assert/strict';
import { test } from 'node:test';
import { main } from '../../scripts/cli/main.ts';
import { redisCliExecArgs } from '../../scripts/procedures/container-redis.ts';
import { parseRedisUrl } from '../../scripts/procedures/target.ts';

async function run(argv: string[], env: NodeJS.ProcessEnv = {}) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text), env });
  return { code, stdout, stderr };
}

test('docker exec gets the password as -e REDISCLI_AUTH (a name only): it is in no argv', () => {
  const password = 'secret with spaces';
  const fromEnv = redisCliExecArgs('redis-1', parseRedisUrl(undefined, { REDISCLI_AUTH: password }), ['CONFIG', 'GET', 'dir']);
  assert.deepEqual(fromEnv, [
    'exec',
    '-e',
    'REDISCLI_AUTH',
    'redis-1',
    'redis-cli',
    '--no-raw',
    '-h',
    '127.0.0.1',
    '-p',
    '6379',
    'CONFIG',
    'GET',
    'dir',
  ]);
  const fromUrl = redisCliExecArgs('redis-1', parseRedisUrl(`redis://ops:${encodeURIComponent(password)}@127.0.0.1:6380/2`, {}), ['PING']);
  assert.deepEqual(fromUrl, [
    'exec',
    '-e',
    'REDISCLI_AUTH',
    'redis-1',
    'redis-cli',
    '--no-raw',
    '-h',
    '127.0.0.1',
    '-p',
    '6380',
    '--user',
    'ops',
    '-n',
    '2',
    'PING',
  ]);
  for (const argv of [fromEnv, fromUrl]) assert.ok(!argv.some((arg) => arg.includes('secret')));
  assert.deepEqual(
    redisCliExecArgs('redis-1', parseRedisUrl(undefined, {}), ['PING']).slice(0, 3),
    ['exec', 'redis-1', 'redis-cli'],
    'no -e without a password',
  );
});

test('--container and --compose-service: not both, not empty, and restore needs --data-dir without them', async () => {
  const both = await run(['backup', '--to', '/tmp/x', '--container', 'a', '--compose-service', 'b']);
  assert.equal(both.code, 2);
  assert.equal(both.stderr, 'redis-playbook: Give --container or --compose-service, not both\n');
  const empty = await run(['inspect', '--container', '']);
  assert.equal(empty.code, 2);
  assert.equal(empty.stderr, 'redis-playbook: Invalid --container "": expected a container name or id\n');
  const restore = await run(['restore', 'backup-dir']);
  assert.equal(restore.code, 2);
  assert.match(
    restore.stderr,
    /^redis-playbook: Invalid --data-dir: the server's data dir is required \(--data-dir DIR\), or name its container \(--container NAME\)\n$/,
  );
});

test('inspect, backup and restore document --container and --compose-service', async () => {
  for (const name of ['inspect', 'backup', 'restore']) {
    const { code, stdout } = await run([name, '--help']);
    assert.equal(code, 0);
    assert.match(stdout, /^ {2}--container NAME {11}\S/m, name);
    assert.match(stdout, /^ {2}--compose-service SERVICE {2}The same/m, name);
  }
});
