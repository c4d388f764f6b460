#!/usr/bin/env node
/**
 * Fails when tests left anything behind: a temp dir named `redis-playbook-*` in the OS temp dir, or a
 * redis-server process started by the harness or a verification (redis-server changes into its data
 * dir, which lives in such a temp dir; its command line is rewritten, so argv cannot tell), a qemu of
 * the power-loss VM (scripts/harness/vm: it runs in such a temp dir, and its command line names the
 * VM's init), a network namespace named `redis-playbook-*` (netns.ts: the drills of a host lost or a
 * partition), or, where
 * Docker answers, a container, volume or network named `redis-playbook-*` (the Docker harness names
 * everything so). `npm test` runs it last. Exit 0 when clean,
 * 1 when something is left (each item on its own line).
 */
import { readdir, readFile, readlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dockerAvailable } from './docker/available.ts';
import { listByPrefix } from './docker/list.ts';
import { VM_INIT } from './vm/machine.ts';
import { listNetns } from './netns.ts';
import { TEMP_PREFIX } from '../core/temp.ts';

export { TEMP_PREFIX };

export async function findLeftovers(): Promise<string[]> {
  const found: string[] = [];
  for (const name of await readdir(tmpdir())) {
    if (name.startsWith(TEMP_PREFIX)) found.push(`temp dir ${join(tmpdir(), name)}`);
  }
  // A tmpfs a fault test mounted (a small or read-only disk) and did not unmount.
  for (const line of (await readFile('/proc/self/mounts', 'utf8').catch(() => '')).split('\n')) {
    const mountPoint = line.split(' ')[1]?.replace(/\\040/g, ' ');
    if (mountPoint?.startsWith(join(tmpdir(), TEMP_PREFIX))) found.push(`mount ${mountPoint}`);
  }
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid)) continue;
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => '');
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replace(/\0/g, ' ').trim();
    if (cwd.startsWith(join(tmpdir(), TEMP_PREFIX))) found.push(`process ${pid} (${cmdline}) in ${cwd}`);
    // A qemu of the power-loss VM, wherever it runs (its kernel command line names the VM's init).
    else if (cmdline.startsWith('qemu-system') && cmdline.includes(VM_INIT)) found.push(`process ${pid} (${cmdline})`);
  }
  for (const name of await listNetns()) found.push(`network namespace ${name}`);
  if (await dockerAvailable()) {
    const docker = await listByPrefix(TEMP_PREFIX);
    for (const name of docker.containers) found.push(`docker container ${name}`);
    for (const name of docker.volumes) found.push(`docker volume ${name}`);
    for (const name of docker.networks) found.push(`docker network ${name}`);
  }
  return found;
}

if (import.meta.main) {
  const leftovers = await findLeftovers();
  for (const item of leftovers) console.error(`left behind: ${item}`);
  console.log(
    leftovers.length === 0
      ? 'No redis-server process, temp dir, network namespace, container or volume left behind.'
      : `${leftovers.length} leftovers`,
  );
  process.exitCode = leftovers.length === 0 ? 0 : 1;
}
