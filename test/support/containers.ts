import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import type { RedisContainer } from '../../scripts/harness/docker/container.ts';
import { docker, dockerTry } from '../../scripts/harness/docker/exec.ts';
import { waitFor } from '../../scripts/harness/wait.ts';
import { SHELL_STOPPED_FILE } from '../../scripts/procedures/stop-points.ts';
import { changeMixedDataset, diffDatasets, readDataset, writeMixedDataset, type Dataset } from '../../scripts/redis/dataset.ts';
import { cliCommand, runCli } from './run-cli.ts';

/** Long enough for a CLI run that stops, installs into and starts a container. */
export const SLOW = { timeoutMs: 180_000 };

/**
 * `redis-playbook ARGS` as a child this test can kill, with its stderr lines as they come. Its TMPDIR
 * is `tmp` (inside the test container's root): what a killed run leaves there goes with it.
 */
export function startCliChild(args: string[], env: Record<string, string>) {
  const { file, args: argv, options } = cliCommand(args, env);
  const child = execa(file, argv, { ...options, reject: false, buffer: false, stdin: 'ignore', stdout: 'ignore', stderr: 'pipe' });
  const lines: string[] = [];
  const state = { exited: false };
  void child.then(() => (state.exited = true));
  child.stderr.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
  return { child, lines, state };
}

/** A temp dir inside the test container's root, for the CLI runs the test kills. */
export async function tmpIn(redis: RedisContainer): Promise<string> {
  const dir = join(redis.root, 'tmp');
  await mkdir(dir, { recursive: true });
  return dir;
}

/** A container with dataset A backed up (returned with the backup), then changed to dataset B. */
export async function backedUpThenChanged(
  redis: RedisContainer,
  auth: Record<string, string>,
): Promise<{ a: Dataset; b: Dataset; backup: string }> {
  await redis.withClient((client) => writeMixedDataset(client, 'A', 20));
  const a = await redis.withClient(readDataset);
  const made = await runCli(['backup', '--container', redis.name, '--to', join(redis.root, 'backups'), '--json'], auth, SLOW);
  assert.equal(made.exitCode, 0, made.stderr);
  await redis.withClient((client) => changeMixedDataset(client, 'A', 'B'));
  const b = await redis.withClient(readDataset);
  return { a, b, backup: (JSON.parse(made.stdout) as { path: string }).path };
}

/** Which dataset the container holds once running (started if it is not): A, B, or a diff. */
export async function holds(redis: RedisContainer, a: Dataset, b: Dataset): Promise<'A' | 'B'> {
  // A stop the killed CLI asked for may still be under way: wait for it (docker stop), then start.
  await docker(['stop', redis.name]);
  await redis.start();
  const now = await redis.withClient(readDataset);
  if (diffDatasets(a, now, 600_000).length === 0) return 'A';
  assert.deepEqual(diffDatasets(b, now, 600_000), [], 'the container holds the backup or the data from before, nothing else');
  return 'B';
}

/** Names of the running containers that match every `--filter` given. */
export async function runningContainers(filters: string[]): Promise<string[]> {
  const { stdout } = await docker(['ps', '--format', '{{.Names}}', ...filters.flatMap((filter) => ['--filter', filter])]);
  return stdout.split('\n').filter(Boolean);
}

/** Waits until no running container matches the filters (a throwaway a killed CLI started, finishing on its own). */
export async function waitUntilNoContainer(filters: string[], what: string): Promise<void> {
  await waitFor(async () => (await runningContainers(filters)).length === 0, { what, timeoutMs: 120_000 });
}

/**
 * Waits until a throwaway container on `redis`'s volumes whose name starts with `prefix` waits at the
 * stop point `point` (see SHELL_STOP_POINT), and returns its name.
 */
export async function throwawayStoppedAt(redis: RedisContainer, prefix: string, point: string, exited: () => boolean): Promise<string> {
  let found = '';
  await waitFor(
    async () => {
      if (exited()) return true;
      for (const name of await runningContainers([`name=${prefix}`, `volume=${redis.volume}`])) {
        const at = await dockerTry(['exec', name, 'cat', SHELL_STOPPED_FILE]);
        if (at.exitCode === 0 && at.stdout.trim() === point) found = name;
      }
      return found !== '';
    },
    { what: `a throwaway container to reach ${point}`, timeoutMs: 120_000 },
  );
  return found;
}
