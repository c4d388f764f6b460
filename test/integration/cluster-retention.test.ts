import assert from 'node:assert/strict';
import { appendFile, cp, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { exitCodeFor } from '../../scripts/cli/exit-codes.ts';
import { hostRedis } from '../../scripts/harness/engine.ts';
import { TEMP_PREFIX } from '../../scripts/harness/leftovers.ts';
import type { ClusterManifest } from '../../scripts/procedures/manifest.ts';
import {
  BACKUP_VERIFIED_METRIC,
  CLUSTER_SHARD_SNAPSHOT_METRIC,
  CLUSTER_SHARDS_METRIC,
  CLUSTER_SPAN_METRIC,
} from '../../scripts/procedures/metrics-file.ts';
import { startScratchCluster } from '../../scripts/procedures/scratch-cluster.ts';
import { evenRanges } from '../../scripts/redis/cluster.ts';
import { writeClusterDataset } from '../support/cluster.ts';
import { assertOneLineFailure, runCli } from '../support/run-cli.ts';

interface ClusterBackupJson {
  path: string;
  manifest: ClusterManifest;
  pruned: string[];
}

/** The value of a sample line `NAME{LABELS} VALUE` of a textfile, found by its name and a label's text. */
function sample(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((item) => item.startsWith(`${name}{`) && item.includes(labels));
  assert.ok(line, `${name} ${labels} is in the metrics file`);
  return Number(line.split(' ').at(-1));
}

test(
  'backup --cluster --keep 2 counts each checked cluster backup as one and removes only older ones; --metrics-file gives the oldest shard time, the shards and the span',
  { timeout: 120_000 },
  async () => {
    const work = await mkdtemp(join(tmpdir(), TEMP_PREFIX));
    try {
      await using cluster = await startScratchCluster({ engine: hostRedis, shards: evenRanges(3).map((range) => ({ slots: [range] })) });
      await writeClusterDataset(cluster, 20);
      const backups = join(work, 'backups');
      const metrics = join(work, 'metrics');
      await mkdir(metrics);
      const server = ['--server', hostRedis.server];
      const backup = async (extra: string[] = []) => {
        const run = await runCli(
          ['backup', '--cluster', '--url', cluster.url, '--to', backups, ...server, '--json', ...extra],
          {},
          {
            timeoutMs: 60_000,
          },
        );
        assert.equal(run.exitCode, 0, run.stderr);
        return JSON.parse(run.stdout) as ClusterBackupJson;
      };

      // Bad input first: refused in one line before anything is written.
      assertOneLineFailure(
        await runCli(['backup', '--cluster', '--url', cluster.url, '--to', backups, '--keep', '0']),
        exitCodeFor('usage'),
        /--keep.*expected at least 1/,
      );
      assertOneLineFailure(
        await runCli(['backup', '--cluster', '--url', cluster.url, '--to', backups, '--metrics-file', join(work, 'nowhere', 'x.prom')]),
        exitCodeFor('io'),
        /Cannot write the metrics file .*nowhere\/x\.prom: .*nowhere does not exist/,
      );
      assert.deepEqual(await readdir(work), ['metrics'], 'no backup dir was made');

      const first = await backup();
      const second = await backup();
      const third = await backup();
      // Beside them: a one-server backup (a shard folder copied out), a cluster backup whose shard manifest
      // no longer matches (not a checked backup), and an interrupted folder: --keep must leave all three.
      const single = join(backups, '2000-01-01T00-00-00Z');
      await cp(join(first.path, 'shard-0'), single, { recursive: true });
      const tampered = join(backups, '2000-01-01T00-00-01Z-cluster');
      await cp(first.path, tampered, { recursive: true });
      await appendFile(join(tampered, 'shard-1', 'manifest.json'), '\n');
      const interrupted = join(backups, '.incomplete-2000-01-01T00-00-02Z-cluster-1-abcdef');
      await mkdir(interrupted);

      const prom = join(metrics, 'cluster.prom');
      const fourth = await backup(['--keep', '2', '--metrics-file', prom]);
      assert.deepEqual(fourth.pruned.sort(), [first.path, second.path].sort(), 'the two oldest checked cluster backups were removed');
      assert.deepEqual(
        (await readdir(backups)).sort(),
        [fourth.path, third.path, single, tampered, interrupted].map((path) => path.slice(backups.length + 1)).sort(),
        'the newest two, the one-server backup, the tampered and the interrupted folder remain',
      );

      const text = await readFile(prom, 'utf8');
      await execa('promtool', ['check', 'metrics'], { input: text });
      const oldest = Math.min(...fourth.manifest.shards.map((shard) => Math.floor(Date.parse(shard.snapshotAt) / 1000)));
      assert.equal(sample(text, BACKUP_VERIFIED_METRIC, `dir="${backups}"`), oldest, 'the freshness gauge is the oldest shard');
      assert.equal(sample(text, CLUSTER_SHARDS_METRIC), 3);
      assert.equal(sample(text, CLUSTER_SPAN_METRIC), fourth.manifest.span.seconds);
      for (const shard of fourth.manifest.shards)
        assert.equal(
          sample(text, CLUSTER_SHARD_SNAPSHOT_METRIC, `shard="${shard.dir}",node="${shard.host}:${shard.port}"`),
          Math.floor(Date.parse(shard.snapshotAt) / 1000),
        );

      // --keep 1 again: the tampered copy is still neither counted nor removed.
      const fifth = await backup(['--keep', '1']);
      assert.deepEqual(fifth.pruned.sort(), [third.path, fourth.path].sort());
      const check = await runCli(['check', fifth.path, ...server]);
      assert.equal(check.exitCode, 0, check.stdout + check.stderr);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  },
);
