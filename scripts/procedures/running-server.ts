import { readFileSync } from 'node:fs';
import { readdir, readlink, realpath } from 'node:fs/promises';
import { PlaybookError } from './errors.ts';

/** A server process found working in a directory. */
export interface RunningServer {
  pid: number;
  command: string;
}

/**
 * Finds redis-server/valkey-server processes whose working directory is `dir`: Redis changes into
 * its data dir (`CONFIG GET dir`) at start, so this tells whether a local server uses that dir.
 * Processes of other users are invisible to a non-root user; run restore as root or as the server's user.
 */
export async function serversUsingDir(dir: string): Promise<RunningServer[]> {
  const target = await realpath(dir);
  // Synchronous reads: /proc is in memory, and the hundreds of processes of a busy machine read one
  // by one through the thread pool cost tens of milliseconds (about 2 ms this way).
  const read = (path: string) => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
  };
  const found: RunningServer[] = [];
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid)) continue;
    const comm = (read(`/proc/${pid}/comm`) ?? '').trim();
    if (!/^(redis|valkey)-server$/.test(comm)) continue;
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => undefined);
    if (cwd !== target) continue;
    const cmdline = read(`/proc/${pid}/cmdline`) ?? comm;
    found.push({ pid: Number(pid), command: cmdline.replace(/\0/g, ' ').trim() });
  }
  return found;
}

/** Throws the one-line `state` refusal when a server runs on `dataDir`: stop it first, then `what` (restore, rewind). */
export async function assertNoServerOn(dataDir: string, what: string): Promise<void> {
  const [first] = await serversUsingDir(dataDir);
  if (first)
    throw new PlaybookError('state', `A server is running on ${dataDir} (pid ${first.pid}: ${first.command}): stop it first, then ${what}`);
}
