import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Redis } from 'ioredis';
import { dockerSkip } from '../../scripts/harness/docker/available.ts';
import { startRedisContainer, type RedisContainer } from '../../scripts/harness/docker/container.ts';
import { docker } from '../../scripts/harness/docker/exec.ts';
import { waitFor } from '../../scripts/harness/wait.ts';
import { SLOW, startCliChild, tmpIn, waitUntilNoContainer } from '../support/containers.ts';
import { answeringServer, faultCase } from '../support/faults.ts';
import { killAt, killBackupInEachPhase, populatedForKills } from '../support/kills.ts';
import { runCli } from '../support/run-cli.ts';

// Skipped with "Docker not available here" where Docker is missing; with PLAYBOOK_REQUIRE_ALL=1 they run and fail.
const skip = await dockerSkip();

const PASSWORD = `pw ${randomBytes(6).toString('hex')}`;
const AUTH = { REDISCLI_AUTH: PASSWORD };

const digest = (redis: RedisContainer) => redis.withClient((client) => client.call('DEBUG', 'DIGEST'));

test(
  'backup --container killed with SIGKILL in each of its phases: no partial backup listed, the data as it was, and a re-run completes',
  { skip },
  async (t) => {
    const fault = await faultCase(
      t,
      import.meta.url,
      'kill.backup-container',
      'Interrupted work',
      'backup --container killed with SIGKILL while it saves, copies the RDB (docker cp), checks it and copies the AOF set',
    );
    await using redis = await startRedisContainer({
      password: PASSWORD,
      config: { appendonly: 'yes', save: '3600 1', 'enable-debug-command': 'local', rdbcompression: 'no' },
    });
    await docker(['exec', redis.name, 'chown', '-R', '999:999', '/data']);
    await populatedForKills(redis);
    const before = await digest(redis);
    const to = join(redis.root, 'backups');
    const hit = await killBackupInEachPhase(redis, {
      target: ['--container', redis.name],
      to,
      env: { ...AUTH, TMPDIR: await tmpIn(redis) },
      // A checker container the killed CLI started (on a folder of the backup dir: the RDB's, or its
      // AOF dir) finishes on its own.
      async settle() {
        for (const name of await readdir(to)) {
          if (!name.startsWith('.incomplete-')) continue;
          for (const mounted of [join(to, name), join(to, name, 'appendonlydir')])
            await waitUntilNoContainer([`volume=${mounted}`], `the checker on ${mounted} to finish`);
        }
      },
    });
    // The data dir as it was: the container, restarted, loads the same data.
    await docker(['stop', redis.name]);
    await redis.start();
    assert.equal(await digest(redis), before, 'restarted, the container loads the data it had');
    await fault.passed(
      `killed in ${hit.length} phases: no partial backup listed, the data dir as it was (the restarted container loads it), the next backup completed`,
      null,
      await answeringServer(redis),
    );
  },
);

/** The server's clock in whole seconds (the AOF's `#TS:` annotations come from it). */
async function serverSecond(client: Redis): Promise<number> {
  return Number((await client.time())[0]);
}

/** Waits until the server's clock has passed `second`: the next write is annotated with a later time. */
async function pastSecond(client: Redis, second: number): Promise<void> {
  await waitFor(async () => (await serverSecond(client)) > second, { what: `the server's clock to pass ${second}`, timeoutMs: 5000 });
}

/** Writes `state` = "bad" in a second after `t`: a rewind to `t` then has something to cut. */
async function badAfter(redis: RedisContainer, t: number): Promise<void> {
  await redis.withClient(async (client) => {
    await pastSecond(client, t);
    await client.set('state', 'bad');
  });
}

/** The value of `state` once the container runs (started again, after any stop the killed CLI asked for). */
async function stateAfterStart(redis: RedisContainer): Promise<string | null> {
  await docker(['stop', redis.name]);
  await redis.start();
  return redis.withClient((client) => client.get('state'));
}

test(
  'rewind --container killed with SIGKILL as it stops, cuts and starts the container: it loads the AOF as before or as rewound, and a re-run completes',
  { skip },
  async (t) => {
    const fault = await faultCase(
      t,
      import.meta.url,
      'kill.rewind-container',
      'Interrupted work',
      'rewind --container killed with SIGKILL as it stops the container, cuts the AOF in a throwaway container, and starts it',
    );
    await using redis = await startRedisContainer({
      password: PASSWORD,
      config: { appendonly: 'yes', 'aof-timestamp-enabled': 'yes', save: '""' },
    });
    await docker(['exec', redis.name, 'chown', '-R', '999:999', '/data']);
    const good = await redis.withClient(async (client) => {
      // In a later second than the container's start: Redis annotates a write only in a new second.
      await pastSecond(client, await serverSecond(client));
      await client.set('state', 'good');
      return serverSecond(client);
    });
    await badAfter(redis, good);
    const tmp = await tmpIn(redis);
    const seen: string[] = [];
    for (const phase of [/^stopping container/, /^cutting the AOF in/, /^starting container/]) {
      const cli = startCliChild(['rewind', '--container', redis.name, '--to', String(good)], { ...AUTH, TMPDIR: tmp });
      const hit = await killAt(cli, phase);
      assert.ok(hit, `rewind --container ended before ${phase.source}: ${cli.lines.join(' | ')}`);
      await waitUntilNoContainer(['name=redis-playbook-rewind-', `volume=${redis.volume}`], 'the throwaway container to finish');
      const state = await stateAfterStart(redis);
      assert.ok(state === 'good' || state === 'bad', `killed at ${phase.source}: it loads the AOF as before or as rewound, not ${state}`);
      seen.push(`${phase.source.slice(1)}: ${state === 'good' ? 'as rewound' : 'as before'}`);
      if (state === 'good') await badAfter(redis, good);
    }
    const rerun = await runCli(['rewind', '--container', redis.name, '--to', String(good)], AUTH, SLOW);
    assert.equal(rerun.exitCode, 0, rerun.stderr);
    assert.equal(await redis.withClient((client) => client.get('state')), 'good', 'a rewind after the kills completes');
    await fault.passed(
      `killed at each phase, the container then loaded the AOF ${seen.join('; ')}; a re-run completed`,
      null,
      await answeringServer(redis),
    );
  },
);
