import assert from 'node:assert/strict';
import { readdir, rm, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import type { DisposableRedis } from '../../harness/redis-server.ts';
import type { RedisContainer } from '../../harness/docker/container.ts';
import { defineSnippet, type VerifyContext } from '../schema.ts';
import {
  assertStartFails,
  changeByteOf,
  range,
  userNumbers,
  userValue,
  usersBackedUpThenMore,
  writeUsers,
} from '../scenarios/damaged-files.ts';
import { assertStartsWithBackup, backupValues, scratchBackups } from '../scenarios/rollback.ts';
import { assertContainerHoldsBackup, copyDumpOut, dockerBackupValues } from '../scenarios/docker.ts';
import {
  assertContainerStartFails,
  containerUserNumbers,
  damageInVolume,
  onVolume,
  scratchContainerOnDump,
} from '../scenarios/damaged-files-docker.ts';
import { seedServerConfig } from './where-is-my-data.ts';
import { offline } from './rollback.docker.ts';
import { dockerLogGrep, logFileValue, page, seedSaveLines } from '../scenarios/troubleshooting.ts';

const rdbServer = { config: { appendonly: 'no', save: seedSaveLines } };

/** Cuts a file to half its size (dump.rdb: an interrupted copy, a full disk). */
async function cutInHalf(file: string): Promise<void> {
  await truncate(file, Math.floor((await stat(file)).size / 2));
}

/** One byte of a value in a dump.rdb changed: `name-150` becomes `Name-150`. */
const changeUserByte = (file: string) => changeByteOf(file, userValue(150));

/** Cuts dump.rdb to half its size. */
const cutDumpInHalf = (dir: string) => cutInHalf(join(dir, 'dump.rdb'));

/** One byte of a value in dump.rdb changed. */
const changeDumpByte = (dir: string) => changeUserByte(join(dir, 'dump.rdb'));

const SHORT_READ = /# Short read or OOM loading DB\. Unrecoverable error, aborting now\./;
const WRONG_CHECKSUM = /# Wrong RDB checksum expected: \([0-9a-f]+\) but got \([0-9a-f]+\)\. Aborting now\./;

/** Users 1..200 backed up, 201..300 saved at the stop, then dump.rdb damaged and a start refused. */
function rdbRefused(damage: (dir: string) => Promise<void>, line: RegExp) {
  return async (server: DisposableRedis, scratch: string): Promise<void> => {
    await usersBackedUpThenMore(server, scratch);
    await damage(server.dir);
    await assertStartFails(server, line);
  };
}

/** The seed's Compose service with `appendonly no`: a snapshot-only server in a container. */
const rdbContainer = { config: { ...seedServerConfig, appendonly: 'no' } };

/**
 * The same in a container: users 1..200 saved and copied out as a backup (scratch/backups, as the
 * manual Docker backup lays it out), 201..300 saved at the stop, then dump.rdb damaged in the volume
 * and a start that exits.
 */
function rdbRefusedInVolume(damage: (file: string) => Promise<void>, line: RegExp) {
  return async (server: RedisContainer, scratch: string): Promise<void> => {
    await writeUsers(server, 1, 200);
    await server.withClient((client) => client.save());
    await copyDumpOut(server, scratchBackups(scratch));
    await writeUsers(server, 201, 300);
    await server.stop();
    await damageInVolume(server, 'dump.rdb', damage);
    await assertContainerStartFails(server, line);
  };
}

/** Put the last good backup in place of a damaged dump.rdb, by hand. */
const restoreRdb = [
  '( set -e',
  'cd {{dataDir}}',
  '# 1. See it before changing anything: the file is damaged, the backup is good',
  "redis-check-rdb dump.rdb | grep -E 'Unexpected EOF|CRC error|RDB ERROR' | tail -n 1",
  "redis-check-rdb {{backup}}/dump.rdb | grep -F 'RDB looks OK'",
  '# 2. The damaged file goes aside, not away; the backup takes its place',
  'mv dump.rdb "dump.rdb.damaged-$(date -u +%Y-%m-%dT%H-%M-%SZ)"',
  'cp {{backup}}/dump.rdb dump.rdb',
  '# 3. Let the server user own it (host installs run Redis as "redis")',
  'chown redis:redis dump.rdb',
  'ls dump.rdb* )',
].join('\n');

/** The same steps in a throwaway container on the volume (`/backup`: the backup folder, read-only). */
const restoreRdbInVolume = [
  'cd /data',
  '# 1. See it before changing anything: the file is damaged, the backup is good',
  'redis-check-rdb dump.rdb | grep -E "Unexpected EOF|CRC error|RDB ERROR" | tail -n 1',
  'redis-check-rdb /backup/dump.rdb | grep -F "RDB looks OK"',
  '# 2. The damaged file goes aside, not away; the backup takes its place',
  'mv dump.rdb "dump.rdb.damaged-$(date -u +%Y-%m-%dT%H-%M-%SZ)"',
  'cp /backup/dump.rdb dump.rdb',
  '# 3. Give it the owner of /data (the official image runs Redis as "redis")',
  'chown "$(stat -c %u:%g .)" dump.rdb',
  'ls dump.rdb*',
];

/** Runs the Docker restore after a fixture and checks the container holds the backup (users 1..200) after it. */
async function restoreRdbDockerOnce(ctx: VerifyContext<RedisContainer, 'backup'>, fault: RegExp): Promise<void> {
  const server = ctx.server;
  const { exitCode, stdout } = await ctx.run({ timeoutMs: 90_000 });
  assert.equal(exitCode, 0);
  assert.match(stdout, fault);
  assert.match(stdout, /RDB looks OK/);
  assert.match(stdout, /^dump\.rdb\.damaged-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ$/m, 'the damaged file is kept aside');
  assert.match(stdout, /^db0:keys=200,/m);
  assert.equal(await server.isRunning(), true, 'the container runs again');
  await assertContainerHoldsBackup(server, ctx.values.backup);
  assert.deepEqual(await containerUserNumbers(server), range(200), 'the backup: users 1..200');
}

/** The troubleshooting page's blocks of one fault: A snapshot (dump.rdb) damaged: cut short or a byte changed, and the backup put back. */
export const damagedRdbSnippets = [
  // 1. A snapshot cut short
  defineSnippet({
    id: 'trouble-rdb-truncated-log',
    title: 'See why Redis will not start: a snapshot cut short',
    page,
    flavors: {
      host: {
        command: "grep -E 'Short read|Internal error in RDB' {{logFile}} | tail -n 2",
        server: rdbServer,
        setup: rdbRefused(cutDumpInHalf, SHORT_READ),
        values: logFileValue,
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          assert.match(stdout, SHORT_READ);
          assert.match(stdout, /# Internal error in RDB reading offset \d+, function at rdb\.c:\d+ -> Unexpected EOF reading RDB file/);
        },
      },
      docker: {
        command: dockerLogGrep("grep -E 'Short read|Internal error in RDB' | tail -n 2"),
        server: rdbContainer,
        setup: rdbRefusedInVolume(cutInHalf, SHORT_READ),
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          assert.match(stdout, SHORT_READ);
          assert.match(stdout, /# Internal error in RDB reading offset \d+, function at rdb\.c:\d+ -> Unexpected EOF reading RDB file/);
          assert.equal(await ctx.server.isRunning(), false, 'the container exited');
        },
      },
    },
  }),
  // 2. A snapshot with a changed byte
  defineSnippet({
    id: 'trouble-rdb-checksum-log',
    title: 'See why Redis will not start: a snapshot checksum error',
    page,
    flavors: {
      host: {
        command: "grep -E 'Wrong RDB checksum|Internal error in RDB' {{logFile}} | tail -n 2",
        server: rdbServer,
        setup: rdbRefused(changeDumpByte, WRONG_CHECKSUM),
        values: logFileValue,
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          assert.match(stdout, WRONG_CHECKSUM);
          assert.match(stdout, /# Internal error in RDB reading offset \d+, function at rdb\.c:\d+ -> RDB CRC error/);
          // What `rdbchecksum no` would have done: load the changed value without a word.
          const server = ctx.server;
          await server.start({ rdbchecksum: 'no' });
          assert.equal((await server.cli(['GET', 'user:150'])).stdout.trim(), 'Name-150');
          assert.equal((await server.cli(['DBSIZE'])).stdout.trim(), '300');
          await server.kill();
          ctx.note(
            '# the same file with rdbchecksum no: the server starts, 300 keys, and GET user:150 gives "Name-150" (it was "name-150")',
          );
        },
      },
      docker: {
        command: dockerLogGrep("grep -E 'Wrong RDB checksum|Internal error in RDB' | tail -n 2"),
        server: rdbContainer,
        setup: rdbRefusedInVolume(changeUserByte, WRONG_CHECKSUM),
        timeoutMs: 90_000,
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          assert.match(stdout, WRONG_CHECKSUM);
          assert.match(stdout, /# Internal error in RDB reading offset \d+, function at rdb\.c:\d+ -> RDB CRC error/);
          // What `rdbchecksum no` would have done: a container of the same image loads the changed value without a word.
          await using unchecked = await scratchContainerOnDump(ctx.server, { appendonly: 'no', save: '""', rdbchecksum: 'no' });
          assert.equal((await unchecked.cli(['GET', 'user:150'])).stdout.trim(), 'Name-150');
          assert.equal((await unchecked.cli(['DBSIZE'])).stdout.trim(), '300');
          ctx.note(
            '# the same file with rdbchecksum no: the server starts, 300 keys, and GET user:150 gives "Name-150" (it was "name-150")',
          );
        },
      },
    },
  }),
  defineSnippet({
    id: 'trouble-rdb-restore-backup',
    title: 'Put the last good backup in place of a damaged dump.rdb',
    page,
    flavors: {
      host: {
        command: restoreRdb,
        server: rdbServer,
        setup: rdbRefused(cutDumpInHalf, SHORT_READ),
        values: backupValues,
        timeoutMs: 90_000,
        async verify(ctx) {
          const server = ctx.server;
          const backup = ctx.values.backup;
          ctx.note('# After "Short read or OOM loading DB" (dump.rdb cut short):');
          const first = await ctx.run();
          assert.equal(first.exitCode, 0);
          assert.match(first.stdout, /Unexpected EOF reading RDB file/);
          assert.match(first.stdout, /RDB looks OK/);
          await assertStartsWithBackup(server, backup);
          ctx.note(`# then the server starts with the backup: ${(await userNumbers(server)).length} keys`);
          // The same steps after the other fault: a byte changed, "Wrong RDB checksum".
          await writeUsers(server, 201, 300);
          await server.stop();
          for (const name of await readdir(server.dir)) if (name.startsWith('dump.rdb.damaged-')) await rm(join(server.dir, name));
          await changeDumpByte(server.dir);
          await assertStartFails(server, WRONG_CHECKSUM);
          ctx.note('# After "Wrong RDB checksum" (one byte of dump.rdb changed):');
          const second = await ctx.run();
          assert.equal(second.exitCode, 0);
          assert.match(second.stdout, /RDB CRC error/);
          await assertStartsWithBackup(server, backup);
          assert.deepEqual(await userNumbers(server), range(200), 'the backup: users 1..200');
          ctx.note('# then the server starts with the backup: 200 keys');
        },
      },
      docker: {
        // With a restart policy the container keeps exiting at start: stop it, fix the volume from a
        // throwaway container of the same image, start it.
        command: offline(restoreRdbInVolume, '-v {{volume}}:/data -v {{backup}}:/backup:ro'),
        compose: true,
        server: rdbContainer,
        setup: rdbRefusedInVolume(cutInHalf, SHORT_READ),
        values: dockerBackupValues,
        timeoutMs: 180_000,
        async verify(ctx) {
          const server = ctx.server;
          ctx.note('# After "Short read or OOM loading DB" (dump.rdb cut short):');
          await restoreRdbDockerOnce(ctx, /Unexpected EOF reading RDB file/);
          ctx.note('# then the container runs with the backup: 200 keys');
          // The same steps after the other fault: a byte changed, "Wrong RDB checksum".
          await writeUsers(server, 201, 300);
          await server.stop();
          await onVolume(server, 'rm /data/dump.rdb.damaged-*');
          await damageInVolume(server, 'dump.rdb', changeUserByte);
          await assertContainerStartFails(server, WRONG_CHECKSUM);
          ctx.note('# After "Wrong RDB checksum" (one byte of dump.rdb changed):');
          await restoreRdbDockerOnce(ctx, /RDB CRC error/);
          ctx.note('# then the container runs with the backup: 200 keys');
        },
      },
    },
  }),
];
