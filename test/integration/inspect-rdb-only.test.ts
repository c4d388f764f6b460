import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startRedis } from '../../scripts/harness/redis-server.ts';
import { inspectJson, runCli } from '../support/run-cli.ts';
import { bgsaveAndWait } from '../support/snapshot.ts';

test('inspect on an RDB-only server lists dump.rdb as written by BGSAVE and counts the writes made since', async () => {
  await using redis = await startRedis({ config: { appendonly: 'no', save: '900 1 300 10' } });
  await redis.withClient(async (client) => {
    for (let i = 0; i < 100; i++) await client.set(`before:${i}`, randomBytes(50).toString('hex'));
  });
  await bgsaveAndWait(redis);
  const lastSave = Number((await redis.cli(['LASTSAVE'])).stdout.trim());
  await redis.withClient(async (client) => {
    for (let i = 0; i < 5; i++) await client.set(`after:${i}`, 'y');
  });

  const report = await inspectJson(redis.url);
  const dir = realpathSync(redis.dir);
  assert.equal(report.dir, dir);
  assert.equal(report.dbfilename, 'dump.rdb');
  assert.equal(report.appendonly, false);
  assert.deepEqual(report.save, [
    { seconds: 900, changes: 1 },
    { seconds: 300, changes: 10 },
  ]);
  assert.equal(report.lastSaveTime, lastSave);
  assert.equal(report.changesSinceLastSave, 5);
  assert.equal(report.keys, 105);
  assert.equal(report.lastBgsave.status, 'ok');
  assert.equal(report.lastBgsave.inProgress, false);

  const onDisk = statSync(join(dir, 'dump.rdb'));
  assert.ok(report.files.readable);
  assert.deepEqual(report.files.rdb, {
    name: 'dump.rdb',
    path: join(dir, 'dump.rdb'),
    size: onDisk.size,
    mtime: onDisk.mtime.toISOString(),
    rdbVersion: 10,
  });
  assert.ok(onDisk.size > 100 * 100, 'the snapshot holds the 100 random 100-character values');
  assert.equal(report.files.aofFiles, null, 'no AOF dir on an RDB-only server');

  assert.equal(report.verdict.mode, 'rdb');
  assert.deepEqual(report.verdict.atRiskNow, { writes: 5, seconds: report.lastSaveAgeSeconds });
  assert.equal(report.verdict.processCrash.worstCaseSeconds, 900);
  assert.equal(report.memory.maxmemory, 0);
  assert.equal(report.memory.policy, 'noeviction');
});

test('the human summary of an RDB-only server has every section and says what a crash costs', async () => {
  await using redis = await startRedis({ config: { appendonly: 'no', save: '900 1 300 10' } });
  await redis.withClient((client) => client.set('k', 'v'));
  const run = await runCli(['inspect', '--url', redis.url]);
  assert.equal(run.exitCode, 0, run.stderr);
  assert.equal(run.stderr, '');
  for (const heading of ['Data files', 'Snapshots (RDB)', 'AOF', 'Memory', 'What a crash can cost (a restart loads: the last snapshot)']) {
    assert.match(run.stdout, new RegExp(`^${heading.replace(/[()]/g, '\\$&')}$`, 'm'));
  }
  assert.match(run.stdout, /^ {2}save {18}"900 1 300 10": after 900 s if ≥ 1 change; after 300 s if ≥ 10 changes$/m);
  assert.match(run.stdout, /^ {2}changes since {9}1$/m);
  assert.match(run.stdout, /dump\.rdb {2}\(no such file yet\)/);
  assert.match(run.stdout, /Process crash \(kill -9, OOM kill\): up to 900 s of writes \(configuration\)/);
  assert.match(run.stdout, /right now 1 write made over the last \d+ s/);
  assert.match(run.stdout, /When full|No limit \(maxmemory 0\)/);
});
