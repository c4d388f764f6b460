import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { engineById, engineUnavailableReason } from '../../scripts/harness/engine.ts';
import { TEMP_PREFIX } from '../../scripts/harness/leftovers.ts';
import { startReplicaSet } from '../../scripts/harness/replication.ts';
import { requireAll } from '../../scripts/harness/require-all.ts';
import type { DisposableRedis } from '../../scripts/harness/redis-server.ts';
import { BackupManifestSchema } from '../../scripts/procedures/manifest.ts';
import { changeMixedDataset, diffDatasets, readDataset } from '../../scripts/redis/dataset.ts';
import { writeMixedDataset } from '../../scripts/redis/dataset.ts';
import { inspectJson, runCli } from '../support/run-cli.ts';

const ci = requireAll();

/** INFO stats `total_forks` of a server: every BGSAVE, AOF rewrite and disk-based full sync forks once. */
async function totalForks(server: DisposableRedis): Promise<number> {
  return Number((await server.info('stats')).stats?.total_forks);
}

for (const id of ['redis-7.0', 'redis-8.6', 'valkey-9.1']) {
  const reason = engineUnavailableReason(id);
  test(
    `${id}: a replica's backup forks nothing on the primary, names the replica, and rolled back into the stopped primary both hold exactly it`,
    { skip: reason !== undefined && !ci ? reason : false },
    async () => {
      assert.equal(engineUnavailableReason(id), undefined, `${id} is required under CI=true`);
      const engine = engineById(id);
      const persistence = { config: { appendonly: 'yes', save: '""' } };
      await using set = await startReplicaSet({ engine, primary: persistence, replica: persistence });
      const [replica] = set.replicas as [DisposableRedis];
      const work = await mkdtemp(join(tmpdir(), TEMP_PREFIX));
      try {
        await set.primary.withClient((client) => writeMixedDataset(client, 'before', 200));
        await set.inSync();
        const backedUp = await replica.withClient(readDataset);
        assert.deepEqual(diffDatasets(backedUp, await set.primary.withClient(readDataset)), [], 'the replica holds what the primary holds');

        const forksBefore = await totalForks(set.primary);
        const replicaForksBefore = await totalForks(replica);
        const made = await runCli(['backup', '--url', replica.url, '--to', join(work, 'backups'), '--json']);
        assert.equal(made.exitCode, 0, made.stderr);
        assert.equal(await totalForks(set.primary), forksBefore, 'the primary did not fork');
        assert.ok((await totalForks(replica)) > replicaForksBefore, 'the replica forked for the snapshot');
        const { path, manifest: raw } = JSON.parse(made.stdout) as { path: string; manifest: unknown };
        const manifest = BackupManifestSchema.parse(raw);
        assert.equal(manifest.replication?.role, 'replica');
        const replication = manifest.replication;
        assert.deepEqual(replication.primary, { host: '127.0.0.1', port: set.primary.port });
        assert.equal(replication.link, 'up');
        assert.ok(replication.offset > 0, `a replication offset: ${replication.offset}`);
        assert.equal(replication.replicationId, (await set.inSync()).replicationId, "the primary's replication id");

        const inspected = await inspectJson(replica.url);
        assert.equal(inspected.replication.role, 'replica');
        assert.match(inspected.replication.doesNot.join('\n'), /same host/);
        const primaryReport = await inspectJson(set.primary.url);
        assert.deepEqual(
          primaryReport.replication.replicas.map((entry) => entry.port),
          [replica.port],
        );
        assert.match(primaryReport.replication.adds.join('\n'), /1 replica hold/);

        // Writes after the backup reach the replica; the rollback must undo them on both.
        await set.primary.withClient((client) => changeMixedDataset(client, 'before', 'after'));
        await set.inSync();
        assert.notDeepEqual(diffDatasets(backedUp, await replica.withClient(readDataset)), [], 'the replica has the newer writes');

        await set.primary.stop();
        const restored = await runCli(['restore', path, '--data-dir', set.primary.dir]);
        assert.equal(restored.exitCode, 0, restored.stdout + restored.stderr);
        assert.match(restored.stdout, /taken on a replica of 127\.0\.0\.1:\d+\. .*master_link_status:up.*replica-priority 0/);
        await set.primary.start();
        await set.inSync();
        assert.deepEqual(diffDatasets(backedUp, await set.primary.withClient(readDataset)), [], 'the primary holds exactly the backup');
        assert.deepEqual(diffDatasets(backedUp, await replica.withClient(readDataset)), [], 'the replica holds exactly the backup');
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    },
  );
}
