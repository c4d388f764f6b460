import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Engine } from '../engines/engine.ts';
import { waitFor } from '../core/wait.ts';
import { aofManifestName, parseAofManifest } from '../redis/aof.ts';
import { flattenInfo, parseInfo } from '../redis/info.ts';
import { parseReplication, snapshotReplication } from '../redis/replication.ts';
import { checkAof, FORMAT_REFUSED, readRdbVersion } from '../redis/rdb.ts';
import { rdbVersionRefusal } from '../redis/rdb-support.ts';
import type { SaveProgress } from './bgsave.ts';
import { snapshotAndCopy } from './snapshot-copy.ts';
import { configGet, pollOptions, type RedisCommands } from './commands.ts';
import { hostDataDir, type DataDirReader } from './data-dir.ts';
import { PlaybookError } from './errors.ts';
import { digestFile, folderStamp, fsyncPath } from './files.ts';
import { BackupManifestSchema, MANIFEST_FILE, type BackupFile, type BackupManifest } from './manifest.ts';
import { listBackups, type BackupEntry } from './backups.ts';
import { lockDataDir } from './lock.ts';
import { assertFreeSpace, formatBytes, isDiskFull } from './space.ts';
import { LONG_RUN, runProgram } from '../core/run.ts';

export interface BackupOptions {
  /** The server to back up: a connected ioredis client, or a container's `docker exec` carrier (container-redis.ts). */
  client: RedisCommands;
  /**
   * Where the server was reached (recorded in the manifest; never a password): host and port as the
   * client used them, and the container's name when the backup went through `docker exec`.
   */
  source: { host: string; port: number; container?: string; socket?: string };
  /** How the data dir is read: this machine's file system (default), or a container's (`docker cp`). */
  files?: DataDirReader;
  /**
   * Programs of the engine (the checkers), or how to choose them from the server's `INFO server`
   * fields once connected (its own programs when they are here).
   */
  engine: Engine | ((server: Record<string, string | undefined>) => Promise<Engine>);
  /** The backup root: each backup is a folder inside it. */
  to: string;
  /** Keep only this many newest complete backups in `to` (older ones are removed after success). */
  keep?: number;
  /** Progress of the save and the copy. */
  onProgress?: (event: BackupProgress) => void;
}

export type BackupProgress =
  SaveProgress | { phase: 'copying'; file: string } | { phase: 'checking'; file: string } | { phase: 'pruned'; path: string };

export interface BackupResult {
  /** The new backup folder. */
  path: string;
  manifest: BackupManifest;
  /** Older backups removed by `keep`. */
  pruned: string[];
}

/**
 * Where the server keeps its AOF: Redis 7+ and Valkey a dir `appenddirname` with a manifest and its
 * files; Redis 6 one file `appendfilename` in `dir` (no `appenddirname` parameter, no manifest).
 */
type AofLayout = { kind: 'dir'; dir: string; appendfilename: string } | { kind: 'file'; file: string; appendfilename: string };

/** Copies of the AOF set tried before a backup gives up on a server that rewrites it faster. */
const MAX_AOF_COPIES = 5;

/**
 * Copies the AOF set as it stands between rewrites: waits for a running rewrite, copies the set its
 * manifest names, and copies again when a rewrite replaced the set meanwhile (the manifest changed, or
 * a file vanished), up to {@link MAX_AOF_COPIES} times; the server's settings are left alone. A write in
 * flight may leave a partial command at the end of the copied incr file (or the single AOF file of
 * Redis 6); the copy (never the server's file) is then cut back to the last whole command, and the
 * manifest says so. The copy is checked with the engine's own redis-check-aof: on the AOF manifest,
 * or on Redis 6 on the file itself.
 */
async function copyAofSet(
  client: RedisCommands,
  files: DataDirReader,
  engine: Engine,
  layout: AofLayout,
  temp: string,
  onProgress: BackupOptions['onProgress'],
) {
  const persistence = async () => flattenInfo(parseInfo(await client.info('persistence')));
  const rewritten = new Error('the AOF was rewritten during the copy');
  let copied: BackupFile[];
  let checkPath: string;
  for (let attempt = 1; ; attempt++) {
    await waitFor(
      async () => {
        const info = await persistence();
        return info.aof_rewrite_in_progress === '0' && info.aof_rewrite_scheduled === '0';
      },
      { what: 'the AOF rewrite to finish', timeoutMs: 3_600_000, ...pollOptions(client) },
    );
    copied = [];
    try {
      if (layout.kind === 'dir') {
        const destDir = join(temp, 'appendonlydir');
        await rm(destDir, { recursive: true, force: true });
        await mkdir(destDir);
        const manifestName = aofManifestName(layout.appendfilename);
        const manifestText = await files.readText(join(layout.dir, manifestName));
        const names = [manifestName, ...parseAofManifest(manifestText).map((entry) => entry.file)];
        for (const name of names) {
          onProgress?.({ phase: 'copying', file: name });
          const digest = await files.copyOut(join(layout.dir, name), join(destDir, name));
          copied.push({ path: `appendonlydir/${name}`, role: 'aof', ...digest });
        }
        if ((await files.readText(join(layout.dir, manifestName))) !== manifestText) throw rewritten;
        checkPath = join(destDir, manifestName);
      } else {
        // Redis 6: a rewrite replaces the file by rename, and resets aof_base_size to the new file's size.
        const before = (await persistence()).aof_base_size;
        onProgress?.({ phase: 'copying', file: layout.appendfilename });
        const digest = await files.copyOut(layout.file, join(temp, layout.appendfilename));
        copied.push({ path: layout.appendfilename, role: 'aof', ...digest });
        const after = await persistence();
        if (after.aof_base_size !== before || after.aof_rewrite_in_progress !== '0') throw rewritten;
        checkPath = join(temp, layout.appendfilename);
      }
      break;
    } catch (error) {
      // A rewrite that completed during the copy replaced the set (its old files vanish, the manifest
      // changes): copy the new set. The server's settings are never touched (a backup killed while it
      // had paused rewrites would leave them paused), so a busy server may need a few tries.
      const vanished = (error as NodeJS.ErrnoException).code === 'ENOENT' || (error as Error).message.includes('does not exist');
      if (error !== rewritten && !vanished) throw error;
      if (attempt >= MAX_AOF_COPIES) {
        throw new PlaybookError(
          'other',
          `The AOF was rewritten during each of ${MAX_AOF_COPIES} copies of it: run the backup when the server writes less`,
          { cause: error },
        );
      }
    }
  }
  const localPath = (file: BackupFile) => join(temp, file.path);
  let check = await checkAof(engine, checkPath);
  if (!check.ok) {
    // Cut the copy back to the last whole command (answers the checker's y/N prompt), then check again.
    await runProgram(engine.checkAof, ['--fix', check.fixTarget], { input: 'y\n', ...LONG_RUN });
    const fixed = await checkAof(engine, checkPath);
    check = fixed.ok
      ? { ...fixed, message: `AOF is valid after cutting a partial command at the end of the copy (${check.message})` }
      : check;
    for (const file of copied) Object.assign(file, await digestFile(localPath(file)));
  }
  return { files: copied, check: { ok: check.ok, message: check.message } };
}

/**
 * Takes a backup: a fresh snapshot (the proven BGSAVE wait), a copy of the RDB and, when AOF is on,
 * of the AOF set, checksums, checker results and a manifest, in a folder `<to>/<UTC time>` that
 * appears only when complete (it is written under a temporary name and renamed at the end).
 */
export async function backup(options: BackupOptions): Promise<BackupResult> {
  const { client, to, keep, onProgress, files: reader = hostDataDir } = options;
  // `appenddirname` is Redis 7+: Redis 6 keeps its AOF as one file in `dir`.
  const config = await configGet(client, ['dir', 'dbfilename', 'appendonly', 'appenddirname', 'appendfilename'], ['appenddirname']);
  const dir = config.dir as string;
  await reader.assertReadableDir(dir);
  // A restore of this dir refuses while the backup copies from it (and the backup while a restore runs);
  // backups share it. A user who may only read the dir takes no lock, but still finds a restore's.
  await using _lock = reader === hostDataDir ? await lockDataDir(dir, 'backup', { shared: true, optional: true }) : undefined;
  const server = flattenInfo(parseInfo(await client.info('server')));
  const engine = typeof options.engine === 'function' ? await options.engine(server) : options.engine;
  const replication = parseReplication(flattenInfo(parseInfo(await client.info('replication'))));

  await mkdir(to, { recursive: true }).catch((caught: unknown) => {
    const error = caught as Error;
    throw new PlaybookError('io', `Cannot create the backup dir ${to}: ${error.message}`, { cause: error });
  });
  // The fresh snapshot is about the size of the last one, and the AOF set is copied as it is.
  const persistence = flattenInfo(parseInfo(await client.info('persistence')));
  const needed =
    (await reader.sizeOf(join(dir, config.dbfilename as string))) +
    (persistence.aof_enabled === '1' ? Number(persistence.aof_current_size ?? 0) : 0);
  const space = await assertFreeSpace(to, needed, 'the backup');
  const temp = join(to, `.incomplete-${folderStamp()}-${process.pid}-${randomBytes(3).toString('hex')}`);
  await mkdir(temp);
  try {
    const dbfilename = config.dbfilename as string;
    const rdbCopy = join(temp, dbfilename);
    // On this machine the snapshot is copied and checked while the server writes it (snapshot-copy.ts).
    const serverPid = reader === hostDataDir && server.process_id !== undefined ? Number(server.process_id) : undefined;
    const { digest: rdbDigest, check: rdbCheck } = await snapshotAndCopy({
      client,
      engine,
      dir,
      dbfilename,
      dest: rdbCopy,
      copyOut: reader.copyOut,
      serverPid,
      onProgress,
    });
    if (!rdbCheck.ok) {
      // A newer engine's format is not damage: say so, and how to check it with that engine's own checker.
      const refusal = FORMAT_REFUSED.test(rdbCheck.output)
        ? await rdbVersionRefusal(engine, await readRdbVersion(rdbCopy), 'the snapshot')
        : undefined;
      if (refusal)
        throw new PlaybookError(
          'backup',
          `Cannot check the snapshot: ${refusal}; name the server's own program with --server (e.g. /usr/bin/valkey-server)`,
        );
      throw new PlaybookError(
        'backup',
        `The snapshot copied from ${reader.describe(join(dir, dbfilename))} fails ${engine.checkRdb}: ${rdbCheck.message}`,
      );
    }
    const ctime = /AUX FIELD ctime = '(\d+)'/.exec(rdbCheck.output)?.[1];
    const files: BackupFile[] = [{ path: dbfilename, role: 'rdb', ...rdbDigest }];
    const snapshotAt = snapshotReplication(rdbCheck.output);

    const appendonly = config.appendonly === 'yes';
    let aofCheck: { ok: boolean; message: string } | undefined;
    if (appendonly) {
      const appendfilename = config.appendfilename as string;
      const layout: AofLayout =
        config.appenddirname === undefined
          ? { kind: 'file', file: join(dir, appendfilename), appendfilename }
          : { kind: 'dir', dir: join(dir, config.appenddirname), appendfilename };
      const aof = await copyAofSet(client, reader, engine, layout, temp, onProgress);
      files.push(...aof.files);
      aofCheck = aof.check;
    }

    const manifest: BackupManifest = BackupManifestSchema.parse({
      format: 'redis-playbook-backup/1',
      createdAt: new Date((ctime ? Number(ctime) : Math.floor(Date.now() / 1000)) * 1000).toISOString(),
      source: {
        host: options.source.host,
        port: options.source.port,
        ...(options.source.container === undefined ? {} : { container: options.source.container }),
        ...(options.source.socket === undefined ? {} : { socket: options.source.socket }),
        engine: server.server_name ?? 'redis',
        version: server.valkey_version ?? server.redis_version ?? 'unknown',
        rdbVersion: await readRdbVersion(rdbCopy),
        ...(server.executable ? { executable: server.executable } : {}),
      },
      config: {
        dir,
        dbfilename,
        appendonly,
        ...(config.appenddirname === undefined ? {} : { appenddirname: config.appenddirname }),
        appendfilename: config.appendfilename,
      },
      replication: {
        role: replication.role,
        ...(replication.primary ? { primary: replication.primary, link: replication.link } : {}),
        replicas: replication.replicas.length,
        replicationId: snapshotAt?.replicationId ?? replication.replicationId,
        offset: snapshotAt?.offset ?? replication.offset,
      },
      keyspace: Object.fromEntries(Object.entries(rdbCheck.databases).map(([db, counts]) => [db, counts])),
      files,
      checks: { rdb: { ok: rdbCheck.ok, message: rdbCheck.message }, ...(aofCheck ? { aof: aofCheck } : {}) },
    });
    await writeFile(join(temp, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`, { flag: 'wx' });
    await fsyncPath(join(temp, MANIFEST_FILE));
    await fsyncPath(temp);

    const path = await renameUnique(temp, to, folderStamp(new Date(manifest.createdAt)));
    await fsyncPath(to);
    const pruned = keep === undefined ? [] : await prune(to, keep, path, onProgress);
    return { path, manifest, pruned };
  } catch (error) {
    // Only our own incomplete copy is removed: nothing in it existed before this run.
    await rm(temp, { recursive: true, force: true });
    if (isDiskFull(error)) {
      throw new PlaybookError(
        'io',
        `The disk of ${to} filled up during the backup (${formatBytes(space.free)} was free on ${space.mount}; the last snapshot and AOF took ${formatBytes(needed)}); the partial copy was removed`,
        { cause: error },
      );
    }
    throw error;
  }
}

/** Renames `temp` to `<to>/<name>`, or `<name>-2`, `-3`… when a backup of the same second exists. */
export async function renameUnique(temp: string, to: string, name: string): Promise<string> {
  for (let n = 1; ; n++) {
    const target = join(to, n === 1 ? name : `${name}-${n}`);
    try {
      await rename(temp, target);
      return target;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if ((code === 'ENOTEMPTY' || code === 'EEXIST') && n < 100) continue;
      throw error;
    }
  }
}

/** Removes complete backups older than the `keep` newest; never the one just made, never anything else. */
async function prune(to: string, keep: number, current: string, onProgress: BackupOptions['onProgress']): Promise<string[]> {
  return pruneBackups(
    to,
    keep,
    current,
    (entry) => entry.manifest !== undefined,
    (path) => onProgress?.({ phase: 'pruned', path }),
  );
}

/**
 * Removes the backups of `to` that `complete` accepts, older than the `keep` newest of them (by their
 * manifest's `createdAt`); never `current`, never a folder `complete` refuses. Their paths.
 */
export async function pruneBackups(
  to: string,
  keep: number,
  current: string,
  complete: (entry: BackupEntry) => boolean | Promise<boolean>,
  onPruned?: (path: string) => void,
): Promise<string[]> {
  const entries = await listBackups(to);
  const accepted = await Promise.all(entries.map(async (entry) => await complete(entry)));
  const kept = entries.filter((_, index) => accepted[index]);
  const createdAt = (entry: BackupEntry) => entry.manifest?.createdAt ?? entry.cluster?.createdAt ?? '';
  kept.sort((a, b) => createdAt(b).localeCompare(createdAt(a)) || b.path.localeCompare(a.path));
  const pruned: string[] = [];
  for (const entry of kept.slice(Math.max(keep, 1))) {
    if (entry.path === current) continue;
    await rm(entry.path, { recursive: true, force: true });
    pruned.push(entry.path);
    onPruned?.(entry.path);
  }
  return pruned;
}
