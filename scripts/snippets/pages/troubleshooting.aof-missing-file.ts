import assert from 'node:assert/strict';
import { engineTraits } from '../../engines/catalog.ts';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exec } from '../exec.ts';
import type { DisposableRedis } from '../../harness/redis-server.ts';
import type { RedisContainer } from '../../harness/docker/container.ts';
import { parseAofManifest } from '../../redis/aof.ts';
import { defineSnippet } from '../schema.ts';
import { assertStartFails, range, userNumbers, usersBackedUpThenMore, writeUsers } from '../scenarios/damaged-files.ts';
import { assertStartsWithBackup, backupValues, scratchBackups } from '../scenarios/rollback.ts';
import { assertContainerHoldsBackup } from '../scenarios/docker.ts';
import { assertContainerStartFails, containerUserNumbers, removeBaseInVolume } from '../scenarios/damaged-files-docker.ts';
import { singleFileAofVariant } from '../variants.ts';
import { aofContainer, aofServer, dockerLogGrep, logFileValue, page } from '../scenarios/troubleshooting.ts';

/** What the page's check prints on a server without an AOF set (Redis 6.0): no log line, and no manifest to read. */
const SINGLE_FILE_NO_MANIFEST = (dir: string) => `Cannot open file: ${dir}/appendonlydir/appendonly.aof.manifest`;

/**
 * Users 1..200 backed up, 201..300 written, then the base file of the AOF set deleted and a start
 * refused. Where the AOF is one file (Redis 6.0) that file is deleted instead, and the start is not
 * refused: the server comes up empty, and stays up.
 */
async function missingBaseFile(server: DisposableRedis, scratch: string): Promise<void> {
  await usersBackedUpThenMore(server, scratch);
  if (engineTraits(server.engine.id).aofLayout === 'file') {
    await rm(join(server.dir, 'appendonly.aof'));
    await server.start();
    assert.deepEqual(await userNumbers(server), [], 'a start without appendonly.aof is an empty start');
    return;
  }
  const manifest = parseAofManifest(await readFile(join(server.dir, 'appendonlydir', 'appendonly.aof.manifest'), 'utf8'));
  const base = manifest.find((entry) => entry.type === 'b');
  assert.ok(base);
  await rm(join(server.dir, 'appendonlydir', base.file));
  await assertStartFails(server, /Unable to obtain the AOF file .* length/);
}

/** The CLI as an operator runs it (bin/redis-playbook), for a backup taken the way a reader would. */
const playbookCli = fileURLToPath(new URL('../../../bin/redis-playbook', import.meta.url));

/**
 * The same in a container: users 1..200 (with `backup`, a backup of them taken with
 * `redis-playbook backup --container` into scratch/backups), 201..300, a clean stop, then the base
 * file of the AOF set deleted from the volume and a start that exits.
 */
function missingBaseInVolume(backup: boolean) {
  return async (server: RedisContainer, scratch: string): Promise<void> => {
    await writeUsers(server, 1, 200);
    if (backup) await exec(playbookCli, ['backup', '--container', server.name, '--to', scratchBackups(scratch)], { env: server.env });
    await writeUsers(server, 201, 300);
    await server.stop();
    await removeBaseInVolume(server);
    await assertContainerStartFails(server, /Unable to obtain the AOF file .* length/);
  };
}

/** The troubleshooting page's blocks of one fault: A manifest that names a missing file. */
export const aofMissingFileSnippets = [
  // 5. A manifest that names a missing file
  defineSnippet({
    id: 'trouble-aof-missing-file',
    title: 'See why Redis will not start: a file of the AOF set is missing',
    page,
    flavors: {
      host: {
        command: [
          "grep 'Unable to obtain the AOF file' {{logFile}} | tail -n 1",
          'redis-check-aof {{dataDir}}/appendonlydir/appendonly.aof.manifest | tail -n 1',
        ].join('\n'),
        variants: [
          singleFileAofVariant(
            'there is no AOF set and no manifest: without its appendonly.aof it starts anyway, empty, and logs no error (the warning at the top of this page); restore the backup below.',
          ),
        ],
        server: aofServer(),
        setup: missingBaseFile,
        values: logFileValue,
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          const server = ctx.server;
          if (engineTraits(server.engine.id).aofLayout === 'file') {
            // Nothing refused, nothing logged: the checker finds no manifest, and the server runs empty.
            assert.equal(stdout.trim(), SINGLE_FILE_NO_MANIFEST(server.dir));
            assert.ok(server.running, 'the server started');
            assert.equal((await server.cli(['DBSIZE'])).stdout.trim(), '0', 'it started empty');
            ctx.note('# the server runs, with 0 keys');
            return;
          }
          assert.match(stdout, /# Unable to obtain the AOF file appendonly\.aof\.\d+\.base\.rdb length\. stat: No such file or directory/);
          assert.match(stdout, /^Cannot open file \S+\/appendonlydir\/appendonly\.aof\.\d+\.base\.rdb: No such file or directory$/m);
        },
      },
      docker: {
        // The container is down: redis-check-aof runs in a throwaway container on the volume.
        command: [
          dockerLogGrep("grep 'Unable to obtain the AOF file' | tail -n 1"),
          'docker run --rm -v {{volume}}:/data {{image}} redis-check-aof /data/appendonlydir/appendonly.aof.manifest | tail -n 1',
        ].join('\n'),
        server: aofContainer(),
        setup: missingBaseInVolume(false),
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          assert.match(stdout, /# Unable to obtain the AOF file appendonly\.aof\.\d+\.base\.rdb length\. stat: No such file or directory/);
          assert.match(stdout, /^Cannot open file \/data\/appendonlydir\/appendonly\.aof\.\d+\.base\.rdb: No such file or directory$/m);
        },
      },
    },
  }),
  defineSnippet({
    id: 'trouble-aof-missing-file-restore',
    title: 'Restore the last backup when a file of the AOF set is missing',
    page,
    flavors: {
      host: {
        command: 'redis-playbook restore {{backup}} --data-dir {{dataDir}}',
        variants: [
          singleFileAofVariant(
            'the backup goes in as dump.rdb and as appendonly.aof, its one AOF file (`installed: dump.rdb, appendonly.aof`).',
          ),
        ],
        server: aofServer(),
        async setup(server, scratch) {
          await missingBaseFile(server, scratch);
          // Redis 6.0 started empty: stopped as an operator stops it before a restore (the stop saves the empty dataset).
          if (server.running) await server.stop();
        },
        values: backupValues,
        timeoutMs: 120_000,
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          const server = ctx.server;
          const aof = engineTraits(server.engine.id).aofLayout === 'file' ? 'appendonly\\.aof' : 'appendonlydir';
          assert.match(stdout, new RegExp(`installed: dump\\.rdb, ${aof}; appendonly yes`));
          await assertStartsWithBackup(server, ctx.values.backup);
          assert.deepEqual(await userNumbers(server), range(200), 'the backup: users 1..200');
          ctx.note('# then the server starts with the backup: 200 keys');
        },
      },
      docker: {
        // Stops the container if it runs, installs into its volume from a throwaway container, starts it and waits.
        command: 'redis-playbook restore {{backup}} --container {{container}}',
        server: aofContainer(),
        setup: missingBaseInVolume(true),
        values: backupValues,
        timeoutMs: 180_000,
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run({ timeoutMs: 150_000 });
          assert.equal(exitCode, 0);
          assert.match(stdout, /installed: dump\.rdb, appendonlydir; appendonly yes/);
          const server = ctx.server;
          assert.equal(await server.isRunning(), true, 'the container runs again');
          await assertContainerHoldsBackup(server, ctx.values.backup);
          assert.deepEqual(await containerUserNumbers(server), range(200), 'the backup: users 1..200');
          ctx.note('# then the container runs with the backup: 200 keys');
        },
      },
    },
  }),
];
