import assert from 'node:assert/strict';
import { defineSnippet } from '../schema.ts';
import { configPairs, infoFields } from '../outputs.ts';
import { InfoPersistenceSchema, parseSaveRules } from '../../redis/info.ts';
import type { RedisContainer } from '../../harness/docker/container.ts';
import { seedServerConfig } from './data-location.ts';
import type { WithClient } from '../scenarios/docker.ts';

/** The seed's schedule: 900 s / 1 change, 300 s / 10 changes, 60 s / 10000 changes. */
export const seedSaveRules = '900 1 300 10 60 10000';

const page = 'persistence/snapshot-schedule';

/** The fields the persistence-status block greps, as typed INFO fields. */
const StatusFields = InfoPersistenceSchema.pick({
  rdb_changes_since_last_save: true,
  rdb_bgsave_in_progress: true,
  rdb_last_save_time: true,
  rdb_last_bgsave_status: true,
  aof_enabled: true,
  aof_rewrite_in_progress: true,
  aof_last_bgrewrite_status: true,
  aof_last_write_status: true,
});

/** A snapshot, then seven writes that are not in it. */
async function savedThenSevenWrites(server: WithClient): Promise<void> {
  await server.withClient(async (client) => {
    await client.save();
    for (let i = 1; i <= 7; i++) await client.set(`page:${i}`, 'fetched');
  });
}

/** Checks the persistence-status output against the server's own LASTSAVE. */
function checkStatus(stdout: string, lastSave: number): void {
  const info = StatusFields.parse(infoFields(stdout));
  assert.equal(info.rdb_changes_since_last_save, 7, 'seven writes since the SAVE');
  assert.equal(info.aof_enabled, true);
  assert.equal(info.rdb_last_bgsave_status, 'ok');
  assert.equal(info.rdb_last_save_time, lastSave);
}

/** Checks the last-save-age output against the server's own LASTSAVE. */
function checkAge(stdout: string, lastSave: number): void {
  const match = /^Last completed save: (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC, (\d+) seconds ago$/m.exec(stdout);
  assert.ok(match, `unexpected output: ${stdout}`);
  assert.equal(Date.parse(`${match[1]?.replace(' ', 'T')}Z`) / 1000, lastSave);
  assert.ok(Number(match[2]) <= 60, 'the SAVE was just taken');
}

/** LASTSAVE of a container, through docker exec. */
async function containerLastSave(server: RedisContainer | undefined): Promise<number> {
  assert.ok(server);
  return Number((await server.cli(['LASTSAVE'])).stdout.trim());
}

const statusGrep =
  "grep -E '^(rdb_changes_since_last_save|rdb_bgsave_in_progress|rdb_last_save_time|rdb_last_bgsave_status|aof_enabled|aof_rewrite_in_progress|aof_last_bgrewrite_status|aof_last_write_status):'";

export const snapshotScheduleSnippets = [
  defineSnippet({
    id: 'show-save-rules',
    title: 'Show the snapshot rules',
    page,
    flavors: {
      host: {
        command: 'redis-cli -h {{host}} -p {{port}} CONFIG GET save',
        server: { config: { save: seedSaveRules } },
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          const rules = parseSaveRules(configPairs(stdout).save ?? 'missing');
          assert.deepEqual(rules, [
            { seconds: 900, changes: 1 },
            { seconds: 300, changes: 10 },
            { seconds: 60, changes: 10000 },
          ]);
        },
      },
      docker: {
        command: 'docker exec {{container}} redis-cli CONFIG GET save',
        server: { config: seedServerConfig },
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          assert.deepEqual(parseSaveRules(configPairs(stdout).save ?? 'missing'), [
            { seconds: 900, changes: 1 },
            { seconds: 300, changes: 10 },
            { seconds: 60, changes: 10000 },
          ]);
        },
      },
    },
  }),
  defineSnippet({
    id: 'show-save-rules-disabled',
    title: 'Recognise a server that takes no snapshots',
    page,
    flavors: {
      host: {
        command: 'redis-cli -h {{host}} -p {{port}} CONFIG GET save',
        server: { config: { save: '""' } },
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          const pairs = configPairs(stdout);
          assert.equal(pairs.save, '', 'an empty value means no snapshot rules');
          assert.deepEqual(parseSaveRules(pairs.save ?? 'missing'), []);
        },
      },
      docker: {
        command: 'docker exec {{container}} redis-cli CONFIG GET save',
        // A compose file's `command: redis-server --save ""`.
        server: { config: { save: '""', appendonly: 'yes' } },
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          const pairs = configPairs(stdout);
          assert.equal(pairs.save, '', 'an empty value means no snapshot rules');
          assert.deepEqual(parseSaveRules(pairs.save ?? 'missing'), []);
        },
      },
    },
  }),
  defineSnippet({
    id: 'persistence-status',
    title: 'Check the last save and the changes since',
    page,
    flavors: {
      host: {
        command: `redis-cli -h {{host}} -p {{port}} INFO persistence | ${statusGrep}`,
        server: { config: { save: seedSaveRules, appendonly: 'yes' } },
        setup: savedThenSevenWrites,
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          checkStatus(stdout, Number((await ctx.server?.cli(['LASTSAVE']))?.stdout.trim()));
        },
      },
      docker: {
        command: `docker exec {{container}} redis-cli INFO persistence | ${statusGrep}`,
        server: { config: seedServerConfig },
        setup: savedThenSevenWrites,
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          checkStatus(stdout, await containerLastSave(ctx.server));
        },
      },
    },
  }),
  defineSnippet({
    id: 'last-save-age',
    title: 'When was the last snapshot, in words',
    page,
    flavors: {
      host: {
        command: [
          'last=$(redis-cli -h {{host}} -p {{port}} LASTSAVE)',
          'echo "Last completed save: $(date -u -d "@$last" \'+%F %T UTC\'), $(( $(date +%s) - last )) seconds ago"',
        ].join('\n'),
        server: { config: { save: seedSaveRules } },
        async setup(server) {
          await server.withClient((client) => client.save());
        },
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          checkAge(stdout, Number((await ctx.server?.cli(['LASTSAVE']))?.stdout.trim()));
        },
      },
      docker: {
        command: [
          'last=$(docker exec {{container}} redis-cli LASTSAVE)',
          'echo "Last completed save: $(date -u -d "@$last" \'+%F %T UTC\'), $(( $(date +%s) - last )) seconds ago"',
        ].join('\n'),
        server: { config: seedServerConfig },
        async setup(server) {
          await server.withClient((client) => client.save());
        },
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          checkAge(stdout, await containerLastSave(ctx.server));
        },
      },
    },
  }),
];
