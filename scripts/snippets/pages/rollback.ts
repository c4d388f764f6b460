import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DisposableRedis } from '../../harness/redis-server.ts';
import { exec } from '../exec.ts';
import { backup } from '../../procedures/backup.ts';
import { serversUsingDir } from '../../procedures/running-server.ts';
import { restore } from '../../procedures/restore.ts';
import { changeMixedDataset, diffDatasets, readDataset, writeMixedDataset, type Dataset } from '../../redis/dataset.ts';
import { labelledNumber } from '../outputs.ts';
import { practice, practiceValues, runPractice, saveOptions } from '../practice.ts';
import { defineSnippet } from '../schema.ts';
import { seedSaveRules } from './snapshot-schedule.ts';
import { engineTraits } from '../../engines/catalog.ts';
import { checkEachAofFile, misreadBaseVariant, replaced, replacedEach, singleFileAofVariant } from '../variants.ts';
import {
  assertStartsWithBackup,
  backedUpThenChanged,
  backupValues,
  installAofSteps,
  moveAsideSteps,
  moveSnapshotAsideSteps,
  scratchBackups,
  undoSteps,
} from '../scenarios/rollback.ts';
import { waitUntil } from '../shell-wait.ts';
import {
  assertAofWins,
  naiveRollbackDocker,
  rollbackCliAofDocker,
  rollbackCliRdbDocker,
  rollbackManualAofDocker,
  rollbackManualRdbDocker,
  rollbackUndoDocker,
} from './rollback.docker.ts';

const page = 'recovery/rollback';

/** The offline rollback by hand, for an `appendonly yes` server (the backup as the AOF base). */
const manualAof = [
  '( set -e',
  'cd {{dataDir}}',
  'db={{dbfilename}} aofdir={{appenddirname}} aof={{appendfilename}}  # your dbfilename, appenddirname, appendfilename',
  '# 1. Move the current files aside: this folder is your undo',
  ...moveAsideSteps,
  ...installAofSteps('{{backup}}'),
  '# 3. Let the server user own them (host installs run Redis as "redis")',
  'chown -R redis:redis "$db" "$aofdir" "$aside"',
  'ls -l "$db" "$aofdir" )',
].join('\n');

/** Where the AOF is one file (Redis 6.0): `aof` names it, and there is no AOF dir to move aside. */
const toSingleFile: [string, string][] = [
  [
    'db={{dbfilename}} aofdir={{appenddirname}} aof={{appendfilename}}  # your dbfilename, appenddirname, appendfilename',
    'db={{dbfilename}} aof={{appendfilename}}  # your dbfilename and appendfilename',
  ],
  ['"$db" "$aofdir"', '"$db" "$aof"'],
];

/** The offline rollback of Redis 6.0: the backup becomes dump.rdb and appendonly.aof (an AOF may start with an RDB image). */
const manualAofSingleFile = replacedEach(manualAof, [
  ...toSingleFile,
  ['the base of a new, one-file AOF', 'the whole AOF, as it is (an AOF may start with a snapshot)'],
  [
    'mkdir "$aofdir"\ncp "$db" "$aofdir/$aof.1.base.rdb"\necho "file $aof.1.base.rdb seq 1 type b" > "$aofdir/$aof.manifest"',
    'cp "$db" "$aof"',
  ],
]);

/** The offline rollback by hand, for an `appendonly no` server. */
const manualRdb = [
  '( set -e',
  'cd {{dataDir}}',
  'db={{dbfilename}}  # your dbfilename',
  ...moveSnapshotAsideSteps,
  'cp {{backup}}/dump.rdb "$db"',
  'chown redis:redis "$db" "$aside"',
  'ls -l "$db" )',
].join('\n');

/**
 * Rollback for a server you start yourself: load the snapshot with the AOF off, then switch the AOF on
 * at run time so Redis writes a fresh AOF from it, then stop. The next normal start loads that AOF.
 */
const restartWithAofOff = [
  '( set -eo pipefail',
  '# Clients cannot reach it meanwhile: no TCP port, only a socket in the data dir',
  'cli="redis-cli -e -s {{dataDir}}/rollback.sock"',
  'field() { $cli INFO persistence | tr -d \'\\r\' | sed -n "s/^$1://p"; }',
  'cd {{dataDir}}',
  'db={{dbfilename}} aofdir={{appenddirname}} aof={{appendfilename}}  # your dbfilename, appenddirname, appendfilename',
  '# 1. The server is stopped: move its files aside, put the backup in place as dump.rdb',
  ...moveAsideSteps,
  'cp {{backup}}/dump.rdb "$db" && chown redis:redis "$db" "$aside"',
  '# 2. Start it once, as its usual user, with the AOF off: the snapshot is what loads',
  'runuser -u redis -- redis-server {{configFile}} --appendonly no --port 0 --unixsocket {{dataDir}}/rollback.sock --daemonize yes',
  waitUntil('$cli PING 2>/dev/null | grep -q PONG'),
  '$cli INFO keyspace | grep ^db',
  '# 3. Switch the AOF on while it runs: Redis writes a new AOF from the loaded data',
  '$cli CONFIG SET appendonly yes',
  waitUntil('[ "$(field aof_rewrite_in_progress)" = 0 ] && [ "$(field aof_rewrite_scheduled)" = 0 ]', { seconds: 3600, interval: 0.2 }),
  'if [ "$(field aof_last_bgrewrite_status)" != ok ] || [ "$(field aof_enabled)" != 1 ]; then echo "the AOF rewrite failed: see the server log; the server still runs with the AOF off" >&2; exit 1; fi',
  'redis-check-aof "$aofdir/$aof.manifest" | tail -n 1',
  '# 4. Stop it; from now on start it the usual way',
  '$cli SHUTDOWN )',
].join('\n');

/** Where the checker misreads the RDB base (Valkey 9.1): the new AOF checked file by file, as the server loads it. */
const restartWithAofOffEachFile = replaced(
  restartWithAofOff,
  'redis-check-aof "$aofdir/$aof.manifest" | tail -n 1',
  checkEachAofFile('$aofdir', '$aof.manifest', (call, filter) => `${call} | ${filter}`).join('\n'),
);

/** Redis 6.0: one appendonly.aof to check, and a redis-cli without -e. */
const restartWithAofOffSingleFile = replacedEach(restartWithAofOff, [
  ...toSingleFile,
  ['redis-cli -e -s', 'redis-cli -s'],
  ['redis-check-aof "$aofdir/$aof.manifest" | tail -n 1', 'redis-check-aof "$aof" | tail -n 1'],
]);

/** Undo a restore: the restored files go aside too, the pre-restore files come back. */
const undo = `${[
  '( set -e',
  'cd {{dataDir}}',
  'db={{dbfilename}} aofdir={{appenddirname}}  # your dbfilename and appenddirname',
  ...undoSteps,
].join('\n')} )`;

/** The seed playbook's recipe, run as written on Redis 7, on a practice server. */
const naiveRecipe = [
  ...practice.setup(`--appendonly yes ${saveOptions(seedSaveRules)}`),
  ...practice.start(),
  ...practice.write(1, 50000),
  '# A backup of the 50000 keys, then 50000 more writes: the changes you want to undo',
  'redis-cli -p "$port" SAVE >/dev/null && cp "$dir/dump.rdb" "$dir/backup.rdb"',
  ...practice.write(50001, 100000),
  ...practice.stop(),
  '# The recipe: copy the backup over dump.rdb and remove appendonly.aof (on Redis 7 that file does not exist)',
  'cp "$dir/backup.rdb" "$dir/dump.rdb" && rm -f "$dir/appendonly.aof"',
  ...practice.start(),
  ...practice.count('keys after copying the backup over dump.rdb'),
  ...practice.stop(),
  '# Removing the AOF directory instead',
  'cp "$dir/backup.rdb" "$dir/dump.rdb" && rm -rf "$dir/appendonlydir"',
  ...practice.start(),
  ...practice.count('keys after also removing appendonlydir'),
  '# A clean stop now saves that empty dataset over the copied backup',
  ...practice.stop(),
  'echo "dump.rdb now holds: $(redis-check-rdb "$dir/dump.rdb" | grep -o \'[0-9]* keys read\')"',
].join('\n');

/** Rollback scenario plus the dataset B, saved to scratch so the undo can be checked against it. */
async function restoredWithBSaved(server: DisposableRedis, scratch: string): Promise<void> {
  await server.withClient(async (client) => {
    await writeMixedDataset(client, 'A', 30);
    await backup({ client, source: { host: server.host, port: server.port }, engine: server.engine, to: scratchBackups(scratch) });
    await changeMixedDataset(client, 'A', 'B');
    await writeFile(join(scratch, 'dataset-b.json'), JSON.stringify([...(await readDataset(client))]));
  });
  await server.stop();
  const [name] = (await readdir(scratchBackups(scratch))).filter((entry) => !entry.startsWith('.'));
  await restore({ backup: join(scratchBackups(scratch), name as string), dataDir: server.dir, engine: server.engine });
}

export const rollbackSnippets = [
  defineSnippet({
    id: 'rollback-cli-aof',
    title: 'Roll back an AOF server with the CLI',
    page,
    flavors: {
      host: {
        command: 'redis-playbook restore {{backup}} --data-dir {{dataDir}}',
        variants: [
          singleFileAofVariant(
            'the CLI installs the backup as dump.rdb and as appendonly.aof, a one-file AOF that starts with the snapshot.',
          ),
        ],
        server: { config: { appendonly: 'yes', save: '900 1 300 10 60 10000' } },
        setup: backedUpThenChanged({ stop: true }),
        values: backupValues,
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          assert.match(
            stdout,
            engineTraits(ctx.engine.id).aofLayout === 'file'
              ? /installed: dump\.rdb, appendonly\.aof; appendonly yes/
              : /installed: dump\.rdb, appendonlydir; appendonly yes/,
          );
          assert.match(stdout, /pre-restore-.*: that folder is your undo/);
          await assertStartsWithBackup(ctx.server, ctx.values.backup);
          assert.equal((await ctx.server.info('persistence')).persistence?.aof_enabled, '1');
        },
      },
      docker: rollbackCliAofDocker,
    },
  }),
  defineSnippet({
    id: 'rollback-manual-aof',
    title: 'Roll back an AOF server by hand',
    page,
    flavors: {
      host: {
        command: manualAof,
        variants: [
          singleFileAofVariant(
            'its AOF is one file: the backup becomes appendonly.aof as it is (an AOF may start with a snapshot), no dir, no manifest.',
            manualAofSingleFile,
          ),
        ],
        server: { config: { appendonly: 'yes', save: '900 1 300 10 60 10000' } },
        setup: backedUpThenChanged({ stop: true }),
        values: backupValues,
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          const single = engineTraits(ctx.engine.id).aofLayout === 'file';
          assert.match(stdout, single ? / appendonly\.aof$/m : /appendonly\.aof\.1\.base\.rdb/);
          const server = ctx.server;
          const aside = (await readdir(server.dir)).filter((name) => name.startsWith('pre-restore-'));
          assert.equal(aside.length, 1);
          assert.deepEqual((await readdir(join(server.dir, aside[0] as string))).sort(), [
            single ? 'appendonly.aof' : 'appendonlydir',
            'dump.rdb',
          ]);
          await assertStartsWithBackup(server, ctx.values.backup);
        },
      },
      docker: rollbackManualAofDocker,
    },
  }),
  defineSnippet({
    id: 'rollback-restart-aof-off',
    title: 'Roll back an AOF server by starting it once with the AOF off',
    page,
    flavors: {
      host: {
        command: restartWithAofOff,
        variants: [
          misreadBaseVariant(
            'its checker calls the RDB base file invalid (integrity page), so check the new AOF file by file.',
            restartWithAofOffEachFile,
          ),
          singleFileAofVariant(
            'its AOF is one file, appendonly.aof, and its redis-cli has no -e (a refused command shows in the checks that follow).',
            restartWithAofOffSingleFile,
          ),
        ],
        server: { config: { appendonly: 'yes', save: '900 1 300 10 60 10000' } },
        async setup(server, scratch) {
          await backedUpThenChanged({ stop: true })(server, scratch);
          // The server's files belong to its user, as on a host install (the script starts it as "redis").
          await exec('chown', ['-R', 'redis:redis', server.root]);
        },
        values: async (input) => ({ ...(await backupValues(input)), configFile: input.server.configFile }),
        async verify(ctx) {
          const server = ctx.server;
          try {
            const { exitCode, stdout } = await ctx.run();
            assert.equal(exitCode, 0);
            assert.match(stdout, /^db0:keys=\d+/m);
            if (engineTraits(ctx.engine.id).aofLayout === 'file') {
              assert.match(stdout, /^AOF is valid$/m);
            } else if (engineTraits(ctx.engine.id).checkAofMisreadsBase) {
              assert.match(stdout, /RDB looks OK/);
              assert.match(stdout, /^AOF appendonlydir\/appendonly\.aof\.\d+\.incr\.aof is (valid|empty)$/m);
            } else {
              assert.match(stdout, /All AOF files and manifest are valid/);
            }
          } finally {
            // The script's own redis-server must be gone whatever happened.
            for (const running of await serversUsingDir(server.dir)) process.kill(running.pid, 'SIGKILL');
          }
          await assertStartsWithBackup(server, ctx.values.backup);
          assert.equal((await server.info('persistence')).persistence?.aof_enabled, '1');
        },
      },
    },
  }),
  defineSnippet({
    id: 'rollback-cli-rdb',
    title: 'Roll back a snapshot-only server with the CLI',
    page,
    flavors: {
      host: {
        command: 'redis-playbook restore {{backup}} --data-dir {{dataDir}}',
        server: { config: { appendonly: 'no', save: '900 1 300 10 60 10000' } },
        setup: backedUpThenChanged({ stop: true }),
        values: backupValues,
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          assert.match(stdout, /installed: dump\.rdb; appendonly no/);
          await assertStartsWithBackup(ctx.server, ctx.values.backup);
        },
      },
      docker: rollbackCliRdbDocker,
    },
  }),
  defineSnippet({
    id: 'rollback-manual-rdb',
    title: 'Roll back a snapshot-only server by hand',
    page,
    flavors: {
      host: {
        command: manualRdb,
        server: { config: { appendonly: 'no', save: '900 1 300 10 60 10000' } },
        setup: backedUpThenChanged({ stop: true }),
        values: backupValues,
        async verify(ctx) {
          const { exitCode } = await ctx.run();
          assert.equal(exitCode, 0);
          await assertStartsWithBackup(ctx.server, ctx.values.backup);
        },
      },
      docker: rollbackManualRdbDocker,
    },
  }),
  defineSnippet({
    id: 'rollback-undo',
    title: 'Undo a rollback',
    page,
    flavors: {
      host: {
        command: undo,
        server: { config: { appendonly: 'yes' } },
        setup: restoredWithBSaved,
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          assert.match(stdout, /back to the files of pre-restore-/);
          const server = ctx.server;
          await server.start();
          const expected: Dataset = new Map(
            JSON.parse(await readFile(join(ctx.scratch, 'dataset-b.json'), 'utf8')) as [
              string,
              Dataset extends Map<string, infer V> ? V : never,
            ][],
          );
          assert.deepEqual(diffDatasets(expected, await server.withClient(readDataset)), [], 'the data from before the rollback is back');
        },
      },
      docker: rollbackUndoDocker,
    },
  }),
  defineSnippet({
    id: 'naive-rollback-fails',
    title: 'What the copy-dump.rdb recipe really does',
    page,
    flavors: {
      host: {
        command: naiveRecipe,
        variants: [
          singleFileAofVariant(
            'appendonly.aof is the whole AOF, so the recipe deletes it: the start is empty at once, and the next stop saves that over the backup.',
          ),
        ],
        server: false,
        values: practiceValues,
        async verify(ctx) {
          const { exitCode, stdout } = await runPractice(ctx);
          assert.equal(exitCode, 0);
          if (engineTraits(ctx.engine.id).aofLayout === 'file') {
            assert.equal(
              labelledNumber(stdout, 'keys after copying the backup over dump.rdb'),
              0,
              'with appendonly.aof gone the server starts empty, ignoring dump.rdb',
            );
            assert.equal(labelledNumber(stdout, 'keys after also removing appendonlydir'), 0);
            assert.match(stdout, /dump\.rdb now holds: 0 keys read/, 'the copied backup was overwritten');
            return;
          }
          assertAofWins(stdout);
        },
      },
      docker: naiveRollbackDocker,
    },
  }),
];
