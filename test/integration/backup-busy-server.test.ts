import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { hostRedis } from '../../scripts/harness/engine.ts';
import { startRedis } from '../../scripts/harness/redis-server.ts';
import { waitFor } from '../../scripts/harness/wait.ts';
import { backup } from '../../scripts/procedures/backup.ts';
import { testRestore } from '../../scripts/procedures/test-restore.ts';
import { flattenInfo, parseInfo } from '../../scripts/redis/info.ts';

const KEYS = 1_500_000;

test('a backup of a dataset whose BGSAVE takes seconds holds every key', async () => {
  await using redis = await startRedis({ config: { appendonly: 'no', save: '""', 'enable-debug-command': 'local', rdbcompression: 'no' } });
  const client = await redis.client();
  await client.call('DEBUG', 'POPULATE', KEYS, 'key', 100);
  const phases = new Set<string>();
  const { path, manifest } = await backup({
    client,
    source: { host: redis.host, port: redis.port },
    engine: hostRedis,
    to: join(redis.root, 'backups'),
    onProgress: (event) => phases.add(event.phase),
  });
  client.disconnect();
  assert.ok(phases.has('saving'), 'progress was reported while the save ran');
  assert.deepEqual(manifest.keyspace, { '0': { keys: KEYS, expires: 0 } });
  const loaded = await testRestore(path, hostRedis);
  assert.deepEqual(loaded.databases, [{ db: 0, expected: KEYS, loaded: KEYS, ok: true }]);
});

test('a backup started while another BGSAVE runs waits and ends with a fresh snapshot holding a write made just before', async () => {
  await using redis = await startRedis({ config: { appendonly: 'no', save: '""', 'enable-debug-command': 'local', rdbcompression: 'no' } });
  const client = await redis.client();
  await client.call('DEBUG', 'POPULATE', KEYS, 'key', 100);
  await client.bgsave();
  assert.equal(flattenInfo(parseInfo(await client.info('persistence'))).rdb_bgsave_in_progress, '1', 'a BGSAVE is running');
  await client.set('written-just-before', 'yes');
  const { path } = await backup({
    client,
    source: { host: redis.host, port: redis.port },
    engine: hostRedis,
    to: join(redis.root, 'backups'),
  });
  client.disconnect();
  await using scratch = await startRedis({
    config: { appendonly: 'no', save: '""' },
    initialFiles: { 'dump.rdb': join(path, 'dump.rdb') },
  });
  assert.equal((await scratch.cli(['GET', 'written-just-before'])).stdout.trim(), 'yes');
  assert.equal(Number((await scratch.cli(['DBSIZE'])).stdout.trim()), KEYS + 1);
});

test('a backup started during an AOF rewrite ends with a fresh snapshot holding a write made just before', async () => {
  await using redis = await startRedis({
    config: { appendonly: 'yes', save: '""', 'enable-debug-command': 'local', rdbcompression: 'no' },
  });
  const client = await redis.client();
  await client.call('DEBUG', 'POPULATE', KEYS, 'key', 100);
  await client.bgrewriteaof();
  await waitFor(async () => flattenInfo(parseInfo(await client.info('persistence'))).aof_rewrite_in_progress === '1', {
    what: 'the rewrite to start',
  });
  await client.set('written-just-before', 'yes');
  const { path, manifest } = await backup({
    client,
    source: { host: redis.host, port: redis.port },
    engine: hostRedis,
    to: join(redis.root, 'backups'),
  });
  client.disconnect();
  assert.equal(manifest.checks.aof?.ok, true, manifest.checks.aof?.message);
  assert.deepEqual(manifest.keyspace, { '0': { keys: KEYS + 1, expires: 0 } });
  await using scratch = await startRedis({
    config: { appendonly: 'no', save: '""' },
    initialFiles: { 'dump.rdb': join(path, 'dump.rdb') },
  });
  assert.equal((await scratch.cli(['GET', 'written-just-before'])).stdout.trim(), 'yes');
});

test('two backups started at once into the same folder both end complete and distinct', async () => {
  await using redis = await startRedis({ config: { appendonly: 'yes' } });
  await redis.withClient((client) => client.set('k', 'v'));
  const to = join(redis.root, 'shared backups');
  const run = async () => {
    const client = await redis.client();
    try {
      return await backup({ client, source: { host: redis.host, port: redis.port }, engine: hostRedis, to });
    } finally {
      client.disconnect();
    }
  };
  const [first, second] = await Promise.all([run(), run()]);
  assert.notEqual(first.path, second.path);
  for (const result of [first, second]) {
    const loaded = await testRestore(result.path, hostRedis);
    assert.equal(loaded.ok, true);
  }
});
