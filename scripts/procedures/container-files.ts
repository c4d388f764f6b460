import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { TEMP_PREFIX } from '../core/temp.ts';
import type { ContainerRef } from './container.ts';
import type { DataDirReader } from './data-dir.ts';
import type { DataFilesQuery } from './data-files.ts';
import { dockerUnusable, firstLine, runDocker } from './docker-cli.ts';
import { PlaybookError } from './errors.ts';
import { digestFile, fsyncPath } from './files.ts';
import type { DataFiles, FileEntry } from './inspect-report.ts';

/**
 * The data dir inside a container, read with `docker cp NAME:PATH DEST` (no tool needed in the image;
 * works on volumes and on the container's own file system). Copying dump.rdb while Redis runs is safe
 * for the same reason as on a host: Redis writes a temp file and renames it.
 */
export function containerDataDir(container: ContainerRef): DataDirReader {
  const describe = (path: string) => `${path} in container ${container.name}`;
  const copy = async (path: string, dest: string) => {
    const run = await runDocker(['cp', `${container.id}:${path}`, dest], { timeoutMs: 3_600_000 });
    const unusable = dockerUnusable(run);
    if (unusable) throw unusable;
    if (run.exitCode !== 0) {
      const missing = /Could not find the file|No such file/i.test(`${run.stderr}${run.stdout}`);
      throw new PlaybookError('io', `Cannot copy ${describe(path)}: ${missing ? 'it does not exist' : firstLine(run)}`, {
        command: 'docker cp',
      });
    }
  };
  return {
    describe,
    async assertReadableDir(dir) {
      const run = await runDocker(['exec', container.id, 'test', '-d', dir], { timeoutMs: 60_000 });
      const unusable = dockerUnusable(run);
      if (unusable) throw unusable;
      // 1: not a directory. Anything else (no `test` in the image…) cannot tell: docker cp will.
      if (run.exitCode === 1 && run.stderr.trim() === '') throw new PlaybookError('io', `The data dir ${describe(dir)} does not exist`);
    },
    async copyOut(path, dest) {
      await mkdir(dirname(dest), { recursive: true });
      await copy(path, dest);
      await fsyncPath(dest);
      return digestFile(dest);
    },
    async readText(path) {
      const temp = await mkdtemp(join(tmpdir(), `${TEMP_PREFIX}cp-`));
      try {
        const dest = join(temp, basename(path));
        await copy(path, dest);
        return await readFile(dest, 'utf8');
      } finally {
        await rm(temp, { recursive: true, force: true });
      }
    },
    async sizeOf(path) {
      const run = await runDocker(['exec', container.id, 'stat', '-c', '%s', path], { timeoutMs: 60_000 });
      const unusable = dockerUnusable(run);
      if (unusable) throw unusable;
      const size = Number(run.stdout.trim());
      return run.exitCode === 0 && Number.isSafeInteger(size) ? size : 0;
    },
  };
}

/** For each path: `dir PATH`, then `file SIZE MTIME PATH` for it (or for each file in it). POSIX sh and stat -c (coreutils or busybox). */
const LIST_SCRIPT =
  'for f in "$@"; do if [ -d "$f" ]; then echo "dir $f"; for g in "$f"/*; do [ -f "$g" ] && stat -c "file %s %Y %n" "$g"; done; ' +
  'elif [ -f "$f" ]; then stat -c "file %s %Y %n" "$f"; fi; done; exit 0';

/** Lists the snapshot and the AOF files inside a running container (`docker exec NAME sh -c …`). */
export async function listContainerDataFiles(
  container: ContainerRef,
  query: Omit<DataFilesQuery, 'host' | 'processId'>,
): Promise<DataFiles> {
  const rdbPath = join(query.dir, query.dbfilename);
  const aofPath = join(query.dir, query.appenddirname ?? query.appendfilename);
  const run = await runDocker(['exec', container.id, 'sh', '-c', LIST_SCRIPT, 'sh', rdbPath, aofPath], { timeoutMs: 60_000 });
  if (run.exitCode !== 0)
    return { readable: false, reason: `cannot list ${query.dir} inside container ${container.name} (${firstLine(run)})` };
  const files = new Map<string, FileEntry>();
  let aofDirSeen = false;
  for (const line of run.stdout.split('\n')) {
    if (line === `dir ${aofPath}`) aofDirSeen = true;
    const match = /^file (\d+) (\d+) (.+)$/.exec(line);
    if (!match) continue;
    const path = match[3] as string;
    files.set(path, { name: basename(path), path, size: Number(match[1]), mtime: new Date(Number(match[2]) * 1000).toISOString() });
  }
  const rdb = files.get(rdbPath) ?? null;
  if (query.appenddirname === null) {
    const single = files.get(aofPath);
    return { readable: true, rdb, aofDir: query.dir, aofFiles: single ? [single] : null };
  }
  const aofFiles = [...files.values()]
    .filter((file) => dirname(file.path) === aofPath)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { readable: true, rdb, aofDir: aofPath, aofFiles: aofDirSeen ? aofFiles : null };
}
