import assert from 'node:assert/strict';
import type { DisposableRedis } from '../../harness/redis-server.ts';
import { backup } from '../../procedures/backup.ts';
import { writeMixedDataset } from '../../redis/dataset.ts';
import { practiceValues, runPractice } from '../practice.ts';
import { defineSnippet } from '../schema.ts';
import { backupValues, scratchBackups } from '../scenarios/rollback.ts';

const page = 'recovery/test-a-restore';

async function oneBackup(server: DisposableRedis, scratch: string): Promise<void> {
  await server.withClient(async (client) => {
    await writeMixedDataset(client, 'A', 10);
    await backup({ client, source: { host: server.host, port: server.port }, engine: server.engine, to: scratchBackups(scratch) });
  });
}

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
          'until redis-cli -p "$port" PING 2>/dev/null | grep -q PONG; do sleep 0.1; done',
          'redis-cli -p "$port" INFO keyspace',
          'redis-cli -p "$port" --scan --count 100 | head -n 5',
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
        },
      },
    },
  }),
];
