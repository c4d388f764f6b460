import assert from 'node:assert/strict';
import { defineSnippet, type ServerUnderTest } from '../schema.ts';
import { configPairs, infoFields } from '../outputs.ts';
import { InfoPersistenceSchema, parseSaveRules } from '../../redis/info.ts';
import { seedServerConfig } from './where-is-my-data.ts';
import type { WithClient } from '../scenarios/docker.ts';
import { practice } from '../practice.ts';
import { dockerPractice } from '../docker-practice.ts';
import { drillFlavors } from '../drill.ts';
import { sameCheck } from '../same-check.ts';
import { engineTraits } from '../../engines/catalog.ts';
import { engineVariant, replaced } from '../variants.ts';

/** The seed's schedule: 900 s / 1 change, 300 s / 10 changes, 60 s / 10000 changes. */
export const seedSaveRules = '900 1 300 10 60 10000';

/** The rules of a server given no `save` at all: built in since Redis 6.2 (and in Valkey). */
export const BUILTIN_SAVE_RULES = '3600 1 300 100 60 10000';

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

/** LASTSAVE of the server: redis-cli on a host, docker exec in a container. */
async function lastSave(server: ServerUnderTest): Promise<number> {
  return Number((await server.cli(['LASTSAVE'])).stdout.trim());
}

const statusGrep =
  "grep -E '^(rdb_changes_since_last_save|rdb_bgsave_in_progress|rdb_last_save_time|rdb_last_bgsave_status|aof_enabled|aof_rewrite_in_progress|aof_last_bgrewrite_status|aof_last_write_status):'";

/** What FLUSHALL did to dump.rdb, from a drill's `before FLUSHALL:` and `after FLUSHALL:` lines. */
const DUMP_STATE = /^(before|after) FLUSHALL: (\d+) bytes, modified (\S+ \S+) \S+, (\d+) keys read$/gm;

/**
 * A line printing dump.rdb's size, time and key count (`<label>: N bytes, modified TIME, N keys read`),
 * with `stat` and `redis-check-rdb` run after `run` (a throwaway container, for a volume).
 */
const dumpState = (label: string, file: string, run = '') =>
  `echo "${label}: $(${run}stat -c '%s bytes, modified %y' ${file}), $(${run}redis-check-rdb ${file} | grep -o '[0-9]* keys read')"`;

/** The FLUSHALL drill on a practice server: 50000 keys, a snapshot, FLUSHALL, and what dump.rdb holds then. */
const flushallDrill = [
  ...practice.setup(`--appendonly no --save "${seedSaveRules}"`),
  ...practice.start(),
  ...practice.write(1, 50000),
  'redis-cli -p "$port" SAVE >/dev/null',
  dumpState('before FLUSHALL', '"$dir/dump.rdb"'),
  'redis-cli -p "$port" FLUSHALL',
  dumpState('after FLUSHALL', '"$dir/dump.rdb"'),
  'redis-cli -p "$port" INFO persistence | grep \'^rdb_changes_since_last_save:\'',
  ...practice.discard(),
].join('\n');

/** `--save 900 1 --save 300 10 …`: one option per rule, as Redis 6.0 reads them. */
const oneSavePerRule = (rules: string) => (rules.match(/\d+ \d+/g) ?? []).map((rule) => `--save ${rule}`).join(' ');

/** A throwaway container of the image on the practice volume, for a command that reads its files. */
const onVolume = 'docker run --rm -v "$v":/data {{image}} ';

/** The same drill in a practice container; the file is read by throwaway containers of the image. */
const dockerFlushallDrill = [
  ...dockerPractice.setup(`--appendonly no --save "${seedSaveRules}"`),
  ...dockerPractice.write(1, 50000),
  'docker exec "$c" redis-cli SAVE >/dev/null',
  dumpState('before FLUSHALL', '/data/dump.rdb', onVolume),
  'docker exec "$c" redis-cli FLUSHALL',
  dumpState('after FLUSHALL', '/data/dump.rdb', onVolume),
  'docker exec "$c" redis-cli INFO persistence | grep \'^rdb_changes_since_last_save:\'',
  ...dockerPractice.discard(),
].join('\n');

/** FLUSHALL replaced the 50000-key snapshot at once with an empty one, and left nothing unsaved (Redis 6.0: counts the deleted keys). */
function checkFlushall(stdout: string, engineId: string): void {
  const states = new Map(
    [...stdout.replace(/\r/g, '').matchAll(DUMP_STATE)].map((m) => [m[1], { bytes: Number(m[2]), time: m[3] ?? '', keys: Number(m[4]) }]),
  );
  const before = states.get('before');
  const after = states.get('after');
  assert.ok(before && after, `expected "before FLUSHALL:" and "after FLUSHALL:" lines in:\n${stdout}`);
  assert.equal(before.keys, 50000, 'the snapshot before holds the 50000 keys');
  assert.equal(after.keys, 0, 'FLUSHALL wrote the empty dataset over dump.rdb');
  assert.ok(after.bytes < before.bytes, 'dump.rdb shrank');
  assert.ok(after.time > before.time, `dump.rdb was written again (${before.time} -> ${after.time})`);
  const changes = infoFields(stdout).rdb_changes_since_last_save;
  if (engineTraits(engineId).flushallCountsDeleted)
    assert.equal(changes, String(before.keys + 1), 'the deleted keys and the FLUSHALL count as unsaved, though dump.rdb is already empty');
  else assert.equal(changes, '0', 'nothing is left to save: the empty dataset is the snapshot');
}

export const snapshotScheduleSnippets = [
  defineSnippet({
    id: 'show-save-rules',
    title: 'Show the snapshot rules',
    page,
    flavors: {
      host: {
        command: 'redis-cli -h {{host}} -p {{port}} CONFIG GET save',
        variants: [
          engineVariant(
            (traits) => traits.saveRulesPerLine === 'one',
            'a save line holding several rules (save 900 1 300 10 60 10000) is ignored without a word, and this answers an empty value: write one save line per rule.',
          ),
        ],
        // The rules on one line, as the seed writes them.
        server: { config: { save: seedSaveRules } },
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          const rules = parseSaveRules(configPairs(stdout).save ?? 'missing');
          if (engineTraits(ctx.engine.id).saveRulesPerLine === 'one') {
            assert.deepEqual(rules, [], 'the line of three rules was ignored: no snapshot rules at all');
            return;
          }
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
    id: 'save-rules-builtin-default',
    title: 'The save rules of a server started without any',
    page,
    flavors: drillFlavors({
      host: [
        ...practice.setup(''),
        ...practice.start(),
        '# No save option and no config file: the built-in rules',
        'redis-cli -p "$port" CONFIG GET save',
        ...practice.discard(),
      ].join('\n'),
      docker: [
        ...dockerPractice.setup(''),
        '# No save option in the command: the built-in rules',
        'docker exec "$c" redis-cli CONFIG GET save',
        ...dockerPractice.discard(),
      ].join('\n'),
      hostVariants: [
        engineVariant(
          (traits) => !traits.builtinSaveRules,
          'started with a config file or any option but no save line, it has no rules at all (this answers an empty value) and takes no snapshots.',
        ),
      ],
      check: (stdout, engineId) => {
        assert.equal(configPairs(stdout).save, engineTraits(engineId).builtinSaveRules ? BUILTIN_SAVE_RULES : '');
      },
    }),
  }),
  defineSnippet({
    id: 'show-save-rules-disabled',
    title: 'Recognise a server that takes no snapshots',
    page,
    flavors: sameCheck(
      {
        config: { save: '""' },
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          const pairs = configPairs(stdout);
          assert.equal(pairs.save, '', 'an empty value means no snapshot rules');
          assert.deepEqual(parseSaveRules(pairs.save), []);
        },
      },
      {
        host: 'redis-cli -h {{host}} -p {{port}} CONFIG GET save',
        // A compose file's `command: redis-server --save ""`.
        docker: { command: 'docker exec {{container}} redis-cli CONFIG GET save', server: { config: { save: '""', appendonly: 'yes' } } },
      },
    ),
  }),
  defineSnippet({
    id: 'persistence-status',
    title: 'Check the last save and the changes since',
    page,
    // Two flavors of their own: test/unit/fingerprint.test.ts edits one and expects the other unchanged.
    flavors: {
      host: {
        command: `redis-cli -h {{host}} -p {{port}} INFO persistence | ${statusGrep}`,
        server: { config: { save: seedSaveRules, appendonly: 'yes' } },
        setup: savedThenSevenWrites,
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          checkStatus(stdout, Number((await ctx.server.cli(['LASTSAVE'])).stdout.trim()));
        },
      },
      docker: {
        command: `docker exec {{container}} redis-cli INFO persistence | ${statusGrep}`,
        server: { config: seedServerConfig },
        setup: savedThenSevenWrites,
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          checkStatus(stdout, await lastSave(ctx.server));
        },
      },
    },
  }),
  defineSnippet({
    id: 'last-save-age',
    title: 'When was the last snapshot, in words',
    page,
    flavors: sameCheck(
      {
        async setup(server) {
          await server.withClient((client) => client.save());
        },
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          checkAge(stdout, await lastSave(ctx.server));
        },
      },
      {
        host: {
          command: [
            'last=$(redis-cli -h {{host}} -p {{port}} LASTSAVE)',
            'echo "Last completed save: $(date -u -d "@$last" \'+%F %T UTC\'), $(( $(date +%s) - last )) seconds ago"',
          ].join('\n'),
          server: { config: { save: seedSaveRules } },
        },
        docker: {
          command: [
            'last=$(docker exec {{container}} redis-cli LASTSAVE)',
            'echo "Last completed save: $(date -u -d "@$last" \'+%F %T UTC\'), $(( $(date +%s) - last )) seconds ago"',
          ].join('\n'),
          server: { config: seedServerConfig },
        },
      },
    ),
  }),
  defineSnippet({
    id: 'flushall-rewrites-dump',
    title: 'Drill: FLUSHALL writes dump.rdb at once',
    page,
    flavors: drillFlavors({
      host: flushallDrill,
      hostVariants: [
        engineVariant(
          (traits) => traits.saveRulesPerLine === 'one',
          'it ignores a --save holding several rules, so give one --save per rule; FLUSHALL then empties dump.rdb at once just the same, but rdb_changes_since_last_save counts the deleted keys as unsaved.',
          replaced(flushallDrill, `--save "${seedSaveRules}"`, oneSavePerRule(seedSaveRules)),
        ),
      ],
      docker: dockerFlushallDrill,
      check: checkFlushall,
    }),
  }),
];
