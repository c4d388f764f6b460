import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, constants, copyFile, mkdir, open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { execa } from 'execa';
import { PlaybookError } from './errors.ts';

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

async function writeAll(handle: FileHandle, chunk: Buffer, position: number | null): Promise<void> {
  for (let offset = 0; offset < chunk.length; ) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset, position === null ? null : position + offset);
    offset += bytesWritten;
  }
}

/**
 * Copies `src` to `dest` in one pass, hashing what it copies; `dest` is fsynced before returning.
 * Paths are opened (`dest` must not exist); open handles are used as they are and left open. Reads
 * and writes overlap the hashing. One fsync at the end: flushing as the copy goes would force
 * journal commits that stall a save child writing to the same file system.
 */
export async function copyWithDigest(src: string | FileHandle, dest: string | FileHandle, options: CopyOptions = {}): Promise<Digest> {
  const source = typeof src === 'string' ? await open(src, 'r') : src;
  let target: FileHandle | undefined;
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
    const failure: { error?: unknown; failed: boolean } = { failed: false };
    const track = (work: Promise<void>) =>
      work.catch((error: unknown) => {
        if (!failure.failed) Object.assign(failure, { error, failed: true });
      });
    const inFlight: Promise<void>[] = [];
    let position = 0;
    for (;;) {
      if (failure.failed) throw failure.error;
      const done = writerDone;
      const buffer = Buffer.allocUnsafeSlow(CHUNK_BYTES);
      const { bytesRead } = await source.read(buffer, 0, CHUNK_BYTES, position);
      if (bytesRead === 0) {
        if (done) break;
        await Promise.race([settled, new Promise((resolve) => setTimeout(resolve, 10))]);
        continue;
      }
      const chunk = buffer.subarray(0, bytesRead);
      hash.update(chunk);
      inFlight.push(track(writeAll(out, chunk, position)));
      if (feed) {
        const tee = feed;
        feeding = feeding.then(() =>
          feed === undefined
            ? undefined
            : writeAll(tee, chunk, null).catch(() => {
                feed = undefined;
              }),
        );
        // A reader slower than the copy holds the copy back, rather than the chunks piling up in memory.
        feedQueue.push(feeding);
        if (feedQueue.length >= IN_FLIGHT * 4) await feedQueue.shift();
      }
      position += bytesRead;
      if (inFlight.length >= IN_FLIGHT) await inFlight.shift();
    }
    await Promise.all(inFlight);
    await feeding;
    if (failure.failed) throw failure.error;
    if (options.growing && (await source.stat()).size !== position) {
      throw new Error(`${typeof src === 'string' ? src : 'The source'} changed size while it was copied (truncated or rewritten)`);
    }
    await out.sync();
    return { size: position, sha256: hash.digest('hex') };
  } finally {
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
  const [digest] = await Promise.all([digestFile(src), copyFile(src, `/proc/${process.pid}/fd/${dest.fd}`).then(() => dest.sync())]);
  const after = await stat(src);
  const copied = (await dest.stat()).size;
  if (after.ino !== before.ino || after.size !== before.size || after.mtimeMs !== before.mtimeMs || copied !== digest.size) {
    throw new Error(`${src} changed while it was copied`);
  }
  return digest;
}

/** Size and SHA-256 of a file. */
export async function digestFile(path: string): Promise<Digest> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { size, sha256: hash.digest('hex') };
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
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return false;
      throw error;
    },
  );
}

/** A UTC timestamp usable as a folder name on any file system: `2026-11-25T21-58-03Z`. */
export function folderStamp(date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/:/g, '-');
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
      await execa('ln', ['-L', '--', `/proc/${process.pid}/fd/${handle.fd}`, path]);
    },
  };
}
