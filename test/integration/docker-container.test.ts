import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { dockerSkip } from '../../scripts/harness/docker/available.ts';
import { startRedisContainer } from '../../scripts/harness/docker/container.ts';
import { docker, dockerTry, lines } from '../../scripts/harness/docker/exec.ts';
import { ensureImage, withImageEngine } from '../../scripts/harness/docker/image.ts';
import { engineById, engineUnavailableReason } from '../../scripts/harness/engine.ts';
import { uniqueNames } from '../../scripts/harness/docker/options.ts';
import { requireAll } from '../../scripts/harness/require-all.ts';

// Skipped with "Docker not available here" where Docker is missing; with PLAYBOOK_REQUIRE_ALL=1 they run and fail.
const skip = await dockerSkip();

/** The Redis 8.6 image is built from the fetched engine (npm run engines); missing: skipped, a failure under PLAYBOOK_REQUIRE_ALL=1. */
const redis8Missing = requireAll() ? undefined : engineUnavailableReason('redis-8.6');

/** Whether a container or volume with exactly this name exists (`docker ps -a` / `docker volume ls`). */
async function exists(kind: 'container' | 'volume', name: string): Promise<boolean> {
  const args =
    kind === 'container'
      ? ['ps', '--all', '--filter', `name=^/${name}$`, '--format', '{{.Names}}']
      : ['volume', 'ls', '--filter', `name=^${name}$`, '--format', '{{.Name}}'];
  return lines((await docker(args)).stdout).includes(name);
}

test('a container killed with SIGKILL comes back with every acknowledged write (appendonly yes)', { skip }, async () => {
  await using redis = await startRedisContainer({ config: { appendonly: 'yes', save: '""' } });
  await redis.withClient(async (client) => {
    const pipeline = client.pipeline();
    for (let i = 0; i < 1000; i++) pipeline.set(`key:${i}`, String(i));
    await pipeline.exec();
  });
  await redis.kill();
  assert.equal(await redis.isRunning(), false);
  assert.match(await redis.logTail(5), /Ready to accept connections/, 'no shutdown was logged: it crashed');
  assert.doesNotMatch(await redis.logs(), /ready to exit, bye bye/);
  await redis.start();
  assert.equal((await redis.cli(['DBSIZE'])).stdout.trim(), '1000');
  assert.equal((await redis.cli(['GET', 'key:999'])).stdout.trim(), '999');
});

test('docker stop lets Redis save its snapshot, which docker start loads again', { skip }, async () => {
  await using redis = await startRedisContainer({ config: { appendonly: 'no', save: '3600 1' } });
  await redis.cli(['SET', 'greeting', 'hello']);
  await redis.stop();
  assert.match(await redis.logs(), /DB saved on disk/);
  // A throwaway container on the stopped server's volume, as the playbook's commands use them.
  const { tag } = await ensureImage();
  const listing = await docker([
    'run',
    '--rm',
    '--network',
    'none',
    '-v',
    `${redis.volume}:/data`,
    tag,
    'sh',
    '-c',
    'ls /data && redis-check-rdb /data/dump.rdb',
  ]);
  assert.match(listing.stdout, /^dump\.rdb$/m);
  assert.match(listing.stdout, /RDB looks OK/);
  await redis.start();
  assert.equal((await redis.cli(['GET', 'greeting'])).stdout.trim(), 'hello');
});

test(
  'inside withImageEngine(Redis 8.6), containers run the Redis 8.6 image: INFO, the RDB it writes (format 13) and its own checker agree',
  { skip: skip || redis8Missing || false },
  async () => {
    const redis8 = engineById('redis-8.6');
    await withImageEngine(redis8, async () => {
      const { tag, version } = await ensureImage();
      assert.equal(version, '8.6.3');
      await using redis = await startRedisContainer({ config: { appendonly: 'no', save: '3600 1' } });
      assert.equal(redis.image, tag);
      assert.equal(redis.engine.id, 'redis-8.6');
      assert.equal((await redis.info('server')).server?.redis_version, '8.6.3');
      await redis.cli(['SET', 'greeting', 'hello']);
      await redis.stop();
      const listing = await docker([
        'run',
        '--rm',
        '--network',
        'none',
        '-v',
        `${redis.volume}:/data`,
        tag,
        'sh',
        '-c',
        'head -c 9 /data/dump.rdb; echo; redis-check-rdb /data/dump.rdb',
      ]);
      assert.match(listing.stdout, /^REDIS0013$/m);
      assert.match(listing.stdout, /RDB looks OK/);
    });
    // Outside it, the host engine's image again.
    await using host = await startRedisContainer();
    assert.equal(host.engine.id, 'redis-7.0');
    assert.equal((await host.info('server')).server?.redis_version, '7.0.15');
  },
);

test('disposal removes the container and its volume', { skip }, async () => {
  const redis = await startRedisContainer({ config: { appendonly: 'yes' } });
  assert.ok(await exists('container', redis.name));
  assert.ok(await exists('volume', redis.volume));
  assert.ok(existsSync(redis.root));
  await redis.dispose();
  assert.equal(await exists('container', redis.name), false, `container ${redis.name} is gone`);
  assert.equal(await exists('volume', redis.volume), false, `volume ${redis.volume} is gone`);
  assert.equal(existsSync(redis.root), false, 'the temp dir is gone');
  await redis.dispose(); // a second call does nothing
});

test("the password reaches Redis through a 0600 config file, never through the container's arguments", { skip }, async () => {
  const password = 'correct horse battery staple';
  await using redis = await startRedisContainer({ password, config: { appendonly: 'yes' } });
  const inspected = (await docker(['container', 'inspect', redis.name])).stdout;
  assert.ok(!inspected.includes(password), 'docker inspect does not show the password');
  assert.ok(!inspected.includes('staple'));
  assert.equal((await redis.cli(['PING'])).stdout.trim(), 'PONG', 'redis-cli gets it through REDISCLI_AUTH');
  const anonymous = await dockerTry(['exec', redis.name, 'redis-cli', 'PING']);
  assert.match(anonymous.stdout, /NOAUTH/);
  const mode = await docker(['exec', redis.name, 'stat', '-c', '%a', '/run/redis-playbook/harness.conf']);
  assert.equal(mode.stdout.trim(), '600');
  assert.equal(await redis.withClient((client) => client.ping()), 'PONG', 'the host client authenticates too');
});

test('a container whose server cannot start fails fast with its log and leaves nothing behind', { skip }, async () => {
  const names = uniqueNames();
  await assert.rejects(
    startRedisContainer({ config: { 'maxmemory-policy': 'sometimes' }, readyTimeoutMs: 20_000 }, { names }),
    (error: Error) => error.message.includes('exited instead of starting') && error.message.includes('maxmemory-policy'),
  );
  assert.equal(await exists('container', names.container), false);
  assert.equal(await exists('volume', names.volume), false);
});

test('two containers in parallel get distinct names, volumes and data', { skip }, async () => {
  const [a, b] = await Promise.all([startRedisContainer(), startRedisContainer()]);
  await using first = a;
  await using second = b;
  assert.notEqual(first.name, second.name);
  assert.notEqual(first.volume, second.volume);
  assert.notEqual(first.socket, second.socket);
  await first.cli(['SET', 'owner', 'first']);
  assert.equal((await second.cli(['EXISTS', 'owner'])).stdout.trim(), '0', 'each has its own server on its own port 6379');
});
