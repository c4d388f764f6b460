import assert from 'node:assert/strict';
import { labelledNumber, pipeSummary } from '../outputs.ts';
import { practice, practiceValues, runPractice } from '../practice.ts';
import { defineSnippet } from '../schema.ts';
import { seedSaveRules } from './snapshot-schedule.ts';

const page = 'recovery/automatic-recovery';

export const automaticRecoverySnippets = [
  defineSnippet({
    id: 'startup-log-lines',
    title: 'See what the server loaded at start',
    page,
    flavors: {
      host: {
        command: "grep -E 'Loading RDB|DB loaded from|Done loading RDB|Creating AOF base file|Ready to accept connections' {{logFile}} | tail -n 5",
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
    },
  }),
];
