import assert from 'node:assert/strict';
import { mkdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { hostRedis } from '../../scripts/harness/engine.ts';
import { startRedis } from '../../scripts/harness/redis-server.ts';
import { backup } from '../../scripts/procedures/backup.ts';
import { restore } from '../../scripts/procedures/restore.ts';
import { changeMixedDataset, diffDatasets, readDataset, writeMixedDataset } from '../../scripts/redis/dataset.ts';

test('rollback on an AOF server with incr files restores the backup key by key, and the moved-aside files bring the later data back', async () => {
  await using redis = await startRedis({ config: { appendonly: 'yes', 'aof-use-rdb-preamble': 'yes' }, dataDirName: 'data dir' });
  const client = await redis.client();
  await writeMixedDataset(client, 'A');
  await client.bgrewriteaof();
  // Writes after the last rewrite land in the incr file.
  await client.set('after-rewrite', 'A');
  const a = await readDataset(client);

  const to = join(redis.root, 'backups with spaces');
  const { path, manifest } = await backup({ client, source: { host: redis.host, port: redis.port }, engine: hostRedis, to });
  assert.equal(manifest.config.appendonly, true);
  assert.ok(
    manifest.files.some((file) => file.path.endsWith('incr.aof')),
    'the AOF set with its incr file is in the backup',
  );

  await changeMixedDataset(client, 'A', 'B');
  const b = await readDataset(client);
  assert.ok(diffDatasets(a, b).length > 0);
  client.disconnect();
  await redis.stop();

  const result = await restore({ backup: path, dataDir: redis.dir, engine: hostRedis });
  assert.deepEqual(result.movedNames.sort(), ['appendonlydir', 'dump.rdb']);
  await redis.start();
  const restored = await redis.withClient(readDataset);
  assert.deepEqual(diffDatasets(a, restored), []);
  assert.equal((await redis.info('persistence')).persistence?.aof_enabled, '1', 'appendonly stays yes');

  // Undo as the page says: stop, move the restored files aside too, put the pre-restore files back, start: B again.
  await redis.stop();
  const aside = result.movedAside as string;
  const undone = join(redis.dir, 'undone-restore');
  await mkdir(undone);
  for (const name of result.installed) await rename(join(redis.dir, name), join(undone, name));
  for (const name of result.movedNames) await rename(join(aside, name), join(redis.dir, name));
  await redis.start();
  assert.deepEqual(diffDatasets(b, await redis.withClient(readDataset)), []);
});
