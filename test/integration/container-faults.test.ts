import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { dockerSkip } from '../../scripts/harness/docker/available.ts';
import { startRedisContainer, type RedisContainer } from '../../scripts/harness/docker/container.ts';
import { docker, dockerTry } from '../../scripts/harness/docker/exec.ts';
import { waitFor } from '../../scripts/harness/wait.ts';
import { changeMixedDataset, diffDatasets, readDataset, writeMixedDataset, type Dataset } from '../../scripts/redis/dataset.ts';
import { answeringServer, faultCases } from '../support/faults.ts';
import { cliCommand, runCli } from '../support/run-cli.ts';

// Skipped with "Docker not available here" where Docker is missing; with PLAYBOOK_REQUIRE_ALL=1 they run and fail.
const skip = await dockerSkip();

const PASSWORD = `pw ${randomBytes(6).toString('hex')}`;
const AUTH = { REDISCLI_AUTH: PASSWORD };
const SLOW = { timeoutMs: 180_000 };

/** A container with dataset A backed up (returned with the backup), then changed to dataset B. */
async function backedUpThenChanged(redis: RedisContainer): Promise<{ a: Dataset; b: Dataset; backup: string }> {
  await redis.withClient((client) => writeMixedDataset(client, 'A', 20));
  const a = await redis.withClient(readDataset);
  const made = await runCli(['backup', '--container', redis.name, '--to', join(redis.root, 'backups'), '--json'], AUTH, SLOW);
  assert.equal(made.exitCode, 0, made.stderr);
  await redis.withClient((client) => changeMixedDataset(client, 'A', 'B'));
  const b = await redis.withClient(readDataset);
  return { a, b, backup: (JSON.parse(made.stdout) as { path: string }).path };
}

/**
 * `redis-playbook restore --container` as a child, with its stderr lines as they come. Its TMPDIR is
 * `tmp` (inside the test container's root): what a killed run leaves there goes with it.
 */
function startRestore(backup: string, container: string, tmp: string, env: Record<string, string> = {}) {
  const { file, args, options } = cliCommand(['restore', backup, '--container', container], { ...AUTH, TMPDIR: tmp, ...env });
  const child = execa(file, args, { ...options, reject: false, buffer: false, stdin: 'ignore', stdout: 'ignore', stderr: 'pipe' });
  const lines: string[] = [];
  const state = { exited: false };
  void child.then(() => (state.exited = true));
  child.stderr?.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
  return { child, lines, state };
}

/** A temp dir inside the test container's root, for the CLI runs the test kills. */
async function tmpIn(redis: RedisContainer): Promise<string> {
  const dir = join(redis.root, 'tmp');
  await mkdir(dir, { recursive: true });
  return dir;
}

/** Which dataset the container holds once running (started if it is not): A, B, or a diff. */
async function holds(redis: RedisContainer, a: Dataset, b: Dataset): Promise<'A' | 'B'> {
  // A stop the killed CLI asked for may still be under way: wait for it (docker stop), then start.
  await docker(['stop', redis.name]);
  await redis.start();
  const now = await redis.withClient(readDataset);
  if (diffDatasets(a, now, 600_000).length === 0) return 'A';
  assert.deepEqual(diffDatasets(b, now, 600_000), [], 'the container holds the backup or the data from before, nothing else');
  return 'B';
}

test('restore --container killed with SIGKILL as it stops, installs and starts the container: it loads the data from before or the backup, and a re-run completes', { skip }, async (t) => {
  const cases = await faultCases(t, import.meta.url, 'Interrupted work', { 'kill.restore-container': 'restore --container killed with SIGKILL as it stops, installs and starts the container' });
  await using redis = await startRedisContainer({ password: PASSWORD, config: { appendonly: 'yes', save: '3600 1' } });
  await docker(['exec', redis.name, 'chown', '-R', '999:999', '/data']);
  const { a, b, backup } = await backedUpThenChanged(redis);
  const seen: string[] = [];
  for (const phase of [/^stopping container/, /^installing the backup/, /^starting container/]) {
    const { child, lines, state } = startRestore(backup, redis.name, await tmpIn(redis));
    await waitFor(() => lines.some((line) => phase.test(line)) || state.exited, { what: `restore --container to reach ${phase.source}`, timeoutMs: 120_000, intervalMs: 5 });
    child.kill('SIGKILL');
    await child;
    // A throwaway container the killed CLI started finishes on its own: wait until it is gone.
    await waitFor(async () => !(await docker(['ps', '-q', '--filter', `name=redis-playbook-restore-`])).stdout.trim(), { what: 'the throwaway container to finish', timeoutMs: 60_000 });
    const loaded = await holds(redis, a, b);
    seen.push(`${phase.source.slice(1)}: ${loaded === 'A' ? 'the backup' : 'the data from before'}`);
    if (loaded === 'A') await redis.withClient((client) => changeMixedDataset(client, 'A', 'B'));
  }
  const rerun = await runCli(['restore', backup, '--container', redis.name], AUTH, SLOW);
  assert.equal(rerun.exitCode, 0, rerun.stderr);
  assert.equal(await holds(redis, a, b), 'A', 'a re-run completes');
  await cases['kill.restore-container'].passed(`killed at each phase, the container then loaded ${seen.join('; ')}; a re-run completed`, null, await answeringServer(redis));
});

test('the container stopped, or removed, while restore --container waits for it: one line, and the volume holds the backup', { skip }, async (t) => {
  const cases = await faultCases(t, import.meta.url, 'Interrupted work', {
    'restore-container.stopped': 'the container stopped (docker stop) while restore --container waits for it to load the backup',
    'restore-container.removed': 'the container removed (docker rm -f) while restore --container waits for it to load the backup',
  });
  for (const [id, action] of [
    ['restore-container.stopped', 'stop'],
    ['restore-container.removed', 'rm'],
  ] as const) {
    await using redis = await startRedisContainer({ password: PASSWORD, config: { appendonly: 'yes', save: '3600 1' } });
    await docker(['exec', redis.name, 'chown', '-R', '999:999', '/data']);
    const { a, b, backup } = await backedUpThenChanged(redis);
    const server = await answeringServer(redis);
    // The CLI stops itself right after its docker start (REDIS_PLAYBOOK_STOP_AT); the container is
    // stopped or removed then, and the CLI goes on to wait for it.
    const { child, lines, state } = startRestore(backup, redis.name, await tmpIn(redis), { REDIS_PLAYBOOK_STOP_AT: 'container-started' });
    const pid = child.pid as number;
    await waitFor(async () => state.exited || /^\d+ \(.*\) T /.test(await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')), { what: 'restore --container to start the container', timeoutMs: 120_000 });
    assert.equal(state.exited, false, lines.join('\n'));
    await docker(action === 'stop' ? ['stop', '--time', '0', redis.name] : ['rm', '-f', redis.name]);
    child.kill('SIGCONT');
    const run = await child;
    const stderr = lines.join('\n');
    // It noticed at once: one line (after the progress lines) saying where the data is, no stack trace.
    const last = lines.at(-1) ?? '';
    assert.equal(run.exitCode, action === 'stop' ? 1 : 9, stderr);
    assert.match(last, /^redis-playbook: The backup is installed in container \S+, but: /, stderr);
    assert.match(last, action === 'stop' ? /is exited instead of loading its data \(start it again with docker start / : /was removed while it loaded its data: its volume keeps the installed files/);
    assert.match(last, /The previous files are in \/data\/pre-restore-\S+ \(the undo\)\.$/);
    assert.doesNotMatch(stderr, /\n\s+at |Unexpected error/);
    // The volume holds the backup: a container on it loads dataset A.
    if (action === 'rm') {
      const name = `${redis.name}-again`;
      await docker(['run', '-d', '--name', name, '--network', 'none', '-v', `${redis.volume}:/data`, redis.image, 'redis-server', '--appendonly', 'yes']);
      try {
        await waitFor(async () => (await dockerTry(['exec', name, 'redis-cli', 'PING'])).stdout.trim() === 'PONG', { what: 'Redis on the volume', timeoutMs: 30_000 });
        const info = (await docker(['exec', name, 'redis-cli', 'INFO', 'keyspace'])).stdout;
        const keys = [...info.matchAll(/^db\d+:keys=(\d+)/gm)].reduce((sum, match) => sum + Number(match[1]), 0);
        assert.equal(keys, a.size, 'a new container on the volume loads the backup');
      } finally {
        await docker(['rm', '-f', name]);
      }
    } else {
      assert.equal(await holds(redis, a, b), 'A', 'started again, the container loads the backup');
    }
    const said = action === 'stop' ? 'the backup is installed, the container stopped before loading it, and how to start it' : 'the backup is installed and the container was removed, its volume keeps the files';
    await cases[id].passed(`at once, one line: ${said}, and where the previous files are; a container on the volume loads the backup`, run.exitCode ?? null, server);
  }
});

