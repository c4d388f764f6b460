import { readdir, readlink, realpath, stat } from 'node:fs/promises';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { readRdbVersion } from '../redis/rdb.ts';
import type { DataFiles, FileEntry } from './inspect-report.ts';

/** Where the server says its files are. */
export interface DataFilesQuery {
  /** The host the CLI connected to. */
  host: string;
  /** INFO `process_id` of the server. */
  processId: number;
  /** `CONFIG GET dir`. */
  dir: string;
  /** `CONFIG GET dbfilename`. */
  dbfilename: string;
  /** `CONFIG GET appenddirname`, null on servers before Redis 7. */
  appenddirname: string | null;
  /** `CONFIG GET appendfilename`. */
  appendfilename: string;
}

/** Whether `host` names this machine: loopback, `localhost`, or one of its interface addresses. */
export function isThisMachine(host: string): boolean {
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 0) return false;
  const address = host.replace(/^::ffff:/i, '');
  if (address.startsWith('127.') || address === '::1') return true;
  return Object.values(networkInterfaces()).some((list) => list?.some((item) => item.address === address));
}

function errorCode(error: unknown): string {
  return String((error as { code?: unknown } | undefined)?.code ?? error);
}

/** A file's entry; `snapshot` (default: a `.rdb` name) adds its RDB format version. */
async function entry(path: string, name: string, snapshot = name.endsWith('.rdb')): Promise<FileEntry | null> {
  try {
    const info = await stat(path);
    if (!info.isFile()) return null;
    const base = { name, path, size: info.size, mtime: info.mtime.toISOString() };
    if (!snapshot) return base;
    return { ...base, rdbVersion: await readRdbVersion(path).catch(() => null) };
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return null;
    throw error;
  }
}

/**
 * Why the server's `dir` on this machine may not be the server's own, or undefined when it is (or
 * cannot be disproved). On Linux, Redis runs with `dir` as its working directory, so
 * `/proc/<pid>/cwd` tells whether the process that answered is this machine's view of it: a server in
 * a container has a pid this machine does not see (or sees as another process).
 */
async function notOursReason(query: DataFilesQuery): Promise<string | undefined> {
  if (!isThisMachine(query.host)) {
    return `the server runs on another host (${query.host}): run inspect on that host to see its files`;
  }
  if (process.platform !== 'linux') return undefined;
  let cwd: string;
  try {
    cwd = await readlink(`/proc/${query.processId}/cwd`);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'EACCES' || code === 'EPERM') return undefined; // another user's process: cannot confirm, try the dir
    return `the server's process (pid ${query.processId}) is not visible here: it probably runs in a container or a VM`;
  }
  const dir = await realpath(query.dir).catch(() => query.dir);
  if (cwd !== dir) {
    return `process ${query.processId} here is not the server (its directory is not ${query.dir}): the server probably runs in a container`;
  }
  return undefined;
}

/** Lists the snapshot and the AOF files when the server's `dir` is readable from this process. */
export async function listDataFiles(query: DataFilesQuery): Promise<DataFiles> {
  const reason = await notOursReason(query);
  if (reason) return { readable: false, reason };
  try {
    await readdir(query.dir);
  } catch (error) {
    return { readable: false, reason: `${query.dir} is not readable by this process (${errorCode(error)})` };
  }
  const rdb = await entry(join(query.dir, query.dbfilename), query.dbfilename, true);
  if (query.appenddirname === null) {
    const single = await entry(join(query.dir, query.appendfilename), query.appendfilename);
    return { readable: true, rdb, aofDir: query.dir, aofFiles: single ? [single] : null };
  }
  const aofDir = join(query.dir, query.appenddirname);
  let names: string[];
  try {
    names = (await readdir(aofDir)).sort();
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return { readable: true, rdb, aofDir, aofFiles: null };
    return { readable: false, reason: `${aofDir} is not readable by this process (${errorCode(error)})` };
  }
  const files = await Promise.all(names.map((name) => entry(join(aofDir, name), name)));
  return { readable: true, rdb, aofDir, aofFiles: files.filter((file): file is FileEntry => file !== null) };
}
