import { createHash } from 'node:crypto';
import { access, chown, constants, copyFile, mkdir, open, readdir, stat, type FileHandle } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import { PlaybookError } from './errors.ts';
import { runProgramOk } from '../core/run.ts';

/** Size and SHA-256 of a file's content. */
export interface Digest {
  size: number;
  sha256: string;
}

/** Options of {@link copyWithDigest}. */
export interface CopyOptions {
  /**
   * Every chunk is also written here, in order, as it is copied: the write end of a FIFO a checker
   * reads, so that it checks the very bytes that are kept, while they are copied. A write failing
   * (the reader gave up, EPIPE) stops the feed, not the copy: the reader's own verdict tells why.
   */
  tee?: FileHandle;
  /**
   * The source is still being appended to (a snapshot its writer has not finished): until this
   * promise settles, end of file means "not yet". Then the copy ends at the file's end, which must
   * not be below what was copied (else the file was truncated under the copy: an error).
   */
  growing?: Promise<unknown>;
}

const CHUNK_BYTES = 1 << 20;
/** Chunks written but not yet confirmed, at most. */
const IN_FLIGHT = 8;
/** Bytes written to a copy between two starts of its write-back. */
const WRITE_BACK_BYTES = 32 << 20;

/**
 * Early write-back of a file being written (what `sync_file_range(SYNC_FILE_RANGE_WRITE)` does in C;
 * Node has no such call): {@link start} runs an `fdatasync` in the thread pool, unless one still runs,
 * without waiting for it, so that the disk writes the copy while it is made and the final
 * {@link finish} (an `fsync`) waits only for the last pages. An error of any of them is kept and
 * thrown by {@link finish}: the kernel reports a write-back error once per open file, and a copy whose
 * pages could not be written must never look durable.
 */
export class WriteBack {
  readonly #handle: FileHandle;
  #running: Promise<void> | undefined;
  #failure: { error: unknown } | undefined;

  constructor(handle: FileHandle) {
    this.#handle = handle;
  }

  /** Starts writing back what is dirty now, unless a write-back still runs. */
  start(): void {
    if (this.#running) return;
    this.#running = this.#handle
      .datasync()
      .catch((error: unknown) => {
        this.#failure ??= { error };
      })
      .finally(() => {
        this.#running = undefined;
      });
  }

  /** Waits for the running write-back, then `fsync`s: the file is durable when this returns. */
  async finish(): Promise<void> {
    await this.#running;
    if (this.#failure) throw this.#failure.error;
    await this.#handle.sync();
  }

  /** Waits for the running write-back and forgets its outcome (the copy failed anyway). */
  async abandon(): Promise<void> {
    await this.#running;
  }

  /**
   * Keeps write-backs going while `work` (a copy into the file that this object cannot follow, such as
   * the kernel's `copy_file_range`) runs: one after another, each once the previous one ended and a
   * little time passed, so that an idle disk is not asked over and over. Then {@link finish}.
   */
  async during<T>(work: Promise<T>): Promise<T> {
    const state = { over: false };
    const ended = work.then(
      () => (state.over = true),
      () => (state.over = true),
    );
    const pacing = (async () => {
      while (!state.over) {
        this.start();
        await this.#running;
        await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, 20))]);
      }
    })();
    try {
      const result = await work;
      await pacing;
      await this.finish();
      return result;
    } catch (error) {
      await pacing;
      await this.abandon();
      throw error;
    }
  }
}

async function writeAll(handle: FileHandle, chunk: Buffer, position: number | null): Promise<void> {
  for (let offset = 0; offset < chunk.length;) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset, position === null ? null : position + offset);
    offset += bytesWritten;
  }
}

/**
 * Copies `src` to `dest` in one pass, hashing what it copies; `dest` is fsynced before returning.
 * Paths are opened (`dest` must not exist); open handles are used as they are and left open. Reads
 * and writes overlap the hashing. The write-back of the copy starts every {@link WRITE_BACK_BYTES}
 * (an `fdatasync` in the thread pool, not waited for), so the final `fsync` has little left to do.
 */
export async function copyWithDigest(src: string | FileHandle, dest: string | FileHandle, options: CopyOptions = {}): Promise<Digest> {
  const source = typeof src === 'string' ? await open(src, 'r') : src;
  let target: FileHandle | undefined;
  let writeBack: WriteBack | undefined;
  let reading: Promise<unknown> | undefined;
  try {
    if (typeof dest === 'string') {
      await mkdir(dirname(dest), { recursive: true });
      target = await open(dest, 'wx');
    } else {
      target = dest;
    }
    const out = target;
    const hash = createHash('sha256');
    let writerDone = options.growing === undefined;
    const settled = options.growing?.then(
      () => (writerDone = true),
      () => (writerDone = true),
    );
    let feed = options.tee;
    let feeding: Promise<void> = Promise.resolve();
    const feedQueue: Promise<void>[] = [];
    // Writes run behind the reads; the first failure is kept and thrown (never left unhandled).
    const failure: { error: unknown; failed: boolean } = { error: undefined, failed: false };
    const track = (work: Promise<void>) =>
      work.catch((error: unknown) => {
        if (!failure.failed) Object.assign(failure, { error, failed: true });
      });
    const inFlight: Promise<void>[] = [];
    writeBack = new WriteBack(out);
    // Chunk buffers are reused once written (and fed): a fresh 1 MiB buffer per chunk costs more
    // system time in page faults than the copy itself.
    const pool: Buffer[] = [];
    const read = (buffer: Buffer, at: number): Promise<{ buffer: Buffer; bytesRead: number; finished: boolean }> => {
      // Sampled before the read: "the writer had finished and the read found nothing" is the end.
      const finished = writerDone;
      const result = source.read(buffer, 0, CHUNK_BYTES, at).then(({ bytesRead }) => ({ buffer, bytesRead, finished }));
      reading = result;
      return result;
    };
    let position = 0;
    let writtenBack = 0;
    let next = read(pool.pop() ?? Buffer.allocUnsafeSlow(CHUNK_BYTES), 0);
    for (;;) {
      if (failure.failed) throw failure.error;
      const { buffer, bytesRead, finished } = await next;
      if (bytesRead === 0) {
        if (finished) {
          pool.push(buffer);
          break;
        }
        await Promise.race([settled, new Promise((resolve) => setTimeout(resolve, 10))]);
        next = read(buffer, position);
        continue;
      }
      const chunk = buffer.subarray(0, bytesRead);
      const at = position;
      position += bytesRead;
      // The next read runs while this chunk is hashed.
      next = read(pool.pop() ?? Buffer.allocUnsafeSlow(CHUNK_BYTES), position);
      hash.update(chunk);
      const written = track(writeAll(out, chunk, at));
      inFlight.push(written);
      let fed: Promise<void> = Promise.resolve();
      if (feed) {
        const tee = feed;
        feeding = feeding.then(() =>
          feed === undefined
            ? undefined
            : writeAll(tee, chunk, null).catch(() => {
                feed = undefined;
              }),
        );
        fed = feeding;
        // A reader slower than the copy holds the copy back, rather than the chunks piling up in memory.
        feedQueue.push(feeding);
        if (feedQueue.length >= IN_FLIGHT * 4) await feedQueue.shift();
      }
      void Promise.all([written, fed]).then(() => pool.push(buffer));
      if (inFlight.length >= IN_FLIGHT) await inFlight.shift();
      // The disk writes the copy while it is made: the final fsync then waits for the last pages only.
      if (position - writtenBack >= WRITE_BACK_BYTES) {
        writeBack.start();
        writtenBack = position;
      }
    }
    await Promise.all(inFlight);
    await feeding;
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set by the write callbacks above
    if (failure.failed) throw failure.error;
    if (options.growing && (await source.stat()).size !== position) {
      throw new Error(`${typeof src === 'string' ? src : 'The source'} changed size while it was copied (truncated or rewritten)`);
    }
    await writeBack.finish();
    return { size: position, sha256: hash.digest('hex') };
  } finally {
    // No read or write-back left running on a handle about to close (after finish, there is none).
    await reading?.catch(() => undefined);
    await writeBack?.abandon();
    if (typeof src === 'string') await source.close();
    if (typeof dest === 'string') await target?.close();
  }
}

/**
 * Copies `src` into the open file `dest` with the kernel's copy (copy_file_range) while another read
 * of `src` computes its size and SHA-256, then fsyncs `dest`. The two reads see the same bytes unless
 * `src` changes meanwhile, which is detected (its inode, size and modification time are compared
 * before and after) and is an error. Where the open file cannot be reached by a path (not Linux), it
 * is {@link copyWithDigest}: one read, copied and hashed.
 */
export async function copyAlongsideDigest(src: string, dest: FileHandle): Promise<Digest> {
  if (process.platform !== 'linux') return copyWithDigest(src, dest);
  const before = await stat(src);
  // The disk writes the copy while the kernel makes it and the checksum is computed (WriteBack.during).
  const [digest] = await Promise.all([digestFile(src), new WriteBack(dest).during(copyFile(src, `/proc/${process.pid}/fd/${dest.fd}`))]);
  const after = await stat(src);
  const copied = (await dest.stat()).size;
  if (after.ino !== before.ino || after.size !== before.size || after.mtimeMs !== before.mtimeMs || copied !== digest.size) {
    throw new Error(`${src} changed while it was copied`);
  }
  return digest;
}

/** Size and SHA-256 of a file: two reused buffers, the next read running while one is hashed. */
export async function digestFile(path: string): Promise<Digest> {
  const handle = await open(path, 'r');
  let reading: Promise<unknown> | undefined;
  try {
    const hash = createHash('sha256');
    const buffers = [Buffer.allocUnsafeSlow(CHUNK_BYTES), Buffer.allocUnsafeSlow(CHUNK_BYTES)];
    const read = (buffer: Buffer, at: number) => {
      const result = handle.read(buffer, 0, CHUNK_BYTES, at).then(({ bytesRead }) => ({ buffer, bytesRead }));
      reading = result;
      return result;
    };
    let size = 0;
    let next = read(buffers[0] as Buffer, 0);
    for (;;) {
      const { bytesRead, buffer } = await next;
      if (bytesRead === 0) break;
      size += bytesRead;
      next = read(buffer === buffers[0] ? (buffers[1] as Buffer) : (buffers[0] as Buffer), size);
      hash.update(buffer.subarray(0, bytesRead));
    }
    return { size, sha256: hash.digest('hex') };
  } finally {
    await reading?.catch(() => undefined);
    await handle.close();
  }
}

/** fsync a file or directory, so a rename or a copy survives a power loss. */
export async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The stat of the data dir `dataDir`; a one-line `io` error unless it exists and is a directory. */
export async function statDataDir(dataDir: string): Promise<Stats> {
  const info = await stat(dataDir).catch((caught: unknown) => {
    const error = caught as NodeJS.ErrnoException;
    throw new PlaybookError(
      'io',
      `The data dir ${dataDir} ${error.code === 'ENOENT' ? 'does not exist' : `cannot be read: ${error.message}`}`,
      { cause: error },
    );
  });
  if (!info.isDirectory()) throw new PlaybookError('io', `The data dir ${dataDir} is not a directory`);
  return info;
}

/** Throws a one-line `io` error unless `dir` is a directory this process can list and read. */
export async function assertReadableDir(dir: string, what: string): Promise<void> {
  try {
    if (!(await stat(dir)).isDirectory()) throw new PlaybookError('io', `${what} ${dir} is not a directory`);
    await access(dir, constants.R_OK | constants.X_OK);
    await readdir(dir);
  } catch (error) {
    if (error instanceof PlaybookError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable by this user' : (error as Error).message;
    throw new PlaybookError('io', `${what} ${dir} ${reason}`, { cause: error });
  }
}

/** True when `path` exists (file, dir or link). */
export async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    (caught: unknown) => {
      const error = caught as NodeJS.ErrnoException;
      if (error.code === 'ENOENT') return false;
      throw error;
    },
  );
}

/** Makes `path` belong to the data dir's owner when running as root (so the redis user can read it). */
export async function matchOwner(path: string, owner: { uid: number; gid: number } | undefined): Promise<void> {
  if (owner && process.getuid?.() === 0) await chown(path, owner.uid, owner.gid);
}

/**
 * Makes a new folder `<dir>/<name>`, or `<name>-2`, `-3`… when that exists (an earlier run in the same
 * second, a killed one): never an existing folder. Returns its path.
 */
export async function makeNewFolder(dir: string, name: string): Promise<string> {
  for (let n = 1; ; n++) {
    const path = join(dir, n === 1 ? name : `${name}-${n}`);
    try {
      await mkdir(path);
      return path;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || n >= 1000) throw error;
    }
  }
}

/** A UTC timestamp usable as a folder name on any file system: `2026-11-25T21-58-03Z`. */
export function folderStamp(date = new Date()): string {
  return date
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/:/g, '-');
}

/**
 * A new file with no name yet in a directory's file system (Linux `O_TMPFILE`): nothing appears in
 * the directory while it is written, and it vanishes by itself if the process dies. {@link linkAs}
 * gives it a name (same file system: no copy).
 */
export interface UnnamedFile {
  handle: FileHandle;
  /** Gives the file the name `path` (a hard link through `/proc/<pid>/fd/<fd>`, by GNU `ln -L`). */
  linkAs(path: string): Promise<void>;
}

/** Opens an {@link UnnamedFile} in `dir`, or undefined where the system or file system has none. */
export async function openUnnamedFile(dir: string): Promise<UnnamedFile | undefined> {
  if (process.platform !== 'linux') return undefined;
  // __O_TMPFILE (0o20000000, the same on x86 and arm) with O_DIRECTORY, as <fcntl.h> defines O_TMPFILE.
  const O_TMPFILE = 0o20000000 | constants.O_DIRECTORY;
  const handle = await open(dir, O_TMPFILE | constants.O_RDWR, 0o666).catch(() => undefined);
  if (!handle) return undefined;
  return {
    handle,
    linkAs: async (path) => {
      // linkat(AT_SYMLINK_FOLLOW) on the fd's /proc link, which Node's fs.link (plain link(2)) cannot do.
      await runProgramOk('ln', ['-L', '--', `/proc/${process.pid}/fd/${handle.fd}`, path]);
    },
  };
}
