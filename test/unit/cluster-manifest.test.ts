import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { TEMP_PREFIX } from '../../scripts/core/temp.ts';
import { readAnyManifest, readManifest } from '../../scripts/procedures/manifest.ts';
import { twoShardClusterManifest } from '../support/cluster-manifest.ts';

const manifest = twoShardClusterManifest();

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
