import assert from 'node:assert/strict';
import type { DisposableRedis } from '../../harness/redis-server.ts';
import { waitFor } from '../../harness/wait.ts';
import { flattenInfo } from '../../redis/info.ts';
import { infoFields } from '../outputs.ts';
import { defineSnippet } from '../schema.ts';
import { seedSaveRules } from './snapshot-schedule.ts';

const page = 'operations/monitoring';

/** Some data, one snapshot and one AOF rewrite, so the log and INFO have something to show. */
async function busyServer(server: DisposableRedis): Promise<void> {
  await server.withClient(async (client) => {
    const pipeline = client.pipeline();
    for (let i = 0; i < 2000; i++) pipeline.set(`page:${i}`, 'x'.repeat(100));
    pipeline.zadd('domains:ready', 1, 'a.example');
    await pipeline.exec();
    await client.bgsave();
    await waitFor(async () => (await client.info('persistence')).includes('rdb_bgsave_in_progress:0'), { what: 'the BGSAVE to end' });
    await client.bgrewriteaof();
    await waitFor(async () => /aof_rewrite_in_progress:0[\s\S]*aof_rewrite_scheduled:0/.test(await client.info('persistence')), { what: 'the rewrite to end' });
  });
}

/** Waits until the persistence log line of the rewrite is written (the parent logs it after the child exits). */
async function rewriteLogged(server: DisposableRedis): Promise<void> {
  await waitFor(async () => /Background AOF rewrite finished successfully/.test(await server.log()), { what: 'the rewrite to be logged' });
}

export const monitoringSnippets = [
  defineSnippet({
    id: 'info-memory-fields',
    title: 'Memory at a glance',
    page,
    flavors: {
      host: {
        command:
          "redis-cli -h {{host}} -p {{port}} INFO memory | grep -E '^(used_memory_human|used_memory_rss_human|used_memory_peak_human|maxmemory_human|maxmemory_policy|mem_fragmentation_ratio):'",
        server: { config: { maxmemory: '24gb', 'maxmemory-policy': 'noeviction' } },
        setup: busyServer,
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          const fields = infoFields(stdout);
          assert.deepEqual(Object.keys(fields).sort(), ['maxmemory_human', 'maxmemory_policy', 'mem_fragmentation_ratio', 'used_memory_human', 'used_memory_peak_human', 'used_memory_rss_human']);
          assert.equal(fields.maxmemory_human, '24.00G');
        },
      },
    },
  }),
  defineSnippet({
    id: 'info-stats-fields',
    title: 'Traffic, expirations, evictions and the last fork',
    page,
    flavors: {
      host: {
        command:
          "redis-cli -h {{host}} -p {{port}} INFO stats | grep -E '^(instantaneous_ops_per_sec|total_commands_processed|rejected_connections|expired_keys|evicted_keys|latest_fork_usec):'",
        setup: busyServer,
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          const fields = infoFields(stdout);
          assert.equal(fields.evicted_keys, '0');
          assert.ok(Number(fields.latest_fork_usec) > 0, 'the BGSAVE of the setup forked');
          assert.ok(Number(fields.total_commands_processed) > 2000);
        },
      },
    },
  }),
  defineSnippet({
    id: 'info-keyspace',
    title: 'Keys per database',
    page,
    flavors: {
      host: {
        command: 'redis-cli -h {{host}} -p {{port}} INFO keyspace',
        setup: busyServer,
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          assert.match(stdout, /^db0:keys=2001,expires=0,avg_ttl=0\r?$/m);
        },
      },
    },
  }),
  defineSnippet({
    id: 'persistence-log-lines',
    title: 'Find snapshots and AOF rewrites in the log',
    page,
    flavors: {
      host: {
        command:
          "grep -E 'Background saving started|DB saved on disk|Background saving terminated|Background append only file rewriting started|Background AOF rewrite finished|DB loaded from' {{logFile}} | tail -n 8",
        server: { config: { appendonly: 'yes', save: seedSaveRules } },
        async setup(server) {
          await busyServer(server);
          await rewriteLogged(server);
        },
        values: ({ server }) => ({ logFile: server?.logFile ?? '' }),
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          for (const line of ['Background saving started by pid', 'DB saved on disk', 'Background saving terminated with success', 'Background append only file rewriting started by pid', 'Background AOF rewrite finished successfully']) {
            assert.ok(stdout.includes(line), `log shows "${line}"`);
          }
        },
      },
    },
  }),
  defineSnippet({
    id: 'monitor-sample',
    title: 'Look at live commands for two seconds (costly)',
    page,
    flavors: {
      host: {
        command: 'timeout 2 redis-cli -h {{host}} -p {{port}} MONITOR | head -n 5',
        async verify(ctx) {
          const server = ctx.server as DisposableRedis;
          const running = ctx.run();
          // Traffic while MONITOR listens: it appears line by line.
          await waitFor(async () => Number(flattenInfo(await server.info('clients')).connected_clients) >= 2, { what: 'MONITOR to connect' });
          await server.withClient(async (client) => {
            for (let i = 0; i < 20; i++) await client.set(`monitored:${i}`, 'v');
          });
          const { stdout } = await running;
          const lines = stdout.trim().split('\n');
          assert.equal(lines[0], 'OK');
          assert.match(stdout, /"set" "monitored:\d+" "v"/);
          assert.ok(lines.length <= 5);
        },
      },
    },
  }),
  defineSnippet({
    id: 'watch-cli',
    title: 'Follow snapshots and rewrites live',
    page,
    flavors: {
      host: {
        command: 'redis-playbook watch --url redis://{{host}}:{{port}} --for 5',
        server: { config: { save: '""', 'enable-debug-command': 'local', rdbcompression: 'no' } },
        async setup(server) {
          await server.withClient((client) => client.call('DEBUG', 'POPULATE', 300_000, 'key', 100));
        },
        async verify(ctx) {
          const server = ctx.server as DisposableRedis;
          const running = ctx.run();
          await waitFor(async () => Number(flattenInfo(await server.info('clients')).connected_clients) >= 2, { what: 'watch to connect' });
          await server.withClient(async (client) => {
            await client.set('one-more', 'write');
            await client.bgsave();
          });
          const { exitCode, stdout } = await running;
          assert.equal(exitCode, 0);
          assert.match(stdout, /^\d\d:\d\d:\d\d \d+ writes not yet in a snapshot$/m);
          assert.match(stdout, /snapshot \(BGSAVE\) started, fork took [\d.]+ ms/);
          assert.match(stdout, /snapshot finished in \d+ s/);
        },
      },
    },
  }),
];
