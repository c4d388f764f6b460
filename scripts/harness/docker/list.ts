import { dockerTry, lines } from './exec.ts';

/** Docker things whose names start with a prefix. */
export interface DockerThings {
  containers: string[];
  volumes: string[];
  networks: string[];
}

/** Containers (running or not), volumes and networks whose names start with `prefix`. */
export async function listByPrefix(prefix: string): Promise<DockerThings> {
  // `--filter name=` matches anywhere in the name: keep only real prefixes.
  const names = async (args: string[]) => lines((await dockerTry(args)).stdout).filter((name) => name.startsWith(prefix));
  const [containers, volumes, networks] = await Promise.all([
    names(['ps', '--all', '--filter', `name=${prefix}`, '--format', '{{.Names}}']),
    names(['volume', 'ls', '--filter', `name=${prefix}`, '--format', '{{.Name}}']),
    names(['network', 'ls', '--filter', `name=${prefix}`, '--format', '{{.Name}}']),
  ]);
  return { containers, volumes, networks };
}
