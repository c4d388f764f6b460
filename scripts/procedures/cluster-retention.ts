import { join } from 'node:path';
import { pruneBackups } from './backup.ts';
import { digestFile } from './files.ts';
import { MANIFEST_FILE, readManifest, type ClusterManifest } from './manifest.ts';

/**
 * Whether a cluster backup is complete and was checked when it was taken: every shard folder holds the
 * `manifest.json` the cluster manifest recorded (SHA-256), and that manifest says its checkers passed
 * (redis-check-rdb, and redis-check-aof when an AOF set was copied). Reads manifests only: no checker runs.
 */
export async function clusterBackupChecked(path: string, manifest: ClusterManifest): Promise<boolean> {
  const shards = await Promise.all(
    manifest.shards.map(async (shard) => {
      const dir = join(path, shard.dir);
      const digest = await digestFile(join(dir, MANIFEST_FILE)).catch(() => undefined);
      if (digest?.sha256 !== shard.manifestSha256) return false;
      const own = await readManifest(dir).catch(() => undefined);
      return own !== undefined && own.checks.rdb.ok && (own.checks.aof?.ok ?? true);
    }),
  );
  return shards.every(Boolean);
}

/**
 * `backup --cluster --keep N`: removes the cluster backups of `to` older than the `keep` newest; a
 * cluster backup counts as one backup, and only one that is complete and was checked
 * ({@link clusterBackupChecked}) counts or is removed. Never `current`, never a one-server backup,
 * an interrupted folder or anything else. The paths removed.
 */
export function pruneClusterBackups(to: string, keep: number, current: string, onPruned?: (path: string) => void): Promise<string[]> {
  return pruneBackups(
    to,
    keep,
    current,
    (entry) => entry.cluster !== undefined && clusterBackupChecked(entry.path, entry.cluster),
    onPruned,
  );
}
