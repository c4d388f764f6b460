import assert from 'node:assert/strict';
import type { DisposableRedis } from '../../harness/redis-server.ts';
import { backup } from '../../procedures/backup.ts';
import { writeMixedDataset } from '../../redis/dataset.ts';
import { practiceValues, runPractice } from '../practice.ts';
import { defineSnippet } from '../schema.ts';
import { backupValues, scratchBackups } from '../scenarios/rollback.ts';
import { copyDumpOut, dockerBackupValues } from '../scenarios/docker.ts';
import { dockerTry } from '../../harness/docker/exec.ts';
import { uniqueNames } from '../../harness/docker/options.ts';
import type { RedisContainer } from '../../harness/docker/container.ts';
import { waitUntil } from '../shell-wait.ts';

const page = 'recovery/test-a-restore';

async function oneBackup(server: DisposableRedis, scratch: string): Promise<void> {
  await server.withClient(async (client) => {
    await writeMixedDataset(client, 'A', 10);
    await backup({ client, source: { host: server.host, port: server.port }, engine: server.engine, to: scratchBackups(scratch) });
  });
}

/** A mixed dataset saved and copied out of the container as a backup folder (dump.rdb, SHA256SUMS). */
async function oneBackupFromContainer(server: RedisContainer, scratch: string): Promise<void> {
  await server.withClient(async (client) => {
    await writeMixedDataset(client, 'A', 10);
    await client.save();
  });
  await copyDumpOut(server, scratchBackups(scratch));
}

/** How many lines of the output are key names of the mixed dataset (the `--scan | head -n 5` sample). */
const sampleKeys = (stdout: string) => stdout.split('\n').filter((line) => /^(str|hash|list|set|zset|ttl):\S+$/.test(line)).length;

/** The throwaway container of the Docker test restore (named after the project: never your service's name). */
const scratchContainer = (values: Record<string, string>) => `${values.project}-restore-test`;

export const testRestoreSnippets = [
  defineSnippet({
    id: 'test-restore-cli',
    title: 'Load a backup into a scratch server with the CLI',
    page,
    flavors: {
      host: {
        command: 'redis-playbook test-restore {{backup}}',
        server: { config: { appendonly: 'yes' } },
        setup: oneBackup,
        values: backupValues,
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          assert.match(stdout, /db0: 51 keys loaded, 51 expected {2}ok/);
          assert.match(stdout, /db1: 1 keys loaded, 1 expected {2}ok/);
          assert.match(stdout, /digest: [0-9a-f]{40}/);
        },
      },
    },
  }),
  defineSnippet({
    id: 'test-restore-manual',
    title: 'Load a backup into a scratch server by hand',
    page,
    flavors: {
      host: {
        command: [
          '( set -e',
          'dir={{scratchDir}}; port={{scratchPort}}',
          'mkdir -p "$dir" && cp {{backup}}/dump.rdb "$dir/dump.rdb"',
          'redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --appendonly no --save "" --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"',
          waitUntil('redis-cli -p "$port" PING 2>/dev/null | grep -q PONG'),
          'redis-cli -p "$port" INFO keyspace',
          'redis-cli -p "$port" --scan | head -n 5',
          'redis-cli -p "$port" SHUTDOWN NOSAVE )',
        ].join('\n'),
        server: { config: { appendonly: 'yes' } },
        setup: oneBackup,
        values: async (input) => ({ ...(await backupValues(input)), ...(await practiceValues(input)) }),
        async verify(ctx) {
          const { exitCode, stdout } = await runPractice(ctx);
          assert.equal(exitCode, 0);
          assert.match(stdout, /^db0:keys=51,expires=1,/m);
          assert.match(stdout, /^db1:keys=1,expires=0,/m);
          assert.equal(sampleKeys(stdout), 5, 'five sample keys');
        },
      },
      docker: {
        // The seed's "test in a temporary container", without a published port or a fixed name, and the
        // backup copied in (an RDB mounted over /data/dump.rdb would be written back by a save).
        command: [
          '( set -e',
          'c={{project}}-restore-test',
          'docker run -d --name "$c" --network none -v {{backup}}:/backup:ro {{image}} \\',
          '  sh -c \'cp /backup/dump.rdb /data/dump.rdb && exec redis-server --appendonly no --save ""\' >/dev/null',
          waitUntil('docker exec "$c" redis-cli PING 2>/dev/null | grep -q PONG'),
          'docker exec "$c" redis-cli INFO keyspace',
          'docker exec "$c" redis-cli --scan | head -n 5',
          'docker rm -fv "$c" >/dev/null )',
        ].join('\n'),
        server: { config: { appendonly: 'yes' } },
        setup: oneBackupFromContainer,
        values: async (input) => ({ ...(await dockerBackupValues(input)), project: uniqueNames().project }),
        async verify(ctx) {
          const name = scratchContainer(ctx.values);
          try {
            const { exitCode, stdout } = await ctx.run({ timeoutMs: 60_000 });
            assert.equal(exitCode, 0);
            assert.match(stdout, /^db0:keys=51,expires=1,/m);
            assert.match(stdout, /^db1:keys=1,expires=0,/m);
            assert.equal(sampleKeys(stdout), 5, 'five sample keys');
            assert.notEqual((await dockerTry(['container', 'inspect', name])).exitCode, 0, 'the scratch container is gone');
          } finally {
            await dockerTry(['rm', '--force', '--volumes', name]);
          }
        },
      },
    },
  }),
];
