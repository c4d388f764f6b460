import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Redis } from 'ioredis';
import { engineById, engineUnavailableReason } from '../../scripts/harness/engine.ts';
import { TEMP_PREFIX } from '../../scripts/harness/leftovers.ts';
import { startRedis } from '../../scripts/harness/redis-server.ts';
import { waitFor } from '../../scripts/harness/wait.ts';
import { requireAll } from '../../scripts/harness/require-all.ts';
import { runCli } from '../support/run-cli.ts';
import { BackupManifestSchema } from '../../scripts/procedures/manifest.ts';

const ci = requireAll();

/** Every key of db 0 as type, value and TTL (ms; -1 none), read with commands every engine of the matrix has. */
async function dataset(client: Redis): Promise<Map<string, { type: string; value: unknown; ttlMs: number }>> {
  const keys = (await client.keys('*')).sort();
  const out = new Map<string, { type: string; value: unknown; ttlMs: number }>();
  for (const key of keys) {
    const type = await client.type(key);
    const value =
      type === 'string'
        ? await client.get(key)
        : type === 'hash'
          ? await client.hgetall(key)
          : type === 'list'
            ? await client.lrange(key, 0, -1)
            : type === 'set'
              ? (await client.smembers(key)).sort()
              : type === 'zset'
                ? await client.zrange(key, '0', '-1', 'WITHSCORES')
                : type === 'stream'
                  ? await client.xrange(key, '-', '+')
                  : `unsupported type ${type}`;
    out.set(key, { type, value, ttlMs: await client.pttl(key) });
  }
  return out;
}

/** The backup's keys are exactly the restored ones (same type and value; a TTL that ran on for no more than `elapsedMs`). */
function assertSameDataset(
  restored: Awaited<ReturnType<typeof dataset>>,
  backedUp: Awaited<ReturnType<typeof dataset>>,
  elapsedMs: number,
): void {
  assert.deepEqual([...restored.keys()], [...backedUp.keys()], 'the same keys, nothing else');
  for (const [key, want] of backedUp) {
    const got = restored.get(key);
    assert.ok(got);
    assert.equal(got.type, want.type, key);
    assert.deepEqual(got.value, want.value, key);
    if (want.ttlMs < 0) assert.equal(got.ttlMs, want.ttlMs, `${key} has no TTL`);
    else
      assert.ok(
        got.ttlMs <= want.ttlMs && got.ttlMs > want.ttlMs - elapsedMs - 1000,
        `${key}: TTL ${got.ttlMs} ms after restore, ${want.ttlMs} ms at backup`,
      );
  }
}

/** Writes one key of each type, some with a TTL. */
async function write(client: Redis, tag: string): Promise<void> {
  await client.set(`s:${tag}`, `value ${tag}`);
  await client.set(`ttl:${tag}`, 'expires', 'EX', 3600);
  await client.hset(`h:${tag}`, { a: '1', b: tag });
  await client.rpush(`l:${tag}`, 'x', 'y', tag);
  await client.sadd(`set:${tag}`, 'p', 'q', tag);
  await client.zadd(`z:${tag}`, 1, 'one', 2.5, tag);
  await client.xadd(`x:${tag}`, '1-1', 'f', tag);
  await client.pexpire(`h:${tag}`, 7_200_000);
}

for (const id of ['redis-6.0', 'redis-8.6', 'valkey-9.1']) {
  for (const named of [true, false]) {
    const how = named ? 'its own programs named by --server' : 'no --server (found from INFO executable and the manifest)';
    const reason = engineUnavailableReason(id);
    test(
      `round trip on ${id} with ${how}: AOF server with a rewrite and writes after it, backup, changes, stop, restore, normal start`,
      { skip: reason !== undefined && !ci ? reason : false },
      async () => {
        assert.equal(engineUnavailableReason(id), undefined, `${id} is required under CI=true`);
        const engine = engineById(id);
        const server = named ? ['--server', engine.server] : [];
        const work = await mkdtemp(join(tmpdir(), TEMP_PREFIX));
        try {
          await using redis = await startRedis({ config: { appendonly: 'yes', save: '""', 'aof-use-rdb-preamble': 'yes' } }, engine);
          await redis.withClient(async (client) => {
            await write(client, 'before-rewrite');
            await client.bgrewriteaof();
            await waitFor(
              async () =>
                (await client.info('persistence')).includes('aof_rewrite_in_progress:0') &&
                (await client.info('persistence')).includes('aof_rewrite_scheduled:0'),
              {
                what: 'the AOF rewrite',
                timeoutMs: 30_000,
              },
            );
            await write(client, 'after-rewrite');
            await client.del('s:before-rewrite');
          });
          const readAt = Date.now();
          const backedUp = await redis.withClient(dataset);
          const backups = join(work, 'backups');
          const made = await runCli(['backup', '--url', redis.url, '--to', backups, ...server]);
          assert.equal(made.exitCode, 0, made.stderr);
          if (!named) assert.match(made.stderr, /checking with .*: the server's own \(INFO server executable /, made.stderr);
          const [folder] = (await readdir(backups)).filter((name) => !name.startsWith('.'));
          assert.ok(folder, 'a backup folder');
          const backup = join(backups, folder);
          const manifest = BackupManifestSchema.parse(JSON.parse(await readFile(join(backup, 'manifest.json'), 'utf8')));
          assert.deepEqual([manifest.checks.rdb.ok, manifest.checks.aof?.ok], [true, true], JSON.stringify(manifest.checks));
          if (id === 'redis-6.0') {
            // Redis 6: one AOF file in dir, no appendonlydir, no manifest of AOF parts.
            assert.equal(manifest.config.appenddirname, undefined);
            assert.deepEqual(
              manifest.files.filter((file) => file.role === 'aof').map((file) => file.path),
              ['appendonly.aof'],
            );
          }
          assert.equal(manifest.source.rdbVersion, engine.id === 'valkey-9.1' ? 80 : engine.id === 'redis-8.6' ? 13 : 9);

          const checked = await runCli(['check', backup, '--server', engine.server]);
          assert.equal(checked.exitCode, 0, checked.stdout + checked.stderr);
          const tested = await runCli(['test-restore', backup, ...server]);
          assert.equal(tested.exitCode, 0, tested.stdout + tested.stderr);

          // Changes after the backup, then a stop: the restore must undo all of them.
          await redis.withClient(async (client) => {
            await client.set('s:after-rewrite', 'changed');
            await client.del('l:before-rewrite');
            await client.set('new:after-backup', 'x');
            await client.persist('ttl:after-rewrite');
          });
          await redis.stop();

          const restored = await runCli(['restore', backup, '--data-dir', redis.dir, ...server]);
          assert.equal(restored.exitCode, 0, restored.stdout + restored.stderr);
          const installed = (await readdir(redis.dir)).filter((name) => !name.startsWith('pre-restore-')).sort();
          assert.deepEqual(installed, id === 'redis-6.0' ? ['appendonly.aof', 'dump.rdb'] : ['appendonlydir', 'dump.rdb']);

          await redis.start();
          const after = await redis.withClient(dataset);
          assertSameDataset(after, backedUp, Date.now() - readAt);
        } finally {
          await rm(work, { recursive: true, force: true });
        }
      },
    );
  }
}
