import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { exitCodeFor } from '../../scripts/cli/exit-codes.ts';
import { dockerSkip } from '../../scripts/harness/docker/available.ts';
import { TEMP_PREFIX } from '../../scripts/harness/leftovers.ts';
import type { ClusterManifest } from '../../scripts/procedures/manifest.ts';
import { fillContainerCluster, startContainerCluster } from '../support/container-cluster.ts';
import { assertOneLineFailure, runCli } from '../support/run-cli.ts';

// Skipped with "Docker not available here" where Docker is missing; with PLAYBOOK_REQUIRE_ALL=1 it runs and fails.
const skip = await dockerSkip();

test(
  'backup --cluster --container a,b,c backs up each primary through its own container, matched by node ID; a primary without its container is refused',
  { skip, timeout: 120_000 },
  async () => {
    const work = await mkdtemp(join(tmpdir(), TEMP_PREFIX));
    try {
      await using cluster = await startContainerCluster(3);
      const perNode = await fillContainerCluster(cluster, 300);
      const backups = join(work, 'backups');
      // Named in another order than the nodes' ports: the CLI matches them by node ID, not by position.
      const names = cluster.nodes.map((node) => node.name).reverse();

      // A primary whose container is not named: one line, exit 11, no backup dir made.
      assertOneLineFailure(
        await runCli(['backup', '--cluster', '--url', cluster.url, '--to', backups, '--container', names.slice(1).join(',')]),
        exitCodeFor('cluster'),
        /Primary [0-9a-f]{8} 127\.0\.0\.1:\d+ \(slots [\d-]+\) runs in none of the containers given \(.*\): name its container too/,
      );
      assert.deepEqual(await readdir(work), [], 'nothing was written');

      const made = await runCli(
        ['backup', '--cluster', '--url', cluster.url, '--to', backups, '--container', names.join(','), '--json'],
        {},
        {
          timeoutMs: 90_000,
        },
      );
      assert.equal(made.exitCode, 0, made.stderr);
      const { path, manifest } = JSON.parse(made.stdout) as { path: string; manifest: ClusterManifest };
      assert.equal(manifest.shards.length, 3);
      for (const [index, node] of cluster.nodes.entries()) {
        const shard = manifest.shards.find((item) => item.port === node.port);
        assert.equal(shard?.container, node.name, `the shard of port ${node.port} came through its own container`);
        assert.equal(shard.keys, perNode[index], `the shard of port ${node.port} holds its node's keys`);
      }
      assert.equal(manifest.files.filter((file) => file.role === 'nodes-conf').length, 3, "each container's nodes.conf is kept");
      const checked = await runCli(['check', path]);
      assert.equal(checked.exitCode, 0, checked.stdout + checked.stderr);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  },
);
