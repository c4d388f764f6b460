import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { runProgram } from '../core/run.ts';
import { TEMP_PREFIX } from '../core/temp.ts';

/**
 * Network namespaces for drills that need two machines and a real network cut between them (a host
 * lost with its disk, a partition during a failover). `ip netns add` names each one under
 * /run/netns; a verification names its namespaces `redis-playbook-<random>-<role>`, so the leftover
 * check (leftovers.ts) finds any that a run did not delete.
 */
export const NETNS_DIR = '/run/netns';

/** Fresh names for one drill's namespaces, one per role (`primary`, `replica`): unique per run, so runs never meet. */
export function netnsNames<Role extends string>(roles: readonly Role[]): Record<Role, string> {
  const run = randomBytes(4).toString('hex');
  return Object.fromEntries(roles.map((role) => [role, `${TEMP_PREFIX}${run}-${role}`])) as Record<Role, string>;
}

/** The namespaces whose names start with `prefix` (none when /run/netns does not exist: no namespace was ever added). */
export async function listNetns(prefix = TEMP_PREFIX): Promise<string[]> {
  return (await readdir(NETNS_DIR).catch(() => [] as string[])).filter((name) => name.startsWith(prefix));
}

/**
 * Removes a namespace whatever a drill left in it: SIGKILL to every process still running inside
 * (`ip netns pids`), then `ip netns delete` (its veth goes with it). A name that does not exist is fine.
 */
export async function removeNetns(name: string): Promise<void> {
  if (!(await listNetns(name)).includes(name)) return;
  const pids = await runProgram('ip', ['netns', 'pids', name]);
  for (const pid of pids.stdout
    .split('\n')
    .map(Number)
    .filter((pid) => pid > 0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  const deleted = await runProgram('ip', ['netns', 'delete', name]);
  if (deleted.exitCode !== 0) throw new Error(`ip netns delete ${name} failed: ${deleted.stderr.trim()}`);
}

let probed: Promise<string | undefined> | undefined;

/**
 * Why this machine cannot add network namespaces (not root, no iproute2), or undefined when it can:
 * tried once per process with a throwaway namespace, removed at once.
 */
export function netnsUnavailableReason(): Promise<string | undefined> {
  probed ??= (async () => {
    const [name = ''] = Object.values(netnsNames(['probe']));
    const added = await runProgram('ip', ['netns', 'add', name]);
    if (added.notFound) return 'ip (iproute2) is not installed';
    if (added.exitCode !== 0) return `ip netns add failed: ${added.stderr.trim().split('\n')[0] ?? ''} (it needs root)`;
    await removeNetns(name);
    return undefined;
  })();
  return probed;
}
