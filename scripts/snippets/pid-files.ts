import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Kills (SIGKILL) each process named by a `*.pid` file in `dir`: the servers a practice script
 * daemonized by itself there, whatever the script did. A missing dir, or a process already gone, is fine.
 */
export async function killPidFiles(dir: string): Promise<void> {
  for (const name of (await readdir(dir).catch(() => [])).filter((file) => file.endsWith('.pid'))) {
    const pid = Number(await readFile(join(dir, name), 'utf8').catch(() => ''));
    try {
      if (pid > 0) process.kill(pid, 'SIGKILL');
    } catch {
      // already gone: the script stopped it
    }
  }
}
