import { readdir, readFile, readlink, realpath } from 'node:fs/promises';

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
  const found: RunningServer[] = [];
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid)) continue;
    const comm = (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim();
    if (!/^(redis|valkey)-server$/.test(comm)) continue;
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => undefined);
    if (cwd !== target) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => comm);
    found.push({ pid: Number(pid), command: cmdline.replace(/\0/g, ' ').trim() });
  }
  return found;
}
