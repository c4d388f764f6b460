import { redisCliBlock } from '../same-check.ts';
import type { ServerUnderTest } from '../../procedures/server-under-test.ts';
import assert from 'node:assert/strict';
import type { DisposableRedis } from '../../harness/redis-server.ts';
import { waitFor } from '../../harness/wait.ts';
import { flattenInfo, parseInfo } from '../../redis/info.ts';
import { infoFields } from '../outputs.ts';
import { defineSnippet } from '../schema.ts';
import { seedSaveRules } from './snapshot-schedule.ts';
import type { RedisContainer } from '../../harness/docker/container.ts';
import type { WithClient } from '../scenarios/docker.ts';
import { seedServerConfig } from './where-is-my-data.ts';
import { freePort } from '../../harness/free-port.ts';
import { rulesTestFile, rulesText } from '../../harness/prometheus/rules.ts';
import { monitoringUnavailableReason } from '../../harness/prometheus/stack.ts';
import { UnavailableHere } from '../../harness/require-all.ts';
import { alertDrill } from '../scenarios/alert-drill.ts';
import { healthDrill, healthcheckComposeFile, startHealthchecked } from '../scenarios/compose-health.ts';
import { uniqueNames } from '../../harness/docker/options.ts';
import { fillCommand } from '../placeholders.ts';
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exec } from '../exec.ts';
import { populate } from '../../redis/dataset.ts';

const page = 'operations/monitoring';

/** Some data, one snapshot and one AOF rewrite, so the log and INFO have something to show. */
async function busyServer(server: WithClient): Promise<void> {
  await server.withClient(async (client) => {
    const pipeline = client.pipeline();
    for (let i = 0; i < 2000; i++) pipeline.set(`page:${i}`, 'x'.repeat(100));
    pipeline.zadd('domains:ready', 1, 'a.example');
    await pipeline.exec();
    await client.bgsave();
    await waitFor(async () => (await client.info('persistence')).includes('rdb_bgsave_in_progress:0'), { what: 'the BGSAVE to end' });
    await client.bgrewriteaof();
    await waitFor(async () => /aof_rewrite_in_progress:0[\s\S]*aof_rewrite_scheduled:0/.test(await client.info('persistence')), {
      what: 'the rewrite to end',
    });
  });
}

/** Waits until the persistence log line of the rewrite is written (the parent logs it after the child exits). */
async function rewriteLogged(server: ServerUnderTest): Promise<void> {
  await waitFor(async () => (await server.logs()).includes('Background AOF rewrite finished successfully'), {
    what: 'the rewrite to be logged',
  });
}

/** The log lines of saves, rewrites and loads the page greps for. */
const persistenceLinesGrep =
  "grep -E 'Background saving started|DB saved on disk|Background saving terminated|Background append only file rewriting started|Background AOF rewrite finished|DB loaded from'";

/** Checks the persistence-log output: a snapshot and a rewrite, start to end. */
function checkPersistenceLines(stdout: string): void {
  for (const line of [
    'Background saving started by pid',
    'DB saved on disk',
    'Background saving terminated with success',
    'Background append only file rewriting started by pid',
    'Background AOF rewrite finished successfully',
  ]) {
    assert.ok(stdout.includes(line), `log shows "${line}"`);
  }
  assert.ok(stdout.trim().split('\n').length <= 8, 'tail keeps the last 8 lines');
}

/** Checks the INFO memory output of the seed's config (24 GB limit). */
function checkMemoryFields(stdout: string): void {
  const fields = infoFields(stdout);
  assert.deepEqual(Object.keys(fields).sort(), [
    'maxmemory_human',
    'maxmemory_policy',
    'mem_fragmentation_ratio',
    'used_memory_human',
    'used_memory_peak_human',
    'used_memory_rss_human',
  ]);
  assert.equal(fields.maxmemory_human, '24.00G');
  assert.equal(fields.maxmemory_policy, 'noeviction');
}

/** Checks the INFO stats output after {@link busyServer}. */
function checkStatsFields(stdout: string): void {
  const fields = infoFields(stdout);
  assert.deepEqual(Object.keys(fields).sort(), [
    'evicted_keys',
    'expired_keys',
    'instantaneous_ops_per_sec',
    'latest_fork_usec',
    'rejected_connections',
    'total_commands_processed',
  ]);
  assert.equal(fields.evicted_keys, '0');
  assert.ok(Number(fields.latest_fork_usec) > 0, 'the BGSAVE of the setup forked');
  assert.ok(Number(fields.total_commands_processed) > 2000);
}

/**
 * Runs the MONITOR sample while 20 SETs go to the server; checks what it printed. The wait and the
 * SETs go through redis-cli, as a reader's traffic would (in the container: docker exec), so MONITOR
 * shows client addresses as they look to Redis.
 */
async function checkMonitor(run: () => Promise<{ stdout: string }>, server: DisposableRedis | RedisContainer): Promise<void> {
  // The harness's own connection, opened before MONITOR listens (its handshake is not in the sample),
  // writes the traffic at once: a redis-cli per write (docker exec) can outlast the 2-second window.
  await server.withClient(async (client) => {
    await client.ping();
    const running = run();
    // Traffic once MONITOR listens (a connected redis-cli has not always sent MONITOR yet). CLIENT is
    // an admin command: MONITOR does not show it.
    await waitFor(async () => /\bcmd=monitor\b/.test(String(await client.call('CLIENT', 'LIST'))), { what: 'MONITOR to start' });
    const pipeline = client.pipeline();
    for (let i = 0; i < 20; i++) pipeline.set(`monitored:${i}`, 'v');
    const replies = (await pipeline.exec()) ?? [];
    assert.equal(replies.filter(([error, reply]) => !error && reply === 'OK').length, 20, 'the 20 SETs were answered');
    const { stdout } = await running;
    const lines = stdout.trim().split('\n');
    assert.equal(lines[0], 'OK');
    assert.match(stdout, /"set" "monitored:\d+" "v"/);
    assert.ok(lines.length <= 5);
  });
}

const memoryGrep =
  "grep -E '^(used_memory_human|used_memory_rss_human|used_memory_peak_human|maxmemory_human|maxmemory_policy|mem_fragmentation_ratio):'";
const statsGrep =
  "grep -E '^(instantaneous_ops_per_sec|total_commands_processed|rejected_connections|expired_keys|evicted_keys|latest_fork_usec):'";

export const monitoringSnippets = [
  defineSnippet({
    id: 'info-memory-fields',
    title: 'Memory at a glance',
    page,
    flavors: redisCliBlock(
      `INFO memory | ${memoryGrep}`,
      { setup: busyServer, check: checkMemoryFields },
      { host: { config: { maxmemory: '24gb', 'maxmemory-policy': 'noeviction' } }, docker: { config: seedServerConfig } },
    ),
  }),
  defineSnippet({
    id: 'info-stats-fields',
    title: 'Traffic, expirations, evictions and the last fork',
    page,
    flavors: redisCliBlock(
      `INFO stats | ${statsGrep}`,
      { setup: busyServer, check: checkStatsFields },
      { docker: { config: seedServerConfig } },
    ),
  }),
  defineSnippet({
    id: 'info-keyspace',
    title: 'Keys per database',
    page,
    flavors: redisCliBlock(
      'INFO keyspace',
      {
        setup: busyServer,
        check(stdout) {
          assert.match(stdout, /^# Keyspace\r?$/m);
          assert.match(
            stdout,
            /^db0:keys=2001,expires=0,avg_ttl=0(,subexpiry=0|,keys_with_volatile_items=0)?\r?$/m,
            'Redis 8 adds subexpiry, Valkey 9 keys_with_volatile_items',
          );
        },
      },
      { docker: { config: seedServerConfig } },
    ),
  }),
  defineSnippet({
    id: 'persistence-log-lines',
    title: 'Find snapshots and AOF rewrites in the log',
    page,
    flavors: {
      host: {
        command: `${persistenceLinesGrep} {{logFile}} | tail -n 8`,
        server: { config: { appendonly: 'yes', save: seedSaveRules } },
        async setup(server) {
          await busyServer(server);
          await rewriteLogged(server);
        },
        values: ({ server }) => ({ logFile: server.logFile }),
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          checkPersistenceLines(stdout);
        },
      },
      docker: {
        // Redis in a container logs to stdout: the log is `docker logs` (2>&1: docker prints a
        // container's stderr on its own stderr).
        command: `docker logs {{container}} 2>&1 | ${persistenceLinesGrep} | tail -n 8`,
        server: { config: seedServerConfig },
        async setup(server) {
          await busyServer(server);
          await rewriteLogged(server);
        },
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          checkPersistenceLines(stdout);
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
          await checkMonitor(() => ctx.run(), ctx.server);
        },
      },
      docker: {
        // `timeout` inside the container: killing the docker CLI would leave redis-cli running in there.
        command: 'docker exec {{container}} timeout 2 redis-cli MONITOR | head -n 5',
        server: { config: seedServerConfig },
        async verify(ctx) {
          const server = ctx.server;
          await checkMonitor(() => ctx.run(), server);
          // MONITOR's redis-cli ended with its timeout: no client is left connected but ours.
          await waitFor(async () => Number(flattenInfo(await server.info('clients')).connected_clients) === 1, {
            what: 'MONITOR to disconnect',
          });
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
        server: { config: { save: '""', rdbcompression: 'no' } },
        async setup(server) {
          await server.withClient((client) => populate(client, 300_000, 'key', 100));
        },
        async verify(ctx) {
          const server = ctx.server;
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
      docker: {
        // Each poll is a docker exec NAME redis-cli INFO: no port needs publishing.
        command: 'redis-playbook watch --container {{container}} --for 5',
        server: { config: { save: '""', appendonly: 'yes', 'enable-debug-command': 'local', rdbcompression: 'no' } },
        async setup(server) {
          await server.withClient((client) => client.call('DEBUG', 'POPULATE', 300_000, 'key', 100));
        },
        async verify(ctx) {
          const server = ctx.server;
          const { stdout, exitCode } = await server.withClient(async (client) => {
            const connections = async () => Number(flattenInfo(parseInfo(await client.info('stats'))).total_connections_received);
            const before = await connections();
            const running = ctx.run();
            // watch's PING and its first INFO are two connections (one docker exec each).
            await waitFor(async () => (await connections()) >= before + 2, { what: 'watch to poll' });
            await client.set('one-more', 'write');
            await client.bgsave();
            return running;
          });
          assert.equal(exitCode, 0);
          assert.match(stdout, /^\d\d:\d\d:\d\d \d+ writes not yet in a snapshot$/m);
          assert.match(stdout, /snapshot \(BGSAVE\) started, fork took [\d.]+ ms/);
          assert.match(stdout, /snapshot finished in \d+ s/);
          assert.equal((await server.info('persistence')).persistence?.rdb_last_bgsave_status, 'ok');
        },
      },
    },
  }),
  defineSnippet({
    id: 'alert-rules-file',
    title: 'Alerting rules for persistence (Prometheus)',
    page,
    flavors: {
      host: {
        lang: 'yaml',
        // The shipped file deploy/prometheus/redis-persistence-rules.yml, as it is.
        command: rulesText,
        server: false,
        async verify(ctx) {
          const reason = monitoringUnavailableReason(['promtool']);
          if (reason) throw new UnavailableHere('promtool', reason);
          // The page's text beside the project's promtool tests, which load it by this name.
          await writeFile(join(ctx.scratch, 'redis-persistence-rules.yml'), ctx.command);
          await copyFile(rulesTestFile, join(ctx.scratch, 'rules.test.yml'));
          const checked = await exec('promtool', ['check', 'rules', 'redis-persistence-rules.yml'], { cwd: ctx.scratch, reject: false });
          assert.equal(checked.exitCode, 0, checked.stderr);
          assert.match(checked.stdout, /SUCCESS: 8 rules found/);
          const tested = await exec('promtool', ['test', 'rules', 'rules.test.yml'], { cwd: ctx.scratch, reject: false });
          assert.equal(tested.exitCode, 0, `${tested.stdout}\n${tested.stderr}`);
          assert.match(tested.stdout, /SUCCESS/);
          ctx.note(`# promtool check rules: ${checked.stdout.trim().split('\n').at(-1)?.trim()}; promtool test rules: SUCCESS`);
        },
      },
    },
  }),
  defineSnippet({
    id: 'alert-drill',
    title: 'Which alerts fire now',
    page,
    flavors: {
      host: {
        command: 'promtool query instant {{prometheus}} \'ALERTS{alertstate="firing"}\'',
        server: { config: { appendonly: 'no', save: seedSaveRules }, password: 'a password the page never shows' },
        async setup(server) {
          await server.withClient((client) => client.set('page:1', 'saved'));
        },
        values: async () => ({ prometheus: `http://127.0.0.1:${await freePort()}` }),
        timeoutMs: 90_000,
        verify: alertDrill,
      },
    },
  }),
  defineSnippet({
    id: 'compose-healthcheck',
    title: 'A Compose healthcheck that also fails on failing persistence',
    page,
    flavors: {
      docker: {
        lang: 'yaml',
        command: healthcheckComposeFile,
        // The verification runs this very file (placeholders filled with unique names) as its own project.
        server: false,
        values: () => ({ ...uniqueNames() }),
        timeoutMs: 120_000,
        async verify(ctx) {
          await using redis = await startHealthchecked(ctx, ctx.command);
          ctx.note(`# docker inspect: ${redis.name} healthy`);
        },
      },
    },
  }),
  defineSnippet({
    id: 'compose-health-status',
    title: "The container's health",
    page,
    flavors: {
      docker: {
        command: "docker inspect --format '{{.State.Health.Status}}' {{container}}",
        // Started by the verification: the compose file of the block above, then a failing snapshot and its fix.
        server: false,
        values: () => ({ ...uniqueNames() }),
        timeoutMs: 180_000,
        async verify(ctx) {
          await using redis = await startHealthchecked(ctx, fillCommand(healthcheckComposeFile, ctx.values, 'docker'));
          await healthDrill(ctx, redis, async () => {
            const { exitCode, stdout } = await ctx.run();
            assert.equal(exitCode, 0);
            return stdout.trim();
          });
        },
      },
    },
  }),
];
