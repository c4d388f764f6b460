import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nodesConfMyself } from '../../scripts/procedures/cluster-containers.ts';
import { BACKUP_VERIFIED_METRIC, clusterBackupMetricText } from '../../scripts/procedures/metrics-file.ts';
import { id, twoShardClusterManifest } from '../support/cluster-manifest.ts';

test('the cluster metrics file: freshness at the oldest shard, the shards, the span, each shard labelled', () => {
  const snapshots = ['2026-12-05T10:00:03.000Z', '2026-12-05T10:00:01.000Z'];
  const fixture = twoShardClusterManifest();
  const manifest = {
    ...fixture,
    span: { ...fixture.span, seconds: 4.25 },
    shards: fixture.shards.map((shard, index) => ({ ...shard, snapshotAt: snapshots[index] as string })),
  };
  const text = clusterBackupMetricText('/srv/backups/"c"', manifest);
  const oldest = Date.parse('2026-12-05T10:00:01.000Z') / 1000;
  assert.match(text, new RegExp(`^${BACKUP_VERIFIED_METRIC}\\{dir="/srv/backups/\\\\"c\\\\""\\} ${oldest}$`, 'm'));
  assert.match(text, /^redis_playbook_backup_cluster_shards\{dir="[^\n]*"\} 2$/m);
  assert.match(text, /^redis_playbook_backup_cluster_span_seconds\{dir="[^\n]*"\} 4\.25$/m);
  assert.match(
    text,
    /^redis_playbook_backup_cluster_shard_snapshot_timestamp_seconds\{dir="[^\n]*",shard="shard-0",node="127\.0\.0\.1:7000"\} \d+$/m,
  );
  assert.ok(text.endsWith('\n'));
});

test("nodesConfMyself reads the node ID of a nodes.conf's myself line, skipping its vars line", () => {
  const conf = [
    `${id('a')} 127.0.0.1:7001@17001 master - 0 1 2 connected 8192-16383`,
    `${id('b')} 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-8191`,
    'vars currentEpoch 2 lastVoteEpoch 0',
    '',
  ].join('\n');
  assert.equal(nodesConfMyself(conf), id('b'));
  assert.equal(nodesConfMyself('not a nodes.conf'), undefined);
  assert.equal(nodesConfMyself(''), undefined);
});
