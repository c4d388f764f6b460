import assert from 'node:assert/strict';
import { readdirSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startRedis } from '../../scripts/harness/redis-server.ts';
import { waitFor } from '../../scripts/harness/wait.ts';
import type { InspectReport } from '../../scripts/procedures/inspect-report.ts';
import { inspectJson } from '../support/run-cli.ts';
import { persistenceInfo } from '../support/snapshot.ts';

function aofNames(report: InspectReport): string[] | null | undefined {
  return report.files.readable ? report.files.aofFiles?.map((file) => file.name) : undefined;
}

test('inspect on an AOF-only server lists the AOF files with their sizes and follows a rewrite', async () => {
  await using redis = await startRedis({ config: { appendonly: 'yes', appendfsync: 'everysec', save: '""' } });
  await redis.withClient(async (client) => {
    for (let i = 0; i < 50; i++) await client.set(`k:${i}`, String(i));
  });

  const report = await inspectJson(redis.url);
  const aofDir = join(realpathSync(redis.dir), 'appendonlydir');
  assert.equal(report.appendonly, true);
  assert.equal(report.appendfsync, 'everysec');
  assert.deepEqual(report.save, []);
  assert.equal(report.appenddirname, 'appendonlydir');
  assert.ok(report.files.readable);
  assert.equal(report.files.rdb, null, 'save "" and no shutdown yet: no dump.rdb');
  assert.equal(report.files.aofDir, aofDir);
  assert.deepEqual(aofNames(report), ['appendonly.aof.1.base.rdb', 'appendonly.aof.1.incr.aof', 'appendonly.aof.manifest']);
  for (const file of report.files.aofFiles ?? []) {
    const onDisk = statSync(join(aofDir, file.name));
    assert.equal(file.size, onDisk.size, file.name);
    assert.equal(file.mtime, onDisk.mtime.toISOString(), file.name);
  }
  const incr = report.files.aofFiles?.find((file) => file.name.endsWith('.incr.aof'));
  assert.ok(incr && incr.size > 50 * 20, 'the 50 SETs are in the incr file');

  assert.equal(report.verdict.mode, 'aof');
  assert.deepEqual(report.verdict.processCrash, {
    words:
      'Usually none: Redis hands each write to the OS before it replies. But while an fsync is still running (a slow or busy disk) Redis holds AOF writes back for up to 2 s and still replies, so a kill -9 then loses them (drills you can run: persistence/what-a-crash-costs in the Redis Playbook).',
    worstCaseSeconds: 2,
    basis: 'documented',
    see: 'persistence/what-a-crash-costs',
  });
  assert.equal(report.verdict.powerLoss.worstCaseSeconds, 2);
  assert.equal(report.verdict.atRiskNow, null);
  assert.deepEqual(report.verdict.warnings, []);

  await redis.cli(['BGREWRITEAOF']);
  await waitFor(
    async () => {
      const info = await persistenceInfo(redis);
      return (
        info.aof_rewrite_in_progress === '0' &&
        info.aof_rewrite_scheduled === '0' &&
        readdirSync(aofDir).includes('appendonly.aof.2.base.rdb')
      );
    },
    { what: 'the AOF rewrite to finish' },
  );
  // The old files are deleted in the background after the rewrite: wait for inspect to see the new set only.
  const rewritten = await waitFor(
    async () => {
      const next = await inspectJson(redis.url);
      return aofNames(next)?.join() === 'appendonly.aof.2.base.rdb,appendonly.aof.2.incr.aof,appendonly.aof.manifest' && next;
    },
    { what: 'inspect to list the rewritten AOF' },
  );
  assert.equal(rewritten.aof.lastRewriteStatus, 'ok');
  assert.equal(rewritten.aof.rewriteInProgress, false);
});
