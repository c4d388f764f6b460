import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { dockerSkip } from '../../scripts/harness/docker/available.ts';
import { docker, dockerTry } from '../../scripts/harness/docker/exec.ts';
import { waitFor } from '../../scripts/harness/wait.ts';
import { backedUpContainer, holds, interruptedContainerRestores, startCliChild, tmpIn } from '../support/containers.ts';
import { answeringServer, faultCases } from '../support/faults.ts';

// Skipped with "Docker not available here" where Docker is missing; with PLAYBOOK_REQUIRE_ALL=1 they run and fail.
const skip = await dockerSkip();

const PASSWORD = `pw ${randomBytes(6).toString('hex')}`;
const AUTH = { REDISCLI_AUTH: PASSWORD };

/** `redis-playbook restore BACKUP --container NAME` as a child the test can kill. */
function startRestore(backup: string, container: string, tmp: string, env: Record<string, string> = {}) {
  return startCliChild(['restore', backup, '--container', container], { ...AUTH, TMPDIR: tmp, ...env });
}

test(
  'restore --container killed with SIGKILL as it stops, installs and starts the container: it loads the data from before or the backup, and a re-run completes',
  { skip },
  async (t) => {
    const cases = await faultCases(t, import.meta.url, 'Interrupted work', {
      'kill.restore-container': 'restore --container killed with SIGKILL as it stops, installs and starts the container',
    });
    const phases = [/^stopping container/, /^installing the backup/, /^starting container/];
    const { seen, server } = await interruptedContainerRestores(PASSWORD, phases, async (phase, { redis, backup }) => {
      const { child, lines, state } = startRestore(backup, redis.name, await tmpIn(redis));
      await waitFor(() => lines.some((line) => phase.test(line)) || state.exited, {
        what: `restore --container to reach ${phase.source}`,
        timeoutMs: 120_000,
        intervalMs: 5,
      });
      child.kill('SIGKILL');
      await child;
      // A throwaway container the killed CLI started finishes on its own: wait until it is gone.
      await waitFor(async () => !(await docker(['ps', '-q', '--filter', `name=redis-playbook-restore-`])).stdout.trim(), {
        what: 'the throwaway container to finish',
        timeoutMs: 60_000,
      });
      return { label: phase.source.slice(1) };
    });
    await cases['kill.restore-container'].passed(
      `killed at each phase, the container then loaded ${seen.join('; ')}; a re-run completed`,
      null,
      server,
    );
  },
);

test(
  'the container stopped, or removed, while restore --container waits for it: one line, and the volume holds the backup',
  { skip },
  async (t) => {
    const cases = await faultCases(t, import.meta.url, 'Interrupted work', {
      'restore-container.stopped': 'the container stopped (docker stop) while restore --container waits for it to load the backup',
      'restore-container.removed': 'the container removed (docker rm -f) while restore --container waits for it to load the backup',
    });
    for (const [id, action] of [
      ['restore-container.stopped', 'stop'],
      ['restore-container.removed', 'rm'],
    ] as const) {
      const { redis: started, a, b, backup } = await backedUpContainer(PASSWORD);
      await using redis = started;
      const server = await answeringServer(redis);
      // The CLI stops itself right after its docker start (REDIS_PLAYBOOK_STOP_AT); the container is
      // stopped or removed then, and the CLI goes on to wait for it.
      const { child, lines, state } = startRestore(backup, redis.name, await tmpIn(redis), { REDIS_PLAYBOOK_STOP_AT: 'container-started' });
      const pid = child.pid as number;
      await waitFor(async () => state.exited || /^\d+ \(.*\) T /.test(await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')), {
        what: 'restore --container to start the container',
        timeoutMs: 120_000,
      });
      assert.equal(state.exited, false, lines.join('\n'));
      await docker(action === 'stop' ? ['stop', '--time', '0', redis.name] : ['rm', '-f', redis.name]);
      child.kill('SIGCONT');
      const run = await child;
      const stderr = lines.join('\n');
      // It noticed at once: one line (after the progress lines) saying where the data is, no stack trace.
      const last = lines.at(-1) ?? '';
      assert.equal(run.exitCode, action === 'stop' ? 1 : 9, stderr);
      assert.match(last, /^redis-playbook: The backup is installed in container \S+, but: /, stderr);
      assert.match(
        last,
        action === 'stop'
          ? /is exited instead of loading its data \(start it again with docker start /
          : /was removed while it loaded its data: its volume keeps the installed files/,
      );
      assert.match(last, /The previous files are in \/data\/pre-restore-\S+ \(the undo\)\.$/);
      assert.doesNotMatch(stderr, /\n\s+at |Unexpected error/);
      // The volume holds the backup: a container on it loads dataset A.
      if (action === 'rm') {
        const name = `${redis.name}-again`;
        await docker([
          'run',
          '-d',
          '--name',
          name,
          '--network',
          'none',
          '-v',
          `${redis.volume}:/data`,
          redis.image,
          'redis-server',
          '--appendonly',
          'yes',
        ]);
        try {
          await waitFor(async () => (await dockerTry(['exec', name, 'redis-cli', 'PING'])).stdout.trim() === 'PONG', {
            what: 'Redis on the volume',
            timeoutMs: 30_000,
          });
          const info = (await docker(['exec', name, 'redis-cli', 'INFO', 'keyspace'])).stdout;
          const keys = [...info.matchAll(/^db\d+:keys=(\d+)/gm)].reduce((sum, match) => sum + Number(match[1]), 0);
          assert.equal(keys, a.size, 'a new container on the volume loads the backup');
        } finally {
          await docker(['rm', '-f', name]);
        }
      } else {
        assert.equal(await holds(redis, a, b), 'A', 'started again, the container loads the backup');
      }
      const said =
        action === 'stop'
          ? 'the backup is installed, the container stopped before loading it, and how to start it'
          : 'the backup is installed and the container was removed, its volume keeps the files';
      await cases[id].passed(
        `at once, one line: ${said}, and where the previous files are; a container on the volume loads the backup`,
        run.exitCode ?? null,
        server,
      );
    }
  },
);
