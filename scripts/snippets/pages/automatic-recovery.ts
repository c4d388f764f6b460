import assert from 'node:assert/strict';
import { labelledNumber, pipeSummary } from '../outputs.ts';
import { practice, practiceValues, runPractice } from '../practice.ts';
import { defineSnippet } from '../schema.ts';
import { dockerTry } from '../../harness/docker/exec.ts';
import { dockerPractice, dockerPracticeValues, runDockerPractice } from '../docker-practice.ts';
import { seedSaveRules } from './snapshot-schedule.ts';
import { seedServerConfig } from './data-location.ts';

/** The log lines that tell which file a start loaded (and that it is ready). */
const loadLines = 'Loading RDB|DB loaded from|Done loading RDB|Creating AOF base file|Ready to accept connections';

const page = 'recovery/automatic-recovery';

export const automaticRecoverySnippets = [
  defineSnippet({
    id: 'startup-log-lines',
    title: 'See what the server loaded at start',
    page,
    flavors: {
      host: {
        command: `grep -E '${loadLines}' {{logFile}} | tail -n 5`,
        server: { config: { appendonly: 'yes', save: seedSaveRules } },
        async setup(server) {
          await server.withClient((client) => client.set('survives', 'a restart'));
          await server.stop();
          await server.start();
        },
        values: ({ server }) => ({ logFile: server?.logFile ?? '' }),
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          assert.match(stdout, /DB loaded from append only file/);
          assert.match(stdout, /Ready to accept connections/);
          assert.doesNotMatch(stdout.split('\n').slice(-3).join('\n'), /Creating AOF base file/, 'the last start found its AOF');
        },
      },
      docker: {
        // Redis in a container logs to stdout: Compose keeps it, across restarts, until the container is removed.
        command: `docker compose logs --no-color {{service}} | grep -E '${loadLines}' | tail -n 5`,
        compose: true,
        server: { config: seedServerConfig },
        async setup(server) {
          await server.withClient((client) => client.set('survives', 'a restart'));
          await server.stop();
          await server.start();
        },
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          const lines = stdout.trim().split('\n');
          assert.equal(lines.length, 5);
          for (const line of lines) assert.match(line, new RegExp(`^${ctx.values.container} +\\| `), 'each line names the container');
          assert.match(stdout, /DB loaded from append only file/);
          assert.match(lines.at(-1) ?? '', /Ready to accept connections/);
          assert.doesNotMatch(lines.slice(-3).join('\n'), /Creating AOF base file/, 'the last start found its AOF');
          assert.equal((await ctx.server?.cli(['GET', 'survives']))?.stdout.trim(), 'a restart');
        },
      },
    },
  }),
  defineSnippet({
    id: 'recovery-clean-restart-drill',
    title: 'Drill: restart after a clean stop',
    page,
    flavors: {
      host: {
        command: [
          ...practice.setup(`--appendonly yes --save "${seedSaveRules}"`),
          ...practice.start(),
          ...practice.write(1, 50000),
          '# A clean stop (what systemctl stop and docker compose stop do: SIGTERM, then a final write)',
          ...practice.stop(),
          ...practice.start(),
          ...practice.count('keys after a clean stop and start'),
          'grep -oE \'DB loaded from [a-z ]+\' "$dir/redis.log" | tail -n 1',
          ...practice.discard(),
        ].join('\n'),
        server: false,
        values: practiceValues,
        async verify(ctx) {
          const { exitCode, stdout } = await runPractice(ctx);
          assert.equal(exitCode, 0);
          assert.equal(pipeSummary(stdout).replies, 50000);
          assert.equal(labelledNumber(stdout, 'keys after a clean stop and start'), 50000);
          assert.match(stdout, /DB loaded from append only file/);
        },
      },
      docker: {
        // Your own service this time: a restart, as after a reboot or a deploy.
        command: [
          'echo "keys before: $(docker exec {{container}} redis-cli DBSIZE)"',
          '# A clean stop: SIGTERM, Redis writes the AOF (and a snapshot, with save rules) and exits',
          'docker compose stop {{service}}',
          'docker compose up -d {{service}}',
          'until docker exec {{container}} redis-cli PING 2>/dev/null | grep -q PONG; do sleep 0.1; done',
          'echo "keys after a clean stop and start: $(docker exec {{container}} redis-cli DBSIZE)"',
          "docker compose logs --no-color {{service}} | grep -oE 'DB loaded from [a-z ]+' | tail -n 1",
        ].join('\n'),
        compose: true,
        server: { config: seedServerConfig },
        async setup(server) {
          await server.withClient(async (client) => {
            const pipeline = client.pipeline();
            for (let i = 1; i <= 50000; i++) pipeline.set(`key:${i}`, String(i));
            await pipeline.exec();
          });
        },
        timeoutMs: 120_000,
        async verify(ctx) {
          const startedAt = () => dockerTry(['container', 'inspect', '--format', '{{.State.StartedAt}}', ctx.values.container as string]).then((r) => r.stdout.trim());
          const before = await startedAt();
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          assert.notEqual(await startedAt(), before, 'the container was stopped and started again');
          assert.equal(labelledNumber(stdout, 'keys before'), 50000);
          assert.equal(labelledNumber(stdout, 'keys after a clean stop and start'), 50000);
          assert.match(stdout, /DB loaded from append only file/);
        },
      },
    },
  }),
  defineSnippet({
    id: 'recovery-aof-dir-missing-drill',
    title: 'Drill: appendonly yes and the AOF directory is gone',
    page,
    flavors: {
      host: {
        command: [
          ...practice.setup(`--appendonly yes --save "${seedSaveRules}"`),
          ...practice.start(),
          ...practice.write(1, 50000),
          ...practice.stop(),
          'echo "dump.rdb holds: $(redis-check-rdb "$dir/dump.rdb" | grep -o \'[0-9]* keys read\')"',
          '# The AOF directory goes missing (a restore that only copied dump.rdb, a volume mounted wrong, ...)',
          'mv "$dir/appendonlydir" "$dir/appendonlydir.moved-away"',
          ...practice.start(),
          ...practice.count('keys after a start without the AOF directory'),
          'grep -o \'Creating AOF base file.*\' "$dir/redis.log"',
          ...practice.discard(),
        ].join('\n'),
        server: false,
        values: practiceValues,
        async verify(ctx) {
          const { exitCode, stdout } = await runPractice(ctx);
          assert.equal(exitCode, 0);
          assert.match(stdout, /dump\.rdb holds: 50000 keys read/);
          assert.equal(labelledNumber(stdout, 'keys after a start without the AOF directory'), 0, 'no fallback to dump.rdb');
          assert.match(stdout, /Creating AOF base file appendonly\.aof\.1\.base\.rdb on server start/);
        },
      },
      docker: {
        command: [
          ...dockerPractice.setup(`--appendonly yes --save "${seedSaveRules}"`),
          ...dockerPractice.write(1, 50000),
          ...dockerPractice.stop(),
          'echo "dump.rdb holds: $(docker run --rm -v "$v":/data {{image}} redis-check-rdb /data/dump.rdb | grep -o \'[0-9]* keys read\')"',
          '# The AOF directory goes missing (a restore that only copied dump.rdb, a volume mounted wrong, ...)',
          ...dockerPractice.onVolume('mv /data/appendonlydir /data/appendonlydir.moved-away'),
          ...dockerPractice.start(),
          ...dockerPractice.count('keys after a start without the AOF directory'),
          'docker logs "$c" 2>&1 | grep -o \'Creating AOF base file.*\'',
          ...dockerPractice.discard(),
        ].join('\n'),
        server: false,
        values: dockerPracticeValues,
        async verify(ctx) {
          const { exitCode, stdout } = await runDockerPractice(ctx);
          assert.equal(exitCode, 0);
          assert.match(stdout, /dump\.rdb holds: 50000 keys read/);
          assert.equal(labelledNumber(stdout, 'keys after a start without the AOF directory'), 0, 'no fallback to dump.rdb');
          assert.match(stdout, /Creating AOF base file appendonly\.aof\.1\.base\.rdb on server start/);
        },
      },
    },
  }),
];
