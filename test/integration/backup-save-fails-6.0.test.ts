import assert from 'node:assert/strict';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { engineById, engineUnavailableReason } from '../../scripts/harness/engine.ts';
import { startRedis } from '../../scripts/harness/redis-server.ts';
import { requireAll } from '../../scripts/harness/require-all.ts';
import { populate } from '../../scripts/redis/dataset.ts';
import { runCli } from '../support/run-cli.ts';

const ENGINE = 'redis-6.0';
const reason = engineUnavailableReason(ENGINE);

test(
  'a backup whose BGSAVE fails on a server without rdb_saves (Redis 6.0) stops at once: exit 1, the failure named',
  { skip: reason !== undefined && !requireAll() ? reason : false, timeout: 120_000 },
  async () => {
    await using redis = await startRedis({ config: { appendonly: 'no', save: '""', rdbcompression: 'no' } }, engineById(ENGINE));
    // About 7 MB of snapshot for a 2 MB disk: the save fails with ENOSPC. Redis 6.0 lets CONFIG SET move dir.
    const small = join(redis.root, 'small disk');
    await mkdir(small);
    await execa('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0755', 'tmpfs', small]);
    try {
      await redis.withClient(async (client) => {
        await populate(client, 60_000, 'key', 100);
        await client.config('SET', 'dir', small);
      });
      const to = join(redis.root, 'backups');
      const run = await runCli(['backup', '--url', redis.url, '--to', to]);
      assert.equal(run.exitCode, 1, run.stderr);
      assert.match(run.stderr, /^redis-playbook: The background save failed \(rdb_last_bgsave_status:err\)/m);
      assert.deepEqual(await readdir(to).catch(() => []), [], 'no backup folder is left');
    } finally {
      await redis.cli(['CONFIG', 'SET', 'dir', redis.dir]);
      await execa('umount', [small]);
    }
  },
);
