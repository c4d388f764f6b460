/**
 * CPU seconds spent by the processes a bench side uses, read from `/proc/<pid>/stat`: each process's
 * own time and the time of its children it has reaped (`utime + stime + cutime + cstime`). For this
 * process that covers its own hashing and copying and the checkers it ran (redis-check-rdb); for a
 * Redis server, its own work and its save children (BGSAVE). Other sessions on the machine are not
 * counted, so `cpu / cores` is the least wall time the side could take on this machine.
 */
import { readFile } from 'node:fs/promises';
import { execa } from 'execa';

let ticksPerSecond: number | undefined;

/** `getconf CLK_TCK`: the unit of the `/proc/<pid>/stat` times (100 on Linux). */
async function clockTicks(): Promise<number> {
  ticksPerSecond ??= Number((await execa('getconf', ['CLK_TCK'])).stdout) || 100;
  return ticksPerSecond;
}

/** Seconds of CPU of one process, and of its children it has reaped; 0 for a process that is gone. */
async function processSeconds(pid: number | 'self'): Promise<{ own: number; children: number }> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (text === undefined) return { own: 0, children: 0 };
  // The fields after "(command) ": state is the first; utime, stime, cutime, cstime the 12th to 15th.
  const fields = text
    .slice(text.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number);
  const tick = await clockTicks();
  return { own: ((fields[11] ?? 0) + (fields[12] ?? 0)) / tick, children: ((fields[13] ?? 0) + (fields[14] ?? 0)) / tick };
}

/** CPU seconds so far: this process, its reaped children (checkers, scratch servers, redis-cli), and `pids` (servers) with theirs. */
export async function cpuSeconds(pids: number[]): Promise<{ node: number; children: number; servers: number }> {
  const self = await processSeconds('self');
  const servers = await Promise.all(pids.map((pid) => processSeconds(pid)));
  return {
    node: self.own,
    children: self.children,
    servers: servers.reduce((sum, server) => sum + server.own + server.children, 0),
  };
}

/** The CPU seconds spent between two readings of {@link cpuSeconds}, with their total. */
export function cpuSpent(before: CpuSeconds, after: CpuSeconds): CpuSeconds & { total: number } {
  const node = after.node - before.node;
  const children = after.children - before.children;
  const servers = after.servers - before.servers;
  return { node, children, servers, total: node + children + servers };
}

export type CpuSeconds = Awaited<ReturnType<typeof cpuSeconds>>;
