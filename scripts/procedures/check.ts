import { lstat, readFile, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Engine } from '../engines/engine.ts';
import { aofManifestName, parseAofManifest } from '../redis/aof.ts';
import { checkAof, checkRdb, FORMAT_REFUSED, readRdbVersion, type RdbCheck } from '../redis/rdb.ts';
import { loadsRdbVersion, rdbVersionRefusal } from '../redis/rdb-support.ts';
import { PlaybookError } from './errors.ts';
import { copyAlongsideDigest, digestFile, type Digest } from './files.ts';
import { readManifest, type BackupFile, type BackupManifest } from './manifest.ts';

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

/** Options of {@link checkBackup}. */
export interface CheckBackupOptions {
  /**
   * Also copy the snapshot into this open file while its checksum is computed, so that a restore
   * stages the file it installs during its check (a change of the snapshot between the copy and the
   * checksum is an error: see copyAlongsideDigest). Left open; fsynced when the check returns.
   */
  copyRdbTo?: FileHandle;
  /**
   * Trust the checkers' verdicts recorded in the manifest when the backup was taken, instead of
   * running the checkers again, for each file set whose every file's SHA-256 matches the manifest
   * (then these are the very bytes the checker passed) and, for the RDB, when `engine` is of the
   * product that made the backup (Redis or Valkey) and loads its format (measured with a probe file). Anything else (a mismatch, a failed or missing recorded
   * verdict, a bare RDB) runs the checker as without this option. A restore uses it unless `--recheck`.
   */
  trustRecorded?: boolean;
}

/** The detail of a verdict taken from the manifest. */
const RECORDED = 'recorded when the backup was taken; the SHA-256 of these bytes matches the manifest';

/** Size and SHA-256 of `file`, or why it could not be read; copies it into `copyTo` on the way when given. */
async function readDigest(file: string, copyTo: FileHandle | undefined): Promise<Digest | { error: NodeJS.ErrnoException }> {
  try {
    return copyTo ? await copyAlongsideDigest(file, copyTo) : await digestFile(file);
  } catch (error) {
    const failure = error as NodeJS.ErrnoException;
    // Reading the backup failed: a finding. Writing the copy failed (disk full…): not the backup's fault.
    if (failure.path === file || failure.syscall === 'read') return { error: failure };
    throw new PlaybookError('io', `Cannot copy ${file}: ${failure.message}`, { cause: error });
  }
}

/**
 * What is wrong with a manifest's file before any of it is read: a symbolic link anywhere on its path
 * inside the backup (a hostile backup pointing at other files), not a plain file, or another size than
 * the manifest says (a multi-gigabyte file where kilobytes are expected is never read, nor copied).
 * Undefined when it is a plain file of the listed size.
 */
export async function fileProblem(backup: string, file: BackupFile): Promise<CheckItem | undefined> {
  const parts = file.path.split('/');
  for (let i = 1; i <= parts.length; i++) {
    const relative = parts.slice(0, i).join('/');
    const info = await lstat(join(backup, relative)).catch((error: unknown) => error as NodeJS.ErrnoException);
    if (info instanceof Error) return { what: file.path, ok: false, detail: info.code === 'ENOENT' ? 'missing' : info.message };
    if (info.isSymbolicLink())
      return { what: file.path, ok: false, detail: `${relative} is a symbolic link: a backup holds plain files only` };
    if (i < parts.length ? !info.isDirectory() : !info.isFile())
      return { what: file.path, ok: false, detail: `${relative} is not a plain ${i < parts.length ? 'dir' : 'file'}` };
    if (i === parts.length && info.size !== file.size) {
      return { what: `${file.path} size`, ok: false, detail: `${info.size} bytes, the manifest says ${file.size} (truncated or grown)` };
    }
  }
  return undefined;
}

/**
 * The AOF manifest inside the backup may name only files the backup's manifest lists, in its own dir
 * (redis-check-aof would otherwise read, and a server load, files from anywhere).
 */
async function aofManifestProblem(backup: string, manifest: BackupManifest): Promise<CheckItem | undefined> {
  const name = aofManifestName(manifest.config.appendfilename);
  const what = `appendonlydir/${name}`;
  if (!manifest.files.some((file) => file.path === what))
    return { what, ok: false, detail: 'the AOF files are listed, but not their manifest' };
  try {
    const listed = new Set(manifest.files.map((file) => file.path));
    for (const entry of parseAofManifest(await readFile(join(backup, what), 'utf8'))) {
      if (!listed.has(`appendonlydir/${entry.file}`))
        return { what, ok: false, detail: `names ${entry.file}, which the backup's manifest does not list` };
    }
  } catch (error) {
    return { what, ok: false, detail: (error as Error).message };
  }
  return undefined;
}

/**
 * Checks a backup folder: every file's size and SHA-256 against the manifest, redis-check-rdb on the
 * snapshot, and redis-check-aof on the AOF manifest when an AOF set is present. A bare `.rdb` file is
 * checked too (its header and redis-check-rdb). An RDB format newer than `engine` loads fails as
 * `RDB format` naming both versions (the engine's limit measured with its own checker). Never changes
 * anything. The checkers run (as other processes) while the checksums are computed; with
 * `trustRecorded`, the verdicts recorded at backup time stand in for them where the checksums prove
 * the bytes are the ones checked then (see {@link CheckBackupOptions.trustRecorded}).
 */
export async function checkBackup(path: string, engine: Engine, options: CheckBackupOptions = {}): Promise<CheckResult> {
  const info = await stat(path).catch((caught: unknown) => {
    const error = caught as NodeJS.ErrnoException;
    throw new PlaybookError('io', `${path} ${error.code === 'ENOENT' ? 'does not exist' : `cannot be read: ${error.message}`}`, {
      cause: error,
    });
  });
  let manifest: BackupManifest | undefined;
  let rdbPath = path;
  if (info.isDirectory()) {
    manifest = await readManifest(path);
    const rdbFile = manifest.files.find((file) => file.role === 'rdb');
    if (!rdbFile) throw new PlaybookError('backup', `${path}: the manifest lists no RDB file`);
    rdbPath = join(path, rdbFile.path);
    // Nothing of a backup is read, run or copied before its files are known to be what the manifest says.
    const problems: CheckItem[] = [];
    for (const file of manifest.files) {
      const problem = await fileProblem(path, file);
      if (problem) problems.push(problem);
    }
    // Redis 7+ keeps an AOF dir with a manifest naming its files; Redis 6 one file (no appenddirname).
    const aofDir = manifest.config.appenddirname !== undefined && manifest.files.some((file) => file.role === 'aof');
    const aofProblem = problems.length === 0 && aofDir ? await aofManifestProblem(path, manifest) : undefined;
    if (aofProblem) problems.push(aofProblem);
    if (problems.length > 0) return { ok: false, path, manifest, rdbPath, rdbVersion: undefined, rdb: undefined, items: problems };
  }

  let rdbVersion: number | undefined;
  let header: CheckItem;
  try {
    rdbVersion = await readRdbVersion(rdbPath);
    header = { what: 'RDB header', ok: true, detail: `RDB format version ${rdbVersion}` };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code && code !== 'ENOENT' && !info.isDirectory())
      throw new PlaybookError('io', `Cannot read ${rdbPath}: ${(error as Error).message}`, { cause: error });
    header = { what: 'RDB header', ok: false, detail: code === 'ENOENT' ? 'file missing' : (error as Error).message };
  }
  // The checkers read the files themselves, in other processes, while this one computes checksums.
  // Trusting the recorded verdicts, they run only after the checksums, and only if those do not match.
  const trust = options.trustRecorded === true && manifest !== undefined;
  const runRdbCheck = () => (rdbVersion === undefined ? undefined : checkRdb(engine, rdbPath));
  const hasAof = manifest?.files.some((file) => file.role === 'aof') ?? false;
  // Redis 7+: the checker reads the AOF dir through its manifest; Redis 6 (no appenddirname): the one AOF file.
  const aofTarget = manifest?.config.appenddirname === undefined ? manifest?.config.appendfilename : 'appendonlydir';
  const aofCheckPath = () =>
    manifest?.config.appenddirname === undefined
      ? join(path, manifest?.config.appendfilename ?? '')
      : join(path, 'appendonlydir', aofManifestName(manifest.config.appendfilename));
  const runAofCheck = () => (manifest && hasAof ? checkAof(engine, aofCheckPath()) : undefined);
  let rdbChecking = trust ? undefined : runRdbCheck();
  let aofChecking = trust ? undefined : runAofCheck();
  // Whether this engine loads the snapshot's format: the checker's own answer on a probe file (fast).
  const formatLoads = trust && rdbVersion !== undefined && manifest?.checks.rdb.ok ? loadsRdbVersion(engine, rdbVersion) : undefined;
  // Never left unhandled while the checksums are computed; awaited below.
  rdbChecking?.catch(() => undefined);
  aofChecking?.catch(() => undefined);
  formatLoads?.catch(() => undefined);

  const items: CheckItem[] = [];
  let copied = false;
  for (const file of manifest?.files ?? []) {
    const copyTo = file.role === 'rdb' && join(path, file.path) === rdbPath ? options.copyRdbTo : undefined;
    copied ||= copyTo !== undefined;
    const digest = await readDigest(join(path, file.path), copyTo);
    if ('error' in digest) {
      items.push({ what: file.path, ok: false, detail: digest.error.code === 'ENOENT' ? 'missing' : digest.error.message });
    } else if (digest.size !== file.size) {
      items.push({
        what: `${file.path} size`,
        ok: false,
        detail: `${digest.size} bytes, the manifest says ${file.size} (truncated or grown)`,
      });
    } else if (digest.sha256 !== file.sha256) {
      items.push({ what: `${file.path} sha256`, ok: false, detail: 'content differs from the manifest (changed or corrupted)' });
    } else {
      items.push({ what: `${file.path} sha256`, ok: true, detail: 'matches the manifest' });
    }
  }
  // A bare RDB has no checksum to compare: it is copied for the restore all the same.
  if (options.copyRdbTo && !copied && rdbVersion !== undefined) {
    const digest = await readDigest(rdbPath, options.copyRdbTo);
    if ('error' in digest) header = { what: 'RDB file', ok: false, detail: digest.error.message };
  }

  items.push(header);
  let rdb: RdbCheck | undefined;
  let trustedAof: CheckItem | undefined;
  if (trust && manifest) {
    const matches = (role: BackupFile['role']) =>
      manifest.files
        .filter((file) => file.role === role)
        .every((file) => items.some((item) => item.what === `${file.path} sha256` && item.ok));
    // Same product only: another engine's checker could read the same format version differently.
    const sameProduct = manifest.source.engine === engine.product;
    if (sameProduct && header.ok && manifest.checks.rdb.ok && matches('rdb') && (await formatLoads?.catch(() => false)) === true) {
      items.push({
        what: `${engine.checkRdb} ${rdbPath.slice(path.length + 1)}`,
        ok: true,
        detail: `${manifest.checks.rdb.message} (${RECORDED})`,
      });
    } else {
      rdbChecking = runRdbCheck();
    }
    if (hasAof && manifest.checks.aof?.ok && matches('aof')) {
      trustedAof = { what: `${engine.checkAof} ${aofTarget}`, ok: true, detail: `${manifest.checks.aof.message} (${RECORDED})` };
    } else {
      aofChecking = runAofCheck();
    }
  }
  if (rdbChecking) {
    rdb = await rdbChecking;
    // A format newer than this engine reads: not damage, but a backup this server cannot load.
    const refusal =
      !rdb.ok && FORMAT_REFUSED.test(rdb.output) && rdbVersion !== undefined ? await rdbVersionRefusal(engine, rdbVersion) : undefined;
    if (refusal) items.push({ what: 'RDB format', ok: false, detail: refusal });
    else items.push({ what: `${engine.checkRdb} ${rdbPath.slice(path.length + 1) || rdbPath}`, ok: rdb.ok, detail: rdb.message });
  }
  if (trustedAof) items.push(trustedAof);
  if (aofChecking) {
    const aof = await aofChecking;
    items.push({ what: `${engine.checkAof} ${aofTarget}`, ok: aof.ok, detail: aof.message });
  }
  return { ok: items.every((item) => item.ok), path, manifest, rdbPath, rdbVersion, rdb, items };
}

/** The first failed item of a check, as one line ("dump.rdb sha256: content differs…"). */
export function checkFailure(result: CheckResult): string {
  const failed = result.items.find((item) => !item.ok);
  return failed ? `${failed.what}: ${failed.detail}` : 'ok';
}
