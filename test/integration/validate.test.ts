import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { startRedis } from '../../scripts/harness/redis-server.ts';
import { assertOneLineFailure, runCli } from '../support/run-cli.ts';

/** The seed's crawler data: a sorted set of ready domains and some pages. */
async function crawlerServer() {
  const redis = await startRedis();
  await redis.withClient(async (client) => {
    await client.zadd('domains:ready', 1, 'a.example', 2, 'b.example', 3, 'c.example');
    await client.set('config:agent', 'crawler/1.0');
    await client.select(1);
    await client.hset('page:1', { url: 'https://a.example/', status: '200' });
  });
  return redis;
}

const expectYaml = (extra = '') => `databases:
  "0": { minKeys: 2 }
  "1": { minKeys: 1 }
keys:
  - key: domains:ready
    type: zset
    minSize: 3
  - key: page:1
    db: 1
    type: hash
    minSize: 2
${extra}`;

test('validate passes on a matching dataset', async () => {
  await using redis = await crawlerServer();
  const file = join(redis.root, 'expect.yaml');
  await writeFile(file, expectYaml());
  const run = await runCli(['validate', '--expect', file, '--url', redis.url]);
  assert.equal(run.exitCode, 0, run.stderr);
  assert.match(run.stdout, /^All 4 expectations hold on redis:\/\/127\.0\.0\.1:\d+\n$/);
});

test('validate fails with a table on a missing key, a wrong type, a too-small collection and a missing module', async () => {
  await using redis = await crawlerServer();
  const file = join(redis.root, 'expect.json');
  await writeFile(
    file,
    JSON.stringify({
      databases: { 0: { minKeys: 2 } },
      keys: [
        { key: 'domains:ready', type: 'zset', minSize: 10 },
        { key: 'config:agent', type: 'hash' },
        { key: 'domains:pending', type: 'list' },
        { key: 'seen:bloom', type: 'MBbloom--', module: 'bf' },
      ],
    }),
  );
  const run = await runCli(['validate', '--expect', file, '--url', redis.url]);
  assert.equal(run.exitCode, 10);
  const rows = run.stdout.trim().split('\n');
  assert.match(rows[0] ?? '', /^WHAT\s+EXPECTED\s+FOUND$/);
  assert.match(run.stdout, /^db0 domains:ready\s+zset, at least 10\s+zset, 3$/m);
  assert.match(run.stdout, /^db0 config:agent\s+hash\s+type string$/m);
  assert.match(run.stdout, /^db0 domains:pending\s+list\s+missing$/m);
  assert.match(run.stdout, /^db0 seen:bloom\s+MBbloom--\s+module bf not loaded/m);
  assert.equal(rows.length, 5, 'only what does not hold is listed');
  assert.match(run.stderr, /^redis-playbook: 4 of 5 expectations do not hold/);

  const json = await runCli(['validate', '--expect', file, '--url', redis.url, '--json']);
  assert.equal(json.exitCode, 10);
  const parsed = JSON.parse(json.stdout) as { ok: boolean; findings: { ok: boolean }[] };
  assert.equal(parsed.ok, false);
  assert.equal(parsed.findings.filter((finding) => !finding.ok).length, 4);
});

test('a malformed expect file is a usage error naming the file and line', async () => {
  await using redis = await startRedis();
  const file = join(redis.root, 'expect.yaml');
  await writeFile(file, expectYaml('  - key: seen:bloom\n    type: 7\n'));
  assertOneLineFailure(await runCli(['validate', '--expect', file, '--url', redis.url]), 2, /expect\.yaml:13: keys\.2\.type: /);
  await writeFile(file, 'keys:\n  - key: a\n    typo: zset\n');
  assertOneLineFailure(await runCli(['validate', '--expect', file, '--url', redis.url]), 2, /expect\.yaml:2: keys\.0/);
  await writeFile(file, 'keys: [\n');
  assertOneLineFailure(await runCli(['validate', '--expect', file, '--url', redis.url]), 2, /expect\.yaml:\d+: not valid YAML/);
  assertOneLineFailure(await runCli(['validate', '--expect', join(redis.root, 'none.yaml'), '--url', redis.url]), 6, /does not exist/);
});
