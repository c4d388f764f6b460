import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { startRedisContainer, type RedisContainer } from '../../scripts/harness/docker/container.ts';
import { docker, dockerTry } from '../../scripts/harness/docker/exec.ts';
import { waitFor } from '../../scripts/harness/wait.ts';
import { SHELL_STOPPED_FILE } from '../../scripts/procedures/stop-points.ts';
import { changeMixedDataset, diffDatasets, readDataset, writeMixedDataset, type Dataset } from '../../scripts/redis/dataset.ts';
import { answeringServer } from './faults.ts';
import { cliCommand, runCli } from './run-cli.ts';

/** Long enough for a CLI run that stops, installs into and starts a container. */
export const SLOW = { timeoutMs: 180_000 };

/**
 * `redis-playbook ARGS` as a child this test can kill, with its stderr lines as they come. Give it a
 * TMPDIR in `env` inside the test server's root ({@link tmpIn}): what a killed run leaves there goes with it.
 */
export function startCliChild(args: string[], env: Record<string, string>) {
  const { file, args: argv, options } = cliCommand(args, env);
  const child = execa(file, argv, { ...options, reject: false, buffer: false, stdin: 'ignore', stdout: 'ignore', stderr: 'pipe' });
  const lines: string[] = [];
  const state = { exited: false };
  void child.then(() => (state.exited = true));
  // Whole lines only: a line split across two chunks is pushed once it is complete.
  let partial = '';
  child.stderr.on('data', (chunk: Buffer) => {
    const complete = (partial + chunk.toString()).split('\n');
    partial = complete.pop() ?? '';
    lines.push(...complete.filter(Boolean));
  });
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
async function throwawayStoppedAt(redis: RedisContainer, prefix: string, point: string, exited: () => boolean): Promise<string> {
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

/**
 * Runs `redis-playbook ARGS` (a `--container` command on `redis`) with the stop point `point`, kills
 * its throwaway container (name starting with `prefix`) there with `docker kill`, and waits for the CLI
 * to end and the killed throwaway to be removed. Returns the CLI's run and its stderr lines.
 */
export async function killThrowawayAt(redis: RedisContainer, args: string[], env: Record<string, string>, prefix: string, point: string) {
  const { child, lines, state } = startCliChild(args, { ...env, TMPDIR: await tmpIn(redis), REDIS_PLAYBOOK_STOP_AT: point });
  const helper = await throwawayStoppedAt(redis, prefix, point, () => state.exited);
  assert.notEqual(helper, '', `${args.join(' ')} ended before ${point}: ${lines.join(' | ')}`);
  await docker(['kill', helper]);
  const run = await child;
  await waitUntilNoContainer([`name=${prefix}`, `volume=${redis.volume}`], 'the killed throwaway container to be removed');
  return { run, lines };
}

/** A {@link backedUpThenChanged} container: appendonly yes, a password, /data owned by the image's redis user. */
export async function backedUpContainer(password: string) {
  const redis = await startRedisContainer({ password, config: { appendonly: 'yes', save: '3600 1' } });
  try {
    await docker(['exec', redis.name, 'chown', '-R', '999:999', '/data']);
    return { redis, ...(await backedUpThenChanged(redis, { REDISCLI_AUTH: password })) };
  } catch (error) {
    await redis.dispose();
    throw error;
  }
}

/**
 * The frame of a test that interrupts `restore --container` again and again, one interruption per
 * step: on a {@link backedUpContainer}, `interrupt` runs one restore and interrupts it (it may assert
 * on what the CLI said) and returns the step's label, and what the container must load after it when
 * that is known. Which dataset it loaded is noted (and dataset B written back where it was the
 * backup, for the next step); at the end a re-run must complete. Resolves to the notes
 * (`label: the backup|the data from before`) and the identity of the server that answered.
 */
export async function interruptedContainerRestores<Step>(
  password: string,
  steps: readonly Step[],
  interrupt: (step: Step, scenario: { redis: RedisContainer; backup: string }) => Promise<{ label: string; want?: 'A' | 'B' }>,
): Promise<{ seen: string[]; server: string }> {
  const auth = { REDISCLI_AUTH: password };
  const { redis, a, b, backup } = await backedUpContainer(password);
  await using _redis = redis;
  const seen: string[] = [];
  for (const step of steps) {
    const { label, want } = await interrupt(step, { redis, backup });
    const loaded = await holds(redis, a, b);
    const what = (dataset: 'A' | 'B') => (dataset === 'A' ? 'the backup' : 'the data from before');
    if (want !== undefined) assert.equal(loaded, want, `interrupted at ${label}: the container loads ${what(want)}`);
    seen.push(`${label}: ${what(loaded)}`);
    if (loaded === 'A') await redis.withClient((client) => changeMixedDataset(client, 'A', 'B'));
  }
  const rerun = await runCli(['restore', backup, '--container', redis.name], auth, SLOW);
  assert.equal(rerun.exitCode, 0, rerun.stderr);
  assert.equal(await holds(redis, a, b), 'A', 'a re-run completes');
  return { seen, server: await answeringServer(redis) };
}
