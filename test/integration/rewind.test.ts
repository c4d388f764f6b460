import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Redis } from 'ioredis';
import { dockerSkip } from '../../scripts/harness/docker/available.ts';
import { startRedisContainer } from '../../scripts/harness/docker/container.ts';
import { docker } from '../../scripts/harness/docker/exec.ts';
import { engineById, engineUnavailableReason, hostRedis, type Engine } from '../../scripts/harness/engine.ts';
import { startRedis, type DisposableRedis } from '../../scripts/harness/redis-server.ts';
import { requireAll } from '../../scripts/harness/require-all.ts';
import { waitFor } from '../../scripts/harness/wait.ts';
import { answeringServer, faultCases } from '../support/faults.ts';
import { assertOneLineFailure, inspectJson, runCli } from '../support/run-cli.ts';
import { treeDigest } from '../support/tree.ts';

const ci = requireAll();
// Skipped with "Docker not available here" where Docker is missing; with PLAYBOOK_REQUIRE_ALL=1 it runs and fails.
const dockerMissing = await dockerSkip();

/** The server's clock in whole seconds (the AOF's `#TS:` annotations come from it). */
async function serverSecond(client: Redis): Promise<number> {
  const [seconds] = await client.time();
  return Number(seconds);
}

/** Waits until the server's clock is past `second`, so the next write is annotated with a later time. */
async function pastSecond(client: Redis, second: number): Promise<void> {
  await waitFor(async () => (await serverSecond(client)) > second, { what: `the server's clock to pass ${second}`, timeoutMs: 5000 });
}

/** Rewrites the AOF and waits until the rewrite is done. */
async function rewriteAof(client: Redis): Promise<void> {
  await client.bgrewriteaof();
  await waitFor(async () => /aof_rewrite_in_progress:0\r?\n[\s\S]*aof_rewrite_scheduled:0/.test(await client.info('persistence')), {
    what: 'the AOF rewrite',
    timeoutMs: 30_000,
  });
}

/** Every string key and its value. */
async function strings(client: Redis): Promise<Record<string, string | null>> {
  const keys = (await client.keys('*')).sort();
  return Object.fromEntries(await Promise.all(keys.map(async (key) => [key, await client.get(key)] as const)));
}

const timestamped = { appendonly: 'yes', 'aof-timestamp-enabled': 'yes', save: '""' };

/**
 * A stopped AOF server with timestamps on: a rewrite, then dataset A, then (in a later second)
 * overwrites, a FLUSHALL and a new key. Returns A and T, the last second of A's writes.
 */
async function badWritesAfterA(engine: Engine): Promise<{ redis: DisposableRedis; a: Record<string, string | null>; t: number }> {
  const redis = await startRedis({ config: timestamped }, engine);
  const { a, t } = await redis.withClient(async (client) => {
    await client.set('old', 'before the rewrite');
    await rewriteAof(client);
    // In a later second than the rewrite: Redis does not annotate writes of the second it last annotated.
    await pastSecond(client, await serverSecond(client));
    await client.mset('user:1', 'alice', 'user:2', 'bob', 'counter', '41');
    await client.incr('counter');
    const a = await strings(client);
    const t = await serverSecond(client);
    await pastSecond(client, t);
    await client.set('user:1', 'overwritten');
    await client.del('user:2');
    await client.flushall();
    await client.set('after', 'the FLUSHALL');
    return { a, t };
  });
  await redis.stop();
  return { redis, a, t };
}

for (const id of ['redis-7.0', 'redis-8.6', 'valkey-9.1']) {
  const reason = id === hostRedis.id ? undefined : engineUnavailableReason(id);
  test(
    `rewind on ${id}: overwrites and a FLUSHALL after T are undone, a normal start loads exactly the data of T, the old AOF is kept`,
    { skip: reason !== undefined && !ci ? reason : false },
    async () => {
      const engine = id === hostRedis.id ? hostRedis : engineById(id);
      const { redis, a, t } = await badWritesAfterA(engine);
      await using _redis = redis;
      const aofBefore = await treeDigest(join(redis.dir, 'appendonlydir'));
      const run = await runCli([
        'rewind',
        '--data-dir',
        redis.dir,
        '--to',
        new Date(t * 1000).toISOString(),
        '--server',
        engine.server,
        '--json',
      ]);
      assert.equal(run.exitCode, 0, run.stderr);
      const result = JSON.parse(run.stdout) as { changed: boolean; movedAside: string; removedBytes: number; to: string };
      assert.equal(result.changed, true);
      assert.ok(result.removedBytes > 0);
      assert.equal(result.to, new Date(t * 1000).toISOString().replace('.000Z', 'Z'));
      assert.deepEqual(
        await treeDigest(join(result.movedAside, 'appendonlydir')),
        aofBefore,
        'the AOF from before the rewind is kept, byte for byte',
      );

      await redis.start();
      assert.deepEqual(await redis.withClient(strings), a, 'exactly the data of T');

      // Rewinding again to T changes nothing and says so.
      await redis.stop();
      const again = await runCli(['rewind', '--data-dir', redis.dir, '--to', String(t), '--server', engine.server]);
      assert.equal(again.exitCode, 0, again.stderr);
      assert.match(again.stdout, /^Nothing to rewind: .*Nothing was changed\.\n$/);
    },
  );
}

test('rewind refuses, changing nothing: timestamps off, a time before the last rewrite, a time in the future, a running server', async (t) => {
  const cases = await faultCases(t, import.meta.url, 'Rewind', {
    'rewind.timestamps-off': 'rewind of an AOF written with aof-timestamp-enabled no',
    'rewind.before-rewrite': "rewind to a time before the AOF's last rewrite",
    'rewind.future': 'rewind to a time in the future',
    'rewind.running-server': 'rewind of the data dir of a running server',
  });

  {
    await using redis = await startRedis({ config: { ...timestamped, 'aof-timestamp-enabled': 'no' } });
    const server = await answeringServer(redis);
    const t = await redis.withClient(async (client) => {
      await client.set('k', 'v');
      return serverSecond(client);
    });
    await redis.stop();
    const before = await treeDigest(redis.dir);
    const run = await runCli(['rewind', '--data-dir', redis.dir, '--to', String(t - 1)]);
    assertOneLineFailure(run, 8, /Cannot rewind: none of the \d+ writes in the AOF in .* has a timestamp: aof-timestamp-enabled is off/);
    assert.deepEqual(await treeDigest(redis.dir), before, 'the data dir is byte-identical');
    await cases['rewind.timestamps-off'].passed('refused in one line: the AOF has no timestamps; the data dir as it was', 8, server);
  }

  {
    await using redis = await startRedis({ config: timestamped });
    const server = await answeringServer(redis);
    const t = await redis.withClient(async (client) => {
      await client.set('k', 'v');
      const t = await serverSecond(client);
      await pastSecond(client, t);
      await rewriteAof(client);
      await client.set('k', 'w');
      return t;
    });
    await redis.stop();
    const before = await treeDigest(redis.dir);
    const run = await runCli(['rewind', '--data-dir', redis.dir, '--to', String(t)]);
    assertOneLineFailure(
      run,
      8,
      /is before the earliest time this AOF reaches, \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(the AOF's history starts at its last rewrite\): restore a backup from before/,
    );
    assert.deepEqual(await treeDigest(redis.dir), before, 'the data dir is byte-identical');
    await cases['rewind.before-rewrite'].passed(
      'refused in one line naming the earliest time it reaches and pointing at backups; the data dir as it was',
      8,
      server,
    );

    const future = await runCli(['rewind', '--data-dir', redis.dir, '--to', '2099-01-01T00:00:00Z']);
    assertOneLineFailure(future, 2, /--to 2099-01-01T00:00:00Z is in the future/);
    assert.deepEqual(await treeDigest(redis.dir), before, 'the data dir is byte-identical');
    await cases['rewind.future'].passed('refused in one line as a usage error; the data dir as it was', 2, server);

    await redis.start();
    const live = await treeDigest(redis.dir);
    const running = await runCli(['rewind', '--data-dir', redis.dir, '--to', String(t + 1)]);
    assertOneLineFailure(running, 8, /A server is running on .* stop it first, then rewind/);
    assert.deepEqual(await treeDigest(redis.dir), live, 'the data dir is byte-identical');
    assert.equal(await redis.withClient((client) => client.get('k')), 'w');
    await cases['rewind.running-server'].passed("refused in one line naming the server's pid; the data dir as it was", 8, server);
  }
});

test('rewind --to without a time zone, or not a time, is a usage error', async () => {
  for (const [to, pattern] of [
    ['2026-12-02T14:05:00', /it has no time zone: add Z for UTC/],
    ['yesterday', /expected ISO 8601 with a zone/],
  ] as const) {
    const run = await runCli(['rewind', '--data-dir', '/nonexistent', '--to', to]);
    assertOneLineFailure(run, 2, pattern);
  }
});

test(
  'rewind --container: the AOF of Redis in a container goes back to T (stop, cut in a throwaway container, start); a refused time leaves it running untouched',
  { skip: dockerMissing },
  async () => {
    const password = `pw ${randomBytes(6).toString('hex')}`;
    const auth = { REDISCLI_AUTH: password };
    await using redis = await startRedisContainer({ password, config: timestamped });
    await docker(['exec', redis.name, 'chown', '-R', '999:999', '/data']);
    const { a, t, rewrite } = await redis.withClient(async (client) => {
      await client.set('old', 'before the rewrite');
      const rewrite = await serverSecond(client);
      await pastSecond(client, rewrite);
      await rewriteAof(client);
      await pastSecond(client, await serverSecond(client));
      await client.mset('user:1', 'alice', 'user:2', 'bob');
      const a = await strings(client);
      const t = await serverSecond(client);
      await pastSecond(client, t);
      await client.flushall();
      await client.set('after', 'the FLUSHALL');
      return { a, t, rewrite };
    });

    const startedAt = async () => (await docker(['inspect', '-f', '{{.State.StartedAt}}', redis.name])).stdout.trim();
    const before = await startedAt();
    const refused = await runCli(['rewind', '--container', redis.name, '--to', String(rewrite)], auth, { timeoutMs: 180_000 });
    assertOneLineFailure(refused, 8, /is before the earliest time this AOF reaches/);
    assert.equal(await startedAt(), before, 'a refused rewind does not stop the container');

    const run = await runCli(['rewind', '--container', redis.name, '--to', String(t), '--json'], auth, { timeoutMs: 180_000 });
    assert.equal(run.exitCode, 0, run.stderr);
    const result = JSON.parse(run.stdout) as { changed: boolean; container: string; movedAside: string };
    assert.equal(result.changed, true);
    assert.equal(result.container, redis.name);
    assert.match(result.movedAside, /^\/data\/pre-rewind-/);
    assert.deepEqual(await redis.withClient(strings), a, 'exactly the data of T, in the running container');
    const kept = await docker(['exec', redis.name, 'ls', `${result.movedAside}/appendonlydir`]);
    assert.match(kept.stdout, /appendonly\.aof\.manifest/);
    assert.doesNotMatch(run.stdout + run.stderr, new RegExp(password));
  },
);

test('inspect says whether the AOF has timestamps and the earliest time a rewind reaches', async () => {
  await using redis = await startRedis({ config: timestamped });
  const first = await redis.withClient(async (client) => {
    await pastSecond(client, await serverSecond(client));
    await client.set('k', 'v');
    return serverSecond(client);
  });
  const on = await inspectJson(redis.url);
  assert.equal(on.rewind.timestamps, true);
  assert.ok(
    on.rewind.earliest !== null && Math.abs(Date.parse(on.rewind.earliest) / 1000 - first) <= 1,
    `${on.rewind.earliest} is the second of the first write (${first})`,
  );
  assert.match(on.rewind.words, /^Possible back to /);

  await redis.cli(['CONFIG', 'SET', 'aof-timestamp-enabled', 'no']);
  const off = await inspectJson(redis.url);
  assert.equal(off.rewind.timestamps, false);
  assert.equal(off.rewind.earliest, null);
  assert.match(off.rewind.words, /^Not possible yet: aof-timestamp-enabled is no/);
});
