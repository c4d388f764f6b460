import assert from 'node:assert/strict';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { hostRedis } from '../../scripts/harness/engine.ts';
import { TEMP_PREFIX } from '../../scripts/harness/leftovers.ts';
import { startRedis } from '../../scripts/harness/redis-server.ts';
import { waitFor } from '../../scripts/harness/wait.ts';
import { exitCodeFor } from '../../scripts/cli/exit-codes.ts';
import { startScratchCluster } from '../../scripts/procedures/scratch-cluster.ts';
import { evenRanges } from '../../scripts/redis/cluster.ts';
import { clusterDataset, writeClusterDataset } from '../support/cluster.ts';
import { assertOneLineFailure, runCli } from '../support/run-cli.ts';

const CLUSTER = exitCodeFor('cluster');
const BACKUP = exitCodeFor('backup');

test('cluster bad input: a non-cluster node, a backup missing a shard, data dirs of another shape, a non-empty target, a failed node: one line, a documented code, nothing changed', async () => {
  const work = await mkdtemp(join(tmpdir(), TEMP_PREFIX));
  try {
    const backups = join(work, 'backups');
    const server = ['--server', hostRedis.server];

    // A standalone server named with --cluster: refused before anything is written.
    await using standalone = await startRedis({ config: { save: '""' } });
    await standalone.withClient((client) => client.set('k', 'v'));
    assertOneLineFailure(
      await runCli(['backup', '--cluster', '--url', standalone.url, '--to', backups]),
      CLUSTER,
      /is not a cluster node \(INFO cluster says cluster_enabled:0\)/,
    );
    assert.deepEqual(await readdir(work), [], 'no backup dir was made');

    await using cluster = await startScratchCluster({
      engine: hostRedis,
      shards: evenRanges(3).map((range) => ({ slots: [range] })),
      config: { 'cluster-node-timeout': 1000 },
    });
    await writeClusterDataset(cluster, 50);
    const before = await clusterDataset(cluster);
    const made = await runCli(['backup', '--cluster', '--url', cluster.url, '--to', backups, ...server]);
    assert.equal(made.exitCode, 0, made.stderr);
    const [folder] = await readdir(backups);
    const backup = join(backups, folder as string);

    // A backup missing a shard's snapshot: check and both restores refuse it; nothing is written.
    const broken = join(work, 'broken');
    await cp(backup, broken, { recursive: true });
    await rm(join(broken, 'shard-1', 'dump.rdb'));
    assertOneLineFailure(
      await runCli(['check', broken, ...server]).then((run) => ({ ...run, stdout: '' })),
      BACKUP,
      /is not a good cluster backup: shard-1\/dump\.rdb: missing/,
    );
    await using empty = await startScratchCluster({ engine: hostRedis, shards: evenRanges(2).map((range) => ({ slots: [range] })) });
    assertOneLineFailure(
      await runCli(['restore', broken, '--into-cluster', empty.url, ...server]),
      BACKUP,
      /Refusing to restore .*shard-1\/dump\.rdb: missing/,
    );
    assert.equal((await clusterDataset(empty)).size, 0, 'the target is still empty');
    await rm(join(broken, 'shard-2'), { recursive: true });
    assertOneLineFailure(await runCli(['restore', broken, '--into-cluster', empty.url, ...server]), BACKUP, /shard-1\/dump\.rdb: missing/);

    // Data dirs of a cluster of another shape (two primaries): the offline restore refuses, touching none.
    const otherDirs = empty.primaries.map((node) => node.dir);
    const beforeDirs = await Promise.all(otherDirs.map((dir) => readdir(dir)));
    assertOneLineFailure(
      await runCli(['restore', backup, '--cluster-dirs', otherDirs.join(','), ...server]),
      CLUSTER,
      /serves slots 0-8191, which no shard of the backup has: the cluster's shape differs/,
    );
    assert.deepEqual(await Promise.all(otherDirs.map((dir) => readdir(dir))), beforeDirs, 'no data dir changed');

    // A target that holds keys: refused without --replace; its keys are untouched.
    assertOneLineFailure(
      await runCli(['restore', backup, '--into-cluster', cluster.url, ...server]),
      CLUSTER,
      /The target cluster of redis:\/\/127\.0\.0\.1:\d+ is not empty: 127\.0\.0\.1:\d+ holds \d+ keys \(300 in all\).*--replace/,
    );
    assert.deepEqual(await clusterDataset(cluster), before, 'the target is unchanged');

    // A cluster with a failed node: refused once the others flag it; no backup folder appears.
    await cluster.primaries[2]?.kill();
    const seed = cluster.primaries[0];
    await waitFor(async () => String(await seed?.withClient((client) => client.call('CLUSTER', 'NODES'))).includes('fail'), {
      what: 'the killed node flagged failed',
      timeoutMs: 30_000,
    });
    assertOneLineFailure(
      await runCli(['backup', '--cluster', '--url', cluster.url, '--to', backups, ...server]),
      CLUSTER,
      /has a failed node: [0-9a-f]{8} 127\.0\.0\.1:\d+ \(primary, flags fail\??\)/,
    );
    assert.deepEqual(await readdir(backups), [folder], 'no new backup folder');
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});
