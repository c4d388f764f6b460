import assert from 'node:assert/strict';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { hostRedis } from '../../scripts/harness/engine.ts';
import { startRedis } from '../../scripts/harness/redis-server.ts';
import { digestFile } from '../../scripts/procedures/files.ts';
import { snapshotAndCopy } from '../../scripts/procedures/snapshot-copy.ts';

const KEYS = 300_000;

for (const visible of [true, false]) {
  test(`a snapshot copied ${visible ? 'while the server writes it' : 'after the save (its child not visible)'} is the finished dump.rdb byte for byte, checked`, async () => {
    await using redis = await startRedis({
      config: { appendonly: 'no', save: '""', 'enable-debug-command': 'local', rdbcompression: 'no' },
    });
    const client = await redis.client();
    try {
      await client.call('DEBUG', 'POPULATE', KEYS, 'key', 100);
      const serverPid = visible ? Number((await redis.info('server')).server?.process_id) : undefined;
      const out = join(redis.root, 'backup');
      await mkdir(out);
      const copy = await snapshotAndCopy({
        client,
        engine: hostRedis,
        dir: redis.dir,
        dbfilename: 'dump.rdb',
        serverPid,
        dest: join(out, 'dump.rdb'),
      });
      assert.equal(copy.followed, visible && process.platform === 'linux');
      assert.equal(copy.check.ok, true, copy.check.message);
      assert.deepEqual(copy.check.databases, { 0: { keys: KEYS, expires: 0 } });
      assert.deepEqual(copy.digest, await digestFile(join(redis.dir, 'dump.rdb')));
      assert.deepEqual(await digestFile(join(out, 'dump.rdb')), copy.digest);
      assert.deepEqual(await readdir(out), ['dump.rdb'], "nothing else (the checker's FIFO) is left in the backup folder");
    } finally {
      client.disconnect();
    }
  });
}
