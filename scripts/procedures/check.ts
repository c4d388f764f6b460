import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Engine } from '../harness/engine.ts';
import { aofManifestName } from '../redis/aof.ts';
import { checkAof, checkRdb, readRdbVersion, type RdbCheck } from '../redis/rdb.ts';
import { PlaybookError } from './errors.ts';
import { digestFile } from './files.ts';
import { readManifest, type BackupManifest } from './manifest.ts';

/** One finding of a check. */
export interface CheckItem {
  /** What was checked (`dump.rdb sha256`, `redis-check-rdb dump.rdb`, …). */
  what: string;
  ok: boolean;
  detail: string;
}

/** Outcome of {@link checkBackup}. */
export interface CheckResult {
  ok: boolean;
  /** The backup folder (or the bare RDB file) that was checked. */
  path: string;
  manifest: BackupManifest | undefined;
  /** The RDB that a restore would install. */
  rdbPath: string;
  rdbVersion: number | undefined;
  rdb: RdbCheck | undefined;
  items: CheckItem[];
}

/**
 * Checks a backup folder: every file's size and SHA-256 against the manifest, redis-check-rdb on the
 * snapshot, and redis-check-aof on the AOF manifest when an AOF set is present. A bare `.rdb` file is
 * checked too (its header and redis-check-rdb). Never changes anything.
 */
export async function checkBackup(path: string, engine: Engine): Promise<CheckResult> {
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
    throw new PlaybookError('io', `${path} ${error.code === 'ENOENT' ? 'does not exist' : `cannot be read: ${error.message}`}`, { cause: error });
  });
  const items: CheckItem[] = [];
  let manifest: BackupManifest | undefined;
  let rdbPath = path;
  if (info.isDirectory()) {
    manifest = await readManifest(path);
    const rdbFile = manifest.files.find((file) => file.role === 'rdb');
    if (!rdbFile) throw new PlaybookError('backup', `${path}: the manifest lists no RDB file`);
    rdbPath = join(path, rdbFile.path);
    for (const file of manifest.files) {
      const digest = await digestFile(join(path, file.path)).catch((error: NodeJS.ErrnoException) => ({ error }));
      if ('error' in digest) {
        items.push({ what: file.path, ok: false, detail: digest.error.code === 'ENOENT' ? 'missing' : digest.error.message });
      } else if (digest.size !== file.size) {
        items.push({ what: `${file.path} size`, ok: false, detail: `${digest.size} bytes, the manifest says ${file.size} (truncated or grown)` });
      } else if (digest.sha256 !== file.sha256) {
        items.push({ what: `${file.path} sha256`, ok: false, detail: 'content differs from the manifest (changed or corrupted)' });
      } else {
        items.push({ what: `${file.path} sha256`, ok: true, detail: 'matches the manifest' });
      }
    }
  }

  let rdbVersion: number | undefined;
  let rdb: RdbCheck | undefined;
  try {
    rdbVersion = await readRdbVersion(rdbPath);
    items.push({ what: 'RDB header', ok: true, detail: `RDB format version ${rdbVersion}` });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code && code !== 'ENOENT' && !info.isDirectory()) throw new PlaybookError('io', `Cannot read ${rdbPath}: ${(error as Error).message}`, { cause: error });
    items.push({ what: 'RDB header', ok: false, detail: code === 'ENOENT' ? 'file missing' : (error as Error).message });
  }
  if (rdbVersion !== undefined) {
    rdb = await checkRdb(engine, rdbPath);
    items.push({ what: `${engine.checkRdb} ${rdbPath.slice(path.length + 1) || rdbPath}`, ok: rdb.ok, detail: rdb.message });
  }
  if (manifest?.files.some((file) => file.role === 'aof')) {
    const aof = await checkAof(engine, join(path, 'appendonlydir', aofManifestName(manifest.config.appendfilename)));
    items.push({ what: `${engine.checkAof} appendonlydir`, ok: aof.ok, detail: aof.message });
  }
  return { ok: items.every((item) => item.ok), path, manifest, rdbPath, rdbVersion, rdb, items };
}

/** The first failed item of a check, as one line ("dump.rdb sha256: content differs…"). */
export function checkFailure(result: CheckResult): string {
  const failed = result.items.find((item) => !item.ok);
  return failed ? `${failed.what}: ${failed.detail}` : 'ok';
}
