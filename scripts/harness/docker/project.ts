import { docker, dockerTry, lines } from './exec.ts';

/** What {@link removeComposeProject} lists and removes: `docker KIND… --quiet --filter label=…`. */
const KINDS = [
  { kind: 'container', list: ['ps', '--all'], remove: (id: string) => ['rm', '--force', '--volumes', id] },
  { kind: 'volume', list: ['volume', 'ls'], remove: (id: string) => ['volume', 'rm', '--force', id] },
  { kind: 'network', list: ['network', 'ls'], remove: (id: string) => ['network', 'rm', id] },
] as const;

/**
 * Removes every container, volume and network carrying Compose project `project`'s label (what its
 * `down --volumes` should have removed, and what a script that never ran `down` left), and returns
 * what is still there afterwards (`container ID`, …): empty when everything went. A listing that
 * fails rejects, so that a daemon that does not answer is never taken for "nothing left".
 */
export async function removeComposeProject(project: string): Promise<string[]> {
  const label = `label=com.docker.compose.project=${project}`;
  const list = async (args: readonly string[]) => lines((await docker([...args, '--quiet', '--filter', label])).stdout);
  for (const { list: args, remove } of KINDS) for (const id of await list(args)) await dockerTry(remove(id));
  const left: string[] = [];
  for (const { kind, list: args } of KINDS) for (const id of await list(args)) left.push(`${kind} ${id}`);
  return left;
}

/** {@link removeComposeProject}, rejecting when anything of the project is still there afterwards. */
export async function disposeComposeProject(project: string): Promise<void> {
  const left = await removeComposeProject(project);
  if (left.length > 0) throw new Error(`Could not remove ${left.join(', ')} of Compose project ${project}`);
}
