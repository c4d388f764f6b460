import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startRedis } from '../../scripts/harness/redis-server.ts';
import { inspectJson, runCli } from '../support/run-cli.ts';

test('inspect on a server without persistence: no files, everything lost on any restart, eviction by design', async () => {
  await using redis = await startRedis({
    config: { appendonly: 'no', save: '""', maxmemory: '10mb', 'maxmemory-policy': 'allkeys-lru' },
  });
  await redis.withClient(async (client) => {
    await client.set('a', '1');
    await client.set('b', '2');
    await client.set('c', '3');
  });

  const report = await inspectJson(redis.url);
  assert.equal(report.appendonly, false);
  assert.deepEqual(report.save, []);
  assert.equal(report.changesSinceLastSave, 3);
  assert.ok(report.files.readable);
  assert.equal(report.files.rdb, null);
  assert.equal(report.files.aofFiles, null);
  assert.equal(report.verdict.mode, 'none');
  assert.equal(report.verdict.processCrash.worstCaseSeconds, null);
  assert.equal(report.verdict.atRiskNow?.writes, 3);
  assert.match(report.verdict.processCrash.words, /lost on any restart, even a clean SHUTDOWN/);
  assert.deepEqual(report.memory, {
    maxmemory: 10 * 1024 * 1024,
    policy: 'allkeys-lru',
    evicts: true,
    note: 'When full, keys are evicted (allkeys-lru): data loss by design.',
  });

  const human = await runCli(['inspect', '--url', redis.url]);
  assert.equal(human.exitCode, 0, human.stderr);
  assert.match(human.stdout, /^ {2}save {18}none \(save ""\)$/m);
  assert.match(human.stdout, /^ {2}maxmemory {13}10485760 bytes$/m);
  assert.match(human.stdout, /data loss by design/);
  assert.match(human.stdout, /Process crash \(kill -9, OOM kill\): no bound \(configuration\)/);
});
