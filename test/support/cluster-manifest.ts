import { ClusterManifestSchema, type ClusterManifest } from '../../scripts/procedures/manifest.ts';

export const id = (digit: string) => digit.repeat(40);
const sha = 'a'.repeat(64);
const at = '2026-12-05T10:00:00.000Z';

/** A cluster manifest of two shards, as backup --cluster writes it (every time `at`, a span of 1.5 s). */
export function twoShardClusterManifest(): ClusterManifest {
  return ClusterManifestSchema.parse({
    format: 'redis-playbook-backup/2',
    kind: 'cluster',
    createdAt: at,
    source: { host: '127.0.0.1', port: 7000, engine: 'redis', version: '7.0.15' },
    topology: {
      nodes: [
        { id: id('1'), host: '127.0.0.1', port: 7000, role: 'primary', flags: ['myself', 'master'], link: 'connected', slots: [[0, 8191]] },
        { id: id('2'), host: '127.0.0.1', port: 7001, role: 'primary', flags: ['master'], link: 'connected', slots: [[8192, 16383]] },
      ],
    },
    span: { startedAt: at, lastSnapshotAt: at, seconds: 1.5, staggerSeconds: 0 },
    shards: [0, 1].map((index) => ({
      dir: `shard-${index}`,
      nodeId: id(String(index + 1)),
      host: '127.0.0.1',
      port: 7000 + index,
      slots: [index === 0 ? [0, 8191] : [8192, 16383]],
      replicas: [],
      keys: 10,
      expires: 1,
      startedAt: at,
      snapshotAt: at,
      endedAt: at,
      manifestSha256: sha,
    })),
    files: [{ path: 'cluster-nodes.txt', role: 'topology', size: 10, sha256: sha }],
  });
}
