import { randomBytes } from 'node:crypto';
import { copyFile, link, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Engine } from '../engines/engine.ts';
import { aofManifestName, baseOnlyManifest, parseAofManifest } from '../redis/aof.ts';
import { checkBackup, checkFailure, type CheckResult } from './check.ts';
import { PlaybookError } from './errors.ts';
import {
  statDataDir,
  copyWithDigest,
  exists,
  folderStamp,
  fsyncPath,
  makeNewFolder,
  matchOwner,
  openUnnamedFile,
  type UnnamedFile,
} from './files.ts';
import { lockDataDir } from './lock.ts';
import { readManifest } from './manifest.ts';
import { assertFreeSpace, isDiskFull } from './space.ts';
import { assertNoServerOn, serversUsingDir } from './running-server.ts';
import { stopPoint } from './stop-points.ts';

export interface RestoreOptions {
  /** The backup folder (or a bare RDB file) to install. */
  backup: string;
  /** The stopped server's data dir (`CONFIG GET dir`). */
  dataDir: string;
  engine: Engine;
  /** Whether the server starts with `appendonly yes`; defaults to the backup's manifest. Required for a bare RDB. */
  appendonly?: boolean;
  /** Names of the files; default to the backup's manifest, else Redis's defaults. */
  dbfilename?: string;
  appenddirname?: string;
  appendfilename?: string;
  /**
   * Run the checkers on the backup again even where the manifest's recorded verdicts can be trusted
   * (by default, a verdict recorded at backup time stands when the SHA-256 of the very bytes matches
   * the manifest and this engine loads the format: see checkBackup's `trustRecorded`).
   */
  recheck?: boolean;
}

export interface RestoreResult {
  /** The check the backup passed. */
  check: CheckResult;
  /** Folder inside the data dir holding what was there before (the undo); undefined when the dir was empty. */
  movedAside: string | undefined;
  /** What was moved aside, relative to the data dir. */
  movedNames: string[];
  /** What was installed, relative to the data dir. */
  installed: string[];
  appendonly: boolean;
}

/** What a restore installs, decided before anything is touched. */
export interface RestorePlan {
  /** The check the backup passed. */
  check: CheckResult;
  /** Whether the server starts with `appendonly yes` (then a new AOF dir is installed too). */
  appendonly: boolean;
  dbfilename: string;
  /**
   * The AOF dir to install for an `appendonly yes` server; undefined for a server that keeps its AOF
   * as the single file `appendfilename` in its data dir (Redis 6: its backup's manifest has no
   * `appenddirname`): that file is installed then.
   */
  appenddirname: string | undefined;
  appendfilename: string;
  /** The snapshot, already copied (during the check) into a file with no name yet in the data dir's file system. */
  prestaged?: UnnamedFile;
}

/**
 * Checks the backup (refuses one that fails, with a `backup` error; the recorded checker verdicts
 * stand where the checksums prove the bytes unchanged, unless `recheck`) and settles the file names and
 * `appendonly`: from the options, else the backup's manifest, else Redis's defaults. Changes nothing.
 * With `prestaged`, the snapshot is copied into that unnamed file while it is checked.
 */
export async function planRestore(
  options: Pick<RestoreOptions, 'backup' | 'engine' | 'appendonly' | 'dbfilename' | 'appenddirname' | 'appendfilename' | 'recheck'> & {
    prestaged?: UnnamedFile;
  },
): Promise<RestorePlan> {
  const { backup, engine, prestaged } = options;
  const check = await checkBackup(backup, engine, { copyRdbTo: prestaged?.handle, trustRecorded: options.recheck !== true });
  if (!check.ok) throw new PlaybookError('backup', `Refusing to restore ${backup}: ${checkFailure(check)}`);
  const config = check.manifest?.config;
  const appendonly = options.appendonly ?? config?.appendonly;
  if (appendonly === undefined) {
    throw new PlaybookError('usage', 'A bare RDB file has no manifest: say how the server starts with --appendonly yes or --appendonly no');
  }
  const dbfilename = options.dbfilename ?? config?.dbfilename ?? 'dump.rdb';
  // A backup of a Redis 6 server (a manifest without appenddirname) goes back as Redis 6 keeps it.
  const singleFile = options.appenddirname === undefined && config !== undefined && config.appenddirname === undefined;
  const appenddirname = singleFile ? undefined : (options.appenddirname ?? config?.appenddirname ?? 'appendonlydir');
  const appendfilename = options.appendfilename ?? config?.appendfilename ?? 'appendonly.aof';
  for (const [flag, name] of Object.entries({ dbfilename, appenddirname, appendfilename })) {
    if (name === undefined) continue;
    if (name.includes('/') || name === '' || name === '.' || name === '..')
      throw new PlaybookError('usage', `--${flag} must be a plain file name, got "${name}"`);
  }
  return { check, appendonly, dbfilename, appenddirname, appendfilename, prestaged };
}

/** Names the prestaged snapshot `dest`; false when it cannot (then it is copied again). */
async function linkPrestaged(plan: RestorePlan, dest: string): Promise<boolean> {
  if (!plan.prestaged) return false;
  return plan.prestaged.linkAs(dest).then(
    () => true,
    () => false,
  );
}

/** The AOF name a restore moves aside and installs in the data dir: the AOF dir, or Redis 6's single file. */
export function aofName(plan: Pick<RestorePlan, 'appenddirname' | 'appendfilename'>): string {
  return plan.appenddirname ?? plan.appendfilename;
}

/**
 * Writes the files a restore installs into the empty dir `staging`: the snapshot as `dbfilename`
 * (its checksum verified against the manifest while copying) and, for an `appendonly yes` server, a
 * new AOF dir whose only file is the snapshot as base (`<appendfilename>.1.base.rdb`, a hard link)
 * with a one-line manifest; for a Redis 6 server (no AOF dir), the snapshot as its one AOF file
 * `appendfilename` (an AOF with an RDB preamble and no commands after it, which Redis 6 loads
 * whatever its `aof-use-rdb-preamble`). Returns the names to move into the data dir, in order.
 */
export async function stageRestore(plan: RestorePlan, staging: string, owner?: { uid: number; gid: number }): Promise<string[]> {
  const { check, dbfilename, appenddirname, appendfilename } = plan;
  const rdbFile = check.manifest?.files.find((file) => file.role === 'rdb');
  const stagedRdb = join(staging, dbfilename);
  // Prestaged: the bytes the check read and compared with the manifest, fsynced; only a name is added.
  if (!(await linkPrestaged(plan, stagedRdb))) {
    const digest = await copyWithDigest(check.rdbPath, stagedRdb);
    if (rdbFile && (digest.sha256 !== rdbFile.sha256 || digest.size !== rdbFile.size)) {
      throw new PlaybookError('backup', `${check.rdbPath} changed while it was being copied: run the restore again`);
    }
  }
  await matchOwner(stagedRdb, owner);
  if (!plan.appendonly) return [dbfilename];
  if (appenddirname === undefined) {
    const aofFile = join(staging, appendfilename);
    await link(stagedRdb, aofFile).catch(() => copyWithDigest(stagedRdb, aofFile));
    await fsyncPath(staging);
    await matchOwner(aofFile, owner);
    return [dbfilename, appendfilename];
  }
  const aofDir = join(staging, appenddirname);
  await mkdir(aofDir);
  const { baseFile, text } = baseOnlyManifest(appendfilename);
  // A hard link: the base and dump.rdb are the same bytes; Redis replaces either by rename, never in place.
  await link(stagedRdb, join(aofDir, baseFile)).catch(() => copyWithDigest(stagedRdb, join(aofDir, baseFile)));
  await writeFile(join(aofDir, aofManifestName(appendfilename)), text);
  await fsyncPath(join(aofDir, aofManifestName(appendfilename)));
  await fsyncPath(aofDir);
  for (const path of [aofDir, join(aofDir, baseFile), join(aofDir, aofManifestName(appendfilename))]) await matchOwner(path, owner);
  return [dbfilename, appenddirname];
}

/** The size of the snapshot a backup would install (a bare RDB, or the one its manifest lists); undefined when that cannot be told yet (the check will say why). */
async function backupRdbSize(backup: string): Promise<number | undefined> {
  const info = await stat(backup).catch(() => undefined);
  if (info?.isFile()) return info.size;
  if (!info?.isDirectory()) return undefined;
  const manifest = await readManifest(backup).catch(() => undefined);
  return manifest?.files.find((file) => file.role === 'rdb')?.size;
}

/**
 * Switches a live AOF dir (with a manifest) over to the staged one without a moment where there is
 * none: the staged base gets a second name in the live dir (the next sequence number), a copy of the
 * old manifest goes to the undo folder, then one rename puts the new manifest in place (the commit).
 * After it the old files move into the undo folder too. Until the commit `undo` can take it all back;
 * after it, there is nothing to undo (the old files are in the undo folder, or still beside the new).
 */
async function switchAofDir(
  live: string,
  staged: string,
  aside: string,
  appendfilename: string,
  owner: { uid: number; gid: number },
  undo: UndoStep[],
  progress: { committed: boolean },
): Promise<void> {
  const manifestName = aofManifestName(appendfilename);
  const oldEntries = parseAofManifest(await readFile(join(live, manifestName), 'utf8'));
  // The next sequence number whose base name is free (a killed run may have left its base unlisted).
  let seq = Math.max(0, ...oldEntries.map((entry) => entry.seq)) + 1;
  while (await exists(join(live, `${appendfilename}.${seq}.base.rdb`))) seq++;
  const { baseFile: stagedBase } = baseOnlyManifest(appendfilename);
  const base = `${appendfilename}.${seq}.base.rdb`;
  await mkdir(aside);
  await matchOwner(aside, owner);
  undo.push({ run: () => rm(aside, { recursive: true, force: true }), left: `${aside} (a copy of the AOF manifest, not needed)` });
  await copyFile(join(live, manifestName), join(aside, manifestName));
  await link(join(staged, stagedBase), join(live, base)).catch(() => copyWithDigest(join(staged, stagedBase), join(live, base)));
  await matchOwner(join(live, base), owner);
  undo.push({
    run: () => rm(join(live, base), { force: true }),
    left: `${join(live, base)} (the backup's snapshot, which the AOF manifest does not list: not loaded)`,
  });
  const next = join(live, `.${manifestName}.restore-${randomBytes(3).toString('hex')}`);
  await writeFile(next, `file ${base} seq ${seq} type b\n`);
  await matchOwner(next, owner);
  await fsyncPath(next);
  undo.push({ run: () => rm(next, { force: true }), left: `${next} (an unused AOF manifest)` });
  stopPoint('restore-before-manifest-switch');
  await rename(next, join(live, manifestName));
  await fsyncPath(live);
  // Committed: the live dir loads the backup now.
  undo.length = 0;
  progress.committed = true;
  stopPoint('restore-after-manifest-switch');
  for (const entry of oldEntries) {
    if (entry.file === base) continue;
    await rename(join(live, entry.file), join(aside, entry.file)).catch((caught: unknown) => {
      const error = caught as NodeJS.ErrnoException;
      if (error.code !== 'ENOENT') throw error;
    });
  }
  await fsyncPath(live);
  await fsyncPath(aside);
}

/** One step that puts back what a restore switched over, and what is left where when it fails. */
interface UndoStep {
  run: () => Promise<unknown>;
  /** Where things are when this step fails, and what to do (one clause). */
  left: string;
  /** True when it moves a previous file back (the user's data), false when it removes what the restore added. */
  moveBack?: boolean;
}

/**
 * The error of a restore that failed and could not be undone either: exit kind `undo`, saying what
 * failed, why the undo failed, and where each file is (nothing was deleted).
 */
function undoFailed(
  dataDir: string,
  reason: string,
  stuck: { step: UndoStep; error: unknown }[],
  staging: string | undefined,
  cause: unknown,
): PlaybookError {
  const why = (error: unknown) => (error instanceof Error ? error.message : String(error));
  // The previous files first: they are what the operator needs back.
  const ordered = [...stuck.filter(({ step }) => step.moveBack), ...stuck.filter(({ step }) => !step.moveBack)];
  const first = ordered[0] as { step: UndoStep; error: unknown };
  const places = ordered.map(({ step }) => step.left);
  if (staging) places.push(`the backup's staged files are in ${staging}`);
  return new PlaybookError(
    'undo',
    `Restore into ${dataDir} failed (${reason}) and so did putting the previous files back (${why(first.error)}); nothing was deleted: ${places.join('; ')}`,
    { cause },
  );
}

/**
 * Offline rollback: installs a backup into a stopped server's data dir so that its next normal start
 * (same config, `appendonly` unchanged) loads exactly the backup.
 *
 * It refuses a backup that fails its check and a data dir a running server uses; it keeps the current
 * RDB and AOF files in `<dataDir>/pre-restore-<UTC time>/` (nothing is deleted: that folder is the
 * undo); then installs the RDB under `dbfilename` and, for an AOF server, the backup as the only base
 * of its AOF (a one-line manifest). Without that, an `appendonly yes` server would start from the old
 * AOF, or empty. Each name is switched by one atomic rename (an existing AOF dir by its manifest: see
 * switchAofDir), so a run killed at any moment leaves a dir that loads the old data or the backup.
 */
export async function restore(options: RestoreOptions): Promise<RestoreResult> {
  const { dataDir } = options;
  // The backup is copied while it is checked: into a file with no name in the data dir's
  // file system (nothing appears there, and it is gone if the restore stops), named only once the
  // check passed. Where that is not possible, the check comes first and the copy after it.
  const dirExists = (await stat(dataDir).catch(() => undefined))?.isDirectory() === true;
  // One restore or backup at a time on a data dir; a second one refuses, naming the holder.
  await using _lock = dirExists ? await lockDataDir(dataDir, 'restore') : undefined;
  // Room for the snapshot it installs (the AOF base is a hard link of it), before anything is copied.
  const size = dirExists ? await backupRdbSize(options.backup) : undefined;
  if (size !== undefined) await assertFreeSpace(dataDir, size, 'the restored snapshot');
  const idle = dirExists && (await serversUsingDir(dataDir)).length === 0;
  const prestaged = idle ? await openUnnamedFile(dataDir) : undefined;
  await using _prestagedHandle = prestaged?.handle;
  const plan = await planRestore({ ...options, prestaged });
  const { check, appendonly, dbfilename } = plan;

  const dirInfo = await statDataDir(dataDir);
  await assertNoServerOn(dataDir, 'restore');

  const stamp = folderStamp();
  const movedNames: string[] = [];
  let movedAside: string | undefined;
  const present = [];
  for (const name of [dbfilename, aofName(plan)]) if (await exists(join(dataDir, name))) present.push(name);
  const staging = join(dataDir, `.restore-${stamp}-${randomBytes(3).toString('hex')}`);
  const installed: string[] = [];
  /** Puts back what was switched over, newest first; emptied once an AOF switch is committed. */
  const undo: UndoStep[] = [];
  const progress = { committed: false };
  try {
    // 1. Stage the new files first, inside the data dir (same file system: the final renames are atomic).
    await mkdir(staging);
    const names = await stageRestore(plan, staging, dirInfo);

    // 2. Switch each name over with one atomic step, after what is there has a place in the undo
    //    folder: a kill at any moment leaves a data dir that loads either the old data or the backup.
    if (present.length > 0) {
      movedAside = await makeNewFolder(dataDir, `pre-restore-${stamp}`);
      await matchOwner(movedAside, dirInfo);
    }
    for (const name of names) {
      const live = join(dataDir, name);
      const staged = join(staging, name);
      if (!present.includes(name)) {
        await rename(staged, live);
        installed.push(name);
        continue;
      }
      const aside = join(movedAside as string, name);
      if (name === plan.appenddirname && (await exists(join(live, aofManifestName(plan.appendfilename))))) {
        await switchAofDir(live, staged, aside, plan.appendfilename, dirInfo, undo, progress);
      } else if ((await stat(live)).isDirectory()) {
        // An AOF dir without a manifest: moved aside whole, then the new one moved in.
        await rename(live, aside);
        undo.push({ run: () => rename(aside, live), left: `the previous ${name} is in ${aside}: move it back to ${live}`, moveBack: true });
        stopPoint('restore-aof-dir-aside');
        await rename(staged, live);
      } else {
        // A file (the snapshot, Redis 6's AOF): a second name in the undo folder, then the new file over it.
        await link(live, aside).catch(() => copyWithDigest(live, aside));
        stopPoint('restore-file-linked');
        undo.push({ run: () => rename(aside, live), left: `the previous ${name} is in ${aside}: move it back to ${live}`, moveBack: true });
        await rename(staged, live);
      }
      movedNames.push(name);
      installed.push(name);
    }
    await rm(staging, { recursive: true, force: true });
    await fsyncPath(dataDir);
    return { check, movedAside, movedNames, installed, appendonly };
  } catch (error) {
    const reasonOf = () => (isDiskFull(error) ? `the disk of ${dataDir} is full` : error instanceof Error ? error.message : String(error));
    if (progress.committed) {
      // The backup is in place: nothing to undo, and the undo folder holds the previous files.
      await rm(staging, { recursive: true, force: true }).catch(() => undefined);
      throw new PlaybookError(
        'io',
        `The backup is installed in ${dataDir}, but the restore could not finish (${reasonOf()}): the previous files are in ${movedAside} or still beside the new ones`,
        {
          cause: error,
        },
      );
    }
    // Put the data dir back as it was: each switch undone, newest first.
    const stuck: { step: UndoStep; error: unknown }[] = [];
    for (const step of undo.reverse()) await step.run().catch((undoError: unknown) => stuck.push({ step, error: undoError }));
    // rm of the undo folder only when nothing was switched (it then holds second names and copies only).
    if (movedAside && stuck.length === 0) await rm(movedAside, { recursive: true, force: true }).catch(() => undefined);
    const stagingLeft = await rm(staging, { recursive: true, force: true }).then(
      () => false,
      () => true,
    );
    const reason = reasonOf();
    if (stuck.length > 0) throw undoFailed(dataDir, reason, stuck, stagingLeft ? staging : undefined, error);
    if (error instanceof PlaybookError) throw error;
    throw new PlaybookError('io', `Restore into ${dataDir} failed and was undone, the data dir is as before: ${reason}`, { cause: error });
  }
}
