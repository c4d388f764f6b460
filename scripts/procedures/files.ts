import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { access, constants, mkdir, open, readdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PlaybookError } from './errors.ts';

/** Size and SHA-256 of a file's content. */
export interface Digest {
  size: number;
  sha256: string;
}

/** Copies `src` to `dest` in one pass, hashing what it copies; `dest` is fsynced before returning. */
export async function copyWithDigest(src: string, dest: string): Promise<Digest> {
  await mkdir(dirname(dest), { recursive: true });
  const hash = createHash('sha256');
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
  });
  await pipeline(createReadStream(src, { highWaterMark: 1 << 20 }), tap, createWriteStream(dest, { flags: 'wx' }));
  await fsyncPath(dest);
  return { size, sha256: hash.digest('hex') };
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
