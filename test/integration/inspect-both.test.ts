import assert from 'node:assert/strict';
import { realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startRedis } from '../../scripts/harness/redis-server.ts';
import { inspectJson } from '../support/run-cli.ts';
import { bgsaveAndWait } from '../support/snapshot.ts';

test('inspect on a server with AOF (always) and snapshots: both kinds of files, the AOF verdict, snapshots as backups', async () => {
  await using redis = await startRedis({ config: { appendonly: 'yes', appendfsync: 'always', save: '900 1' } });
  await redis.withClient(async (client) => {
    for (let i = 0; i < 20; i++) await client.rpush('list', String(i));
  });
  await bgsaveAndWait(redis);

  const report = await inspectJson(redis.url);
  const dir = realpathSync(redis.dir);
  assert.equal(report.appendonly, true);
  assert.equal(report.appendfsync, 'always');
  assert.deepEqual(report.save, [{ seconds: 900, changes: 1 }]);
  assert.equal(report.changesSinceLastSave, 0);
  assert.ok(report.files.readable);
  assert.equal(report.files.rdb?.size, statSync(join(dir, 'dump.rdb')).size);
  assert.deepEqual(
    report.files.aofFiles?.map((file) => file.name),
    ['appendonly.aof.1.base.rdb', 'appendonly.aof.1.incr.aof', 'appendonly.aof.manifest'],
  );

  assert.equal(report.verdict.mode, 'aof');
  assert.equal(report.verdict.processCrash.worstCaseSeconds, 0);
  assert.equal(report.verdict.powerLoss.worstCaseSeconds, 0);
  assert.match(report.verdict.powerLoss.words, /fsyncs the AOF before it replies/);
  assert.deepEqual(report.verdict.notes, [
    'Snapshots are taken too (save "900 1"): they are backups only; a restart loads the AOF, never dump.rdb.',
  ]);
});
