import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import type { Redis } from 'ioredis';
import { dockerSkip } from '../../scripts/harness/docker/available.ts';
import { startRedisContainer } from '../../scripts/harness/docker/container.ts';
import { docker } from '../../scripts/harness/docker/exec.ts';
import { waitFor } from '../../scripts/harness/wait.ts';
import { interruptedContainerRestores, killThrowawayAt, SLOW } from '../support/containers.ts';
import { answeringServer, faultCases } from '../support/faults.ts';
import { runCli } from '../support/run-cli.ts';

// Skipped with "Docker not available here" where Docker is missing; with PLAYBOOK_REQUIRE_ALL=1 it runs and fails.
const skip = await dockerSkip();

const PASSWORD = `pw ${randomBytes(6).toString('hex')}`;
const AUTH = { REDISCLI_AUTH: PASSWORD };

test(
  'the throwaway container of restore --container killed (docker kill) at each step of its swap: the container loads the data from before or the backup, never nothing',
  { skip },
  async (t) => {
    const cases = await faultCases(t, import.meta.url, 'Interrupted work', {
      'kill.restore-container-swap':
        'the throwaway container that installs the backup killed (docker kill, as a machine stopping would) at each step of its file swap',
    });
    // The old dump.rdb has a second name in the undo folder; the new one renamed over it; the new AOF
    // base linked into the AOF dir beside a new manifest not yet in place; that manifest renamed in.
    const expected = {
      'container-swap-db-aside': 'B',
      'container-swap-db-installed': 'B',
      'container-swap-aof-before-commit': 'B',
      'container-swap-aof-installed': 'A',
    } as const;
    const { seen, server } = await interruptedContainerRestores(
      PASSWORD,
      Object.entries(expected),
      async ([point, want], { redis, backup }) => {
        const { run, lines } = await killThrowawayAt(
          redis,
          ['restore', backup, '--container', redis.name],
          AUTH,
          'redis-playbook-restore-',
          point,
        );
        const last = lines.at(-1) ?? '';
        // The CLI says the swap was cut short, and never that it was undone (nothing ran after the kill).
        assert.notEqual(run.exitCode, 0, lines.join('\n'));
        assert.match(
          last,
          /^redis-playbook: Installing the backup into \/data of container \S+ was cut short \(exit 137\): /,
          lines.join('\n'),
        );
        assert.doesNotMatch(last, /undone/);
        assert.doesNotMatch(lines.join('\n'), /\n\s+at |Unexpected error/);
        return { label: point.replace('container-swap-', ''), want };
      },
    );
    await cases['kill.restore-container-swap'].passed(
      `killed at each step, the container then loaded ${seen.join('; ')}; a re-run completed`,
      null,
      server,
    );
  },
);

test(
  'the throwaway container of rewind --container killed (docker kill) after its undo copy and after its cut: the container loads the AOF as before or as rewound',
  { skip },
  async (t) => {
    const cases = await faultCases(t, import.meta.url, 'Interrupted work', {
      'kill.rewind-container-cut': 'the throwaway container that cuts the AOF killed (docker kill) after its undo copy, and after its cut',
    });
    await using redis = await startRedisContainer({
      password: PASSWORD,
      config: { appendonly: 'yes', 'aof-timestamp-enabled': 'yes', save: '""' },
    });
    await docker(['exec', redis.name, 'chown', '-R', '999:999', '/data']);
    const second = (client: Redis) => client.time().then(([seconds]) => Number(seconds));
    const nextSecond = (client: Redis, after: number) =>
      waitFor(async () => (await second(client)) > after, { what: 'the next second', timeoutMs: 5000 });
    const bad = (after: number) =>
      redis.withClient(async (client) => {
        await nextSecond(client, after);
        await client.set('state', 'bad');
      });
    const good = await redis.withClient(async (client) => {
      await nextSecond(client, await second(client));
      await client.set('state', 'good');
      return second(client);
    });
    await bad(good);
    const seen: string[] = [];
    for (const [point, want, step] of [
      ['container-rewind-copied', 'bad', 'after its undo copy'],
      ['container-rewind-cut', 'good', 'after its cut'],
    ] as const) {
      const { run, lines } = await killThrowawayAt(
        redis,
        ['rewind', '--container', redis.name, '--to', String(good)],
        AUTH,
        'redis-playbook-rewind-',
        point,
      );
      assert.notEqual(run.exitCode, 0);
      assert.match(
        lines.at(-1) ?? '',
        /^redis-playbook: Rewind of \/data\/appendonlydir in container \S+ was cut short \(exit 137\): .*the AOF from before is in \/data\/pre-rewind-/,
        lines.join('\n'),
      );
      await docker(['stop', redis.name]);
      await redis.start();
      const loaded = await redis.withClient((client) => client.get('state'));
      assert.equal(loaded, want, `killed at ${point}: the container loads the AOF ${want === 'bad' ? 'as before' : 'as rewound'}`);
      seen.push(`${step}: ${want === 'bad' ? 'as before' : 'as rewound'}`);
      if (loaded === 'good') await bad(good);
    }
    const rerun = await runCli(['rewind', '--container', redis.name, '--to', String(good)], AUTH, SLOW);
    assert.equal(rerun.exitCode, 0, rerun.stderr);
    assert.equal(await redis.withClient((client) => client.get('state')), 'good', 'a rewind after the kills completes');
    await cases['kill.rewind-container-cut'].passed(`killed ${seen.join('; ')}; a re-run completed`, null, await answeringServer(redis));
  },
);
