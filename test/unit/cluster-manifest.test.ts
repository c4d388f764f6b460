import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { TEMP_PREFIX } from '../../scripts/core/temp.ts';
import { ClusterManifestSchema, readAnyManifest, readManifest } from '../../scripts/procedures/manifest.ts';

const id = (digit: string) => digit.repeat(40);
const sha = 'a'.repeat(64);
const at = '2026-12-05T10:00:00.000Z';

/** A cluster manifest of two shards, as backup --cluster writes it. */
const manifest = ClusterManifestSchema.parse({
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

test('a cluster manifest (format 2, kind cluster) is read as one; the one-server reader names what takes it; a newer format asks for an update', async () => {
  const dir = await mkdtemp(join(tmpdir(), TEMP_PREFIX));
  try {
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
    const read = await readAnyManifest(dir);
    assert.equal(read.kind, 'cluster');
    assert.equal(read.manifest.shards.length, 2);
    await assert.rejects(readManifest(dir), {
      kind: 'backup',
      message: /is a cluster backup \(2 shards\): restore it with --into-cluster URL or --cluster-dirs/,
    });
    await writeFile(join(dir, 'manifest.json'), JSON.stringify({ ...manifest, format: 'redis-playbook-backup/3' }));
    await assert.rejects(readAnyManifest(dir), { kind: 'backup', message: /written by a newer redis-playbook/ });
    await writeFile(join(dir, 'manifest.json'), JSON.stringify({ ...manifest, shards: [{ ...manifest.shards[0], dir: '../elsewhere' }] }));
    await assert.rejects(readAnyManifest(dir), { kind: 'backup', message: /shards\.0\.dir/ });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
