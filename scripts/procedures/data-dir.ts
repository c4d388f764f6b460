import { readFile, stat } from 'node:fs/promises';
import { assertReadableDir, copyWithDigest, type Digest } from './files.ts';

/**
 * Where backup reads the server's data files from: this machine's file system ({@link hostDataDir}),
 * or a container's (`docker cp`, {@link containerDataDir} in container-files.ts). Paths are the
 * server's own (`CONFIG GET dir` and the names inside it).
 */
export interface DataDirReader {
  /** A path as an operator should read it in a message (`/data/dump.rdb in container redis-1`). */
  describe(path: string): string;
  /** Throws a one-line `io` error unless `dir` exists and can be read. */
  assertReadableDir(dir: string): Promise<void>;
  /** Copies the file at `path` to `dest` (a new local file, fsynced); its size and SHA-256. */
  copyOut: (path: string, dest: string) => Promise<Digest>;
  /** The content of a small text file (the AOF manifest). */
  readText(path: string): Promise<string>;
  /** The size of the file at `path` in bytes, 0 when there is none (an estimate for a space check). */
  sizeOf(path: string): Promise<number>;
}

/** The data dir on this machine, read directly. */
export const hostDataDir: DataDirReader = {
  describe: (path) => path,
  assertReadableDir: (dir) => assertReadableDir(dir, 'The data dir'),
  copyOut: copyWithDigest,
  readText: (path) => readFile(path, 'utf8'),
  sizeOf: (path) =>
    stat(path).then(
      (stats) => stats.size,
      () => 0,
    ),
};
