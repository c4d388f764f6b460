import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { execa } from 'execa';
import { startRedis } from '../../scripts/harness/redis-server.ts';
import { InspectReportSchema } from '../../scripts/procedures/inspect-report.ts';
import { inspectJson } from '../support/run-cli.ts';

const config = { save: '"3600 1 300 100 60 10000"', appendonly: 'no' };

test('a server started with save "3600 1 300 100 60 10000" and appendonly no: inspect --json reports exactly those rules', async () => {
  await using redis = await startRedis({ config });
  const report = await inspectJson(redis.url);
  assert.deepEqual(report.save, [
    { seconds: 3600, changes: 1 },
    { seconds: 300, changes: 100 },
    { seconds: 60, changes: 10000 },
  ]);
  assert.equal(report.appendonly, false);
  assert.equal(report.verdict.processCrash.worstCaseSeconds, 3600);
});

test('npx redis-playbook inspect --json works in a checkout', async () => {
  await using redis = await startRedis({ config });
  const run = await execa('npx', ['--no', 'redis-playbook', 'inspect', '--url', redis.url, '--json'], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    reject: false,
    timeout: 120_000,
  });
  assert.equal(run.exitCode, 0, run.stderr);
  const report = InspectReportSchema.parse(JSON.parse(run.stdout));
  assert.equal(report.save.length, 3);
  assert.equal(report.appendonly, false);
});
