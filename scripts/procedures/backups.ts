import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PlaybookError } from './errors.ts';
import { readAnyManifest, type BackupManifest, type ClusterManifest } from './manifest.ts';

/** A folder in a backup dir: a complete backup with its manifest, or something else with the reason. */
export interface BackupEntry {
  path: string;
  name: string;
  manifest: BackupManifest | undefined;
  /** A cluster backup's manifest (listed as one backup; `manifest` is then undefined). */
  cluster?: ClusterManifest;
  /** Why the folder is not a usable backup (no or invalid manifest). */
  problem: string | undefined;
}

/**
 * Lists the folders of a backup dir, oldest first; a cluster backup is one entry (its `cluster` manifest). Temporary folders of backups in progress or
 * interrupted (`.incomplete-*`) are listed with that problem, never as backups.
 */
export async function listBackups(to: string): Promise<BackupEntry[]> {
  let names: string[];
  try {
    names = (await readdir(to, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new PlaybookError(
      'io',
      `Cannot list the backup dir ${to}: ${code === 'ENOENT' ? 'it does not exist' : (error as Error).message}`,
      { cause: error },
    );
  }
  const entries: BackupEntry[] = [];
  for (const name of names.sort()) {
    const path = join(to, name);
    if (name.startsWith('.incomplete-')) {
      entries.push({ path, name, manifest: undefined, problem: 'incomplete (in progress, or interrupted)' });
      continue;
    }
    try {
      const read = await readAnyManifest(path);
      entries.push(
        read.kind === 'cluster'
          ? { path, name, manifest: undefined, cluster: read.manifest, problem: undefined }
          : { path, name, manifest: read.manifest, problem: undefined },
      );
    } catch (error) {
      entries.push({ path, name, manifest: undefined, problem: (error as Error).message });
    }
  }
  const createdAt = (entry: BackupEntry) => entry.manifest?.createdAt ?? entry.cluster?.createdAt ?? '';
  return entries.sort((a, b) => createdAt(a).localeCompare(createdAt(b)) || a.name.localeCompare(b.name));
}
