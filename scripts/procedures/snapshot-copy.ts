import { constants, open, readdir, readFile, rm, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { RedisCommands } from './commands.ts';
import type { Engine } from '../engines/engine.ts';
import { checkRdb, type RdbCheck } from '../redis/rdb.ts';
import { freshSnapshot, type SaveProgress } from './bgsave.ts';
import { copyWithDigest, type Digest } from './files.ts';
import { runProgramOk } from '../core/run.ts';

export interface SnapshotCopyOptions {
  /** A connected client of the server. */
  client: RedisCommands;
  engine: Engine;
  /** The server's data dir (`CONFIG GET dir`), read on this machine. */
  dir: string;
  /** `CONFIG GET dbfilename`. */
  dbfilename: string;
  /**
   * The server's pid (INFO `process_id`) when it runs on this machine: its save child writes
   * `temp-<child pid>.rdb`, which can then be followed. Undefined: copy after the save only.
   */
  serverPid: number | undefined;
  /** How to copy a data file after the save (default {@link copyWithDigest}: this machine's file system). */
  copyOut?: (path: string, dest: string) => Promise<Digest>;
  /** The copy to make (must not exist); its folder is private to the caller until complete. */
  dest: string;
  onProgress?: (event: SaveProgress | { phase: 'copying' | 'checking'; file: string }) => void;
}

export interface SnapshotCopy {
  digest: Digest;
  /** The RDB checker's verdict on the bytes of `dest`. */
  check: RdbCheck;
  /** True when the copy was made while the server wrote the snapshot, false when after. */
  followed: boolean;
}

/**
 * Takes a fresh snapshot ({@link freshSnapshot}) and copies it to `dest`, with its SHA-256 and the
 * RDB checker's verdict on the copied bytes.
 *
 * While the server's save child writes the snapshot (as `temp-<child pid>.rdb`, renamed to
 * `dbfilename` when complete), the file is copied as it grows, hashed, and fed to the checker through
 * a FIFO, so that copy and check end about when the save does. That copy is kept only if, once the
 * save is done, the file followed is the one named `dbfilename` (same inode), it was copied to its
 * last byte, and the checker passed it. Otherwise (a save that was only scheduled, a server whose
 * child is not visible here, another save replacing the file) the snapshot is copied after the save
 * and checked then: the same result, later.
 */
export async function snapshotAndCopy(options: SnapshotCopyOptions): Promise<SnapshotCopy> {
  const { client, engine, dir, dbfilename, dest, onProgress } = options;
  let following: Promise<Followed | undefined> | undefined;
  const snapshot = freshSnapshot(client, {
    onProgress,
    onStarted: (requestedAt) => {
      if (options.serverPid !== undefined && process.platform === 'linux') {
        // Any failure of the fast way leaves the slow one: remove what it wrote, copy after the save.
        following = follow({ ...options, serverPid: options.serverPid, requestedAt, saved: snapshot, onProgress }).catch(async () => {
          await rm(dest, { force: true });
          return undefined;
        });
      }
    },
  });
  try {
    await snapshot;
  } catch (error) {
    await discard(await following, dest);
    throw error;
  }
  const followed = await following;
  if (followed) {
    const now = await stat(join(dir, dbfilename)).catch(() => undefined);
    if (followed.check.ok && now?.dev === followed.dev && now.ino === followed.ino && now.size === followed.digest.size) {
      return { digest: followed.digest, check: followed.check, followed: true };
    }
    await discard(followed, dest);
  }
  onProgress?.({ phase: 'copying', file: dbfilename });
  const digest = await (options.copyOut ?? copyWithDigest)(join(dir, dbfilename), dest);
  onProgress?.({ phase: 'checking', file: dbfilename });
  return { digest, check: await checkRdb(engine, dest), followed: false };
}

interface Followed {
  digest: Digest;
  check: RdbCheck;
  /** Device and inode of the file that was followed. */
  dev: number;
  ino: number;
}

async function discard(followed: Followed | undefined, dest: string): Promise<void> {
  if (followed) await rm(dest, { force: true });
}

/** Copies and checks the snapshot being written, until `saved` settles. Undefined when its file is not found. */
async function follow(
  options: SnapshotCopyOptions & { serverPid: number; requestedAt: number; saved: Promise<unknown> },
): Promise<Followed | undefined> {
  const { engine, dest, saved, dbfilename, onProgress } = options;
  const source = await findSaveFile(options.dir, options.serverPid, options.requestedAt, saved);
  if (!source) return undefined;
  const fifo = join(dirname(dest), `.${dbfilename}.check-fifo`);
  try {
    await runProgramOk('mkfifo', ['-m', '600', '--', fifo]);
    let copied!: (path: string) => void;
    let notCopied!: (error: unknown) => void;
    const sizesFrom = new Promise<string>((resolve, reject) => ((copied = resolve), (notCopied = reject)));
    sizesFrom.catch(() => undefined);
    // At the copy's priority, not niced: a checker left behind by the save child holds the copy back
    // (the FIFO fills), costs more CPU (a full pipe wakes its writer every 4 KiB) and adds its backlog
    // after the save; keeping up, it only ever waits for the bytes the child writes (measured).
    const checking = checkRdb(engine, fifo, { sizesFrom });
    checking.catch(() => undefined);
    const tee = await openFifoWriter(fifo, checking);
    let digest: Digest;
    try {
      // After the save, what is left: the last chunks, the last fsync.
      saved.then(
        () => onProgress?.({ phase: 'copying', file: dbfilename }),
        () => undefined,
      );
      digest = await copyWithDigest(source, dest, { tee, growing: saved });
    } catch (error) {
      notCopied(error);
      throw error;
    } finally {
      // The checker sees the end of its input.
      await tee?.close();
    }
    copied(dest);
    onProgress?.({ phase: 'checking', file: dbfilename });
    const check = await checking;
    const { dev, ino } = await source.stat();
    return { digest, check, dev, ino };
  } finally {
    await source.close();
    await rm(fifo, { force: true });
  }
}

/**
 * Opens the save child's `temp-<pid>.rdb` in `dir`: a process whose parent is the server, a file
 * created after the request (a stale file of the same name, truncated and reused, does not count).
 * Looks until `saved` settles.
 */
async function findSaveFile(dir: string, serverPid: number, requestedAt: number, saved: Promise<unknown>): Promise<FileHandle | undefined> {
  const save = { over: false };
  saved.then(
    () => (save.over = true),
    () => (save.over = true),
  );
  while (!save.over) {
    for (const name of await readdir(dir)) {
      const pid = /^temp-(\d+)\.rdb$/.exec(name)?.[1];
      if (pid === undefined || (await parentPid(Number(pid))) !== serverPid) continue;
      const handle = await open(join(dir, name), 'r').catch(() => undefined);
      if (!handle) continue;
      // Kernel file times are coarse (a few ms behind the clock): allow for that, no more.
      if ((await handle.stat()).birthtimeMs >= requestedAt - 50) return handle;
      await handle.close();
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return undefined;
}

/** The parent pid of a process, from `/proc/<pid>/stat` (the field after the `(command)`). */
async function parentPid(pid: number): Promise<number | undefined> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  const fields = text?.slice(text.lastIndexOf(')') + 2).split(' ');
  return fields?.[1] === undefined ? undefined : Number(fields[1]);
}

/**
 * Opens a FIFO for writing once its reader (the checker) opens it. If the reader ends first (it could
 * not start), the blocked open is released with a reader of our own, and there is nothing to feed.
 */
async function openFifoWriter(fifo: string, reader: Promise<unknown>): Promise<FileHandle | undefined> {
  const opening = open(fifo, 'w');
  const gone = reader.then(
    () => 'gone' as const,
    () => 'gone' as const,
  );
  const first = await Promise.race([opening, gone]);
  if (first !== 'gone') return first;
  const release = await open(fifo, constants.O_RDONLY | constants.O_NONBLOCK).catch(() => undefined);
  const handle = await opening.catch(() => undefined);
  await handle?.close();
  await release?.close();
  return undefined;
}
