import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { engineById, engineUnavailableReason } from '../../scripts/harness/engine.ts';
import { TEMP_PREFIX } from '../../scripts/harness/leftovers.ts';
import { requireAll } from '../../scripts/harness/require-all.ts';
import { waitFor } from '../../scripts/harness/wait.ts';
import type { ClusterTestRestoreResult } from '../../scripts/procedures/cluster-check.ts';
import type { IntoClusterResult } from '../../scripts/procedures/cluster-restore.ts';
import { ClusterManifestSchema } from '../../scripts/procedures/manifest.ts';
import { startScratchCluster } from '../../scripts/procedures/scratch-cluster.ts';
import { evenRanges } from '../../scripts/redis/cluster.ts';
import { clusterDataset, diffDatasets, writeClusterDataset } from '../support/cluster.ts';
import { runCli } from '../support/run-cli.ts';

const ci = requireAll();
/** The host engine always; more with PLAYBOOK_CLUSTER_ENGINES=redis-6.0,valkey-9.1 (each adds about 15 s). */
const engines = process.env.PLAYBOOK_CLUSTER_ENGINES?.split(',').filter(Boolean) ?? ['redis-7.0'];

for (const id of engines) {
  const reason = engineUnavailableReason(id);
  test(
    `a 3-primary cluster on ${id}: backup --cluster, check, test-restore, restore --into-cluster a new 4-primary cluster, then the offline rollback of the same cluster`,
    { skip: reason !== undefined && !ci ? reason : false },
    async () => {
      const engine = engineById(id);
      const server = ['--server', engine.server];
      const work = await mkdtemp(join(tmpdir(), TEMP_PREFIX));
      try {
        await using source = await startScratchCluster({ engine, shards: evenRanges(3).map((range) => ({ slots: [range] })) });
        const written = await writeClusterDataset(source, 600);
        const backedUp = await clusterDataset(source);
        assert.equal(backedUp.size, written, 'every key written is in the source cluster');
        assert.ok([...backedUp.values()].filter((value) => value.expiresAtMs > 0).length > 500, 'several hundred keys have a TTL');

        const backups = join(work, 'backups');
        const made = await runCli(['backup', '--cluster', '--url', source.url, '--to', backups, '--stagger', '0.3', ...server]);
        assert.equal(made.exitCode, 0, made.stderr);
        assert.match(made.stdout, /3 shards, 3600 keys/);
        assert.match(made.stdout, /taken over \d+\.\d s .*not at one instant/);
        const [folder, ...others] = (await readdir(backups)).filter((name) => !name.startsWith('.'));
        assert.equal(others.length, 0, 'one backup folder');
        const backup = join(backups, folder as string);
        const manifest = ClusterManifestSchema.parse(JSON.parse(await readFile(join(backup, 'manifest.json'), 'utf8')));
        assert.equal(manifest.kind, 'cluster');
        assert.equal(manifest.shards.length, 3);
        assert.equal(
          manifest.shards.reduce((sum, shard) => sum + shard.keys, 0),
          written,
        );
        assert.deepEqual(manifest.files.filter((file) => file.role === 'nodes-conf').length, 3, 'every nodes.conf kept');
        for (const shard of manifest.shards) assert.ok(Date.parse(shard.startedAt) <= Date.parse(shard.endedAt));
        // --stagger 0.3: each shard's backup (its fork) began 0.3 s after the previous one.
        assert.equal(manifest.span.staggerSeconds, 0.3);
        const starts = manifest.shards.map((shard) => Date.parse(shard.startedAt));
        for (const [i, start] of starts.entries())
          if (i > 0)
            assert.ok(start - (starts[i - 1] ?? 0) >= 290, `shard ${i} started ${start - (starts[i - 1] ?? 0)} ms after shard ${i - 1}`);

        const listed = await runCli(['backups', '--to', backups, '--json']);
        assert.equal(listed.exitCode, 0, listed.stderr);
        const { backups: rows } = JSON.parse(listed.stdout) as { backups: { kind: string; keys: number; shards?: number }[] };
        assert.deepEqual(
          rows.map((row) => [row.kind, row.keys, row.shards]),
          [['cluster', written, 3]],
        );

        const checked = await runCli(['check', backup, ...server]);
        assert.equal(checked.exitCode, 0, checked.stdout + checked.stderr);
        const tested = await runCli(['test-restore', backup, ...server, '--json'], {}, { timeoutMs: 120_000 });
        assert.equal(tested.exitCode, 0, tested.stdout + tested.stderr);
        assert.deepEqual(
          (JSON.parse(tested.stdout) as ClusterTestRestoreResult).shards.map((shard) => shard.foreign),
          [0, 0, 0],
        );

        // A new, empty cluster of another shape: four primaries.
        await using target = await startScratchCluster({ engine, shards: evenRanges(4).map((range) => ({ slots: [range] })) });
        const restored = await runCli(['restore', backup, '--into-cluster', target.url, ...server, '--json'], {}, { timeoutMs: 120_000 });
        assert.equal(restored.exitCode, 0, restored.stdout + restored.stderr);
        const summary = JSON.parse(restored.stdout) as IntoClusterResult;
        assert.equal(summary.keys, written);
        assert.equal(summary.nodes.length, 4);
        assert.ok(
          summary.nodes.every((node) => node.keys > 0),
          "every primary of the target received its slots' keys",
        );
        assert.deepEqual(diffDatasets(backedUp, await clusterDataset(target)), [], 'every key, type, value and expiry equal');

        // The offline rollback of the source cluster itself: changes, every node stopped, restore, start.
        await source.primaries[0]?.withClient(async (client) => {
          await client.call('FLUSHALL');
        });
        for (const node of source.nodes) await node.stop({ save: true });
        const dirs = source.nodes.map((node) => node.dir).join(',');
        const offline = await runCli(['restore', backup, '--cluster-dirs', dirs, ...server, '--json']);
        assert.equal(offline.exitCode, 0, offline.stdout + offline.stderr);
        assert.deepEqual(
          (JSON.parse(offline.stdout) as { nodes: { matchedBy: string }[] }).nodes.map((node) => node.matchedBy),
          ['node ID', 'node ID', 'node ID'],
        );
        await Promise.all(source.nodes.map((node) => node.start()));
        await waitFor(
          async () =>
            (await Promise.all(source.nodes.map((node) => node.withClient((client) => client.call('CLUSTER', 'INFO'))))).every((info) =>
              String(info).includes('cluster_state:ok'),
            ),
          { what: 'the rolled-back cluster to be ok', timeoutMs: 30_000 },
        );
        assert.deepEqual(diffDatasets(backedUp, await clusterDataset(source)), [], 'the rolled-back cluster holds exactly the backup');
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    },
  );
}
