import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exec } from '../exec.ts';
import type { RedisContainer } from '../../harness/docker/container.ts';
import { docker } from '../../harness/docker/exec.ts';
import { changeMixedDataset, readDataset, writeMixedDataset, type Dataset } from '../../redis/dataset.ts';
import { dockerPractice, dockerPracticeValues, runDockerPractice } from '../docker-practice.ts';
import { labelledNumber } from '../outputs.ts';
import { dockerFlavor } from '../schema.ts';
import {
  assertContainerHolds,
  assertContainerHoldsBackup,
  copyDumpOut,
  datasetOfBackupInImage,
  dockerBackedUpThenChanged,
  dockerBackupValues,
  filesInContainer,
} from '../scenarios/docker.ts';
import { backupValues, installAofSteps, moveAsideSteps, moveSnapshotAsideSteps, scratchBackups, undoSteps } from '../scenarios/rollback.ts';
import { seedServerConfig } from './where-is-my-data.ts';
import { seedSaveRules } from './snapshot-schedule.ts';
import { waitUntil } from '../shell-wait.ts';

/**
 * The Docker Compose flavors of the rollback page (recovery/rollback). The offline procedure is the
 * host one, run in a throwaway container of the service's image on the volume while the service is
 * stopped: `docker compose stop`, `docker run --rm -v VOLUME:/data -v BACKUP:/backup:ro IMAGE sh -ec …`,
 * `docker compose start`. Each is proven on a Compose project: afterwards the server holds exactly
 * the backup, key by key, and still does after another restart.
 */

/** Steps 1-3 of the offline rollback for `appendonly yes`, as a throwaway container runs them in /data. */
const installAof = [
  'cd /data',
  '# 1. Move the current files aside: this folder is your undo',
  ...moveAsideSteps,
  ...installAofSteps('/backup'),
  '# 3. Give them the owner of /data (the official image runs Redis as "redis")',
  'chown -R "$(stat -c %u:%g .)" "$db" "$aofdir" "$aside"',
  'ls -l "$db" "$aofdir"',
];

/** The same for `appendonly no`: only dump.rdb. */
const installRdb = [
  'cd /data',
  ...moveSnapshotAsideSteps,
  'cp /backup/dump.rdb "$db"',
  'chown -R "$(stat -c %u:%g .)" "$db" "$aside"',
  'ls -l "$db"',
];

/** Undo: the restored files go aside too, the pre-restore files come back. */
const undoInVolume = ['cd /data', ...undoSteps];

/** A script for `sh -ec '…'` (indented, single quotes are not allowed inside). */
export function shScript(lines: string[]): string {
  for (const line of lines) if (line.includes("'")) throw new Error(`A line for sh -ec '…' cannot hold a single quote: ${line}`);
  return lines.map((line) => `  ${line}`).join('\n');
}

/** Stop the service, run `script` in a throwaway container on its volume, start it, wait, show the keys. */
export function offline(script: string[], mounts: string): string {
  return [
    '( set -e',
    'docker compose stop {{service}}',
    '# Redis is stopped: a throwaway container of the same image does the work in the volume',
    '# Your dbfilename, appenddirname and appendfilename, for the script in the throwaway container',
    `docker run --rm -e db={{dbfilename}} -e aofdir={{appenddirname}} -e aof={{appendfilename}} ${mounts} {{image}} sh -ec '`,
    `${shScript(script)}'`,
    'docker compose start {{service}}',
    waitUntil('docker exec {{container}} redis-cli PING 2>/dev/null | grep -q PONG'),
    'docker exec {{container}} redis-cli INFO keyspace )',
  ].join('\n');
}

const backupMounts = '-v {{volume}}:/data -v {{backup}}:/backup:ro';

/** The moved-aside folder in the container's /data (exactly one) and what it holds. */
async function asideFiles(server: RedisContainer, prefix: string): Promise<string[]> {
  const aside = (await filesInContainer(server, server.dir)).filter((name) => name.startsWith(prefix));
  assert.equal(aside.length, 1, `one ${prefix}* folder`);
  return filesInContainer(server, `${server.dir}/${aside[0]}`);
}

/** The server holds the backup now, and still after another stop and start (the installed files are what it loads). */
async function holdsBackupAcrossRestart(server: RedisContainer, backup: string): Promise<void> {
  const expected = await datasetOfBackupInImage(backup, server.image);
  await assertContainerHolds(server, expected, 'the server holds exactly the backup');
  await server.stop();
  await server.start();
  await assertContainerHolds(server, expected, 'the server still holds exactly the backup after a restart');
}

/** The CLI as an operator runs it (bin/redis-playbook), for setups that take a backup the way a reader would. */
const cli = fileURLToPath(new URL('../../../bin/redis-playbook', import.meta.url));

/** Dataset A, a backup of it taken with `redis-playbook backup --container`, then changes to dataset B. */
async function cliBackedUpThenChanged(server: RedisContainer, scratch: string): Promise<void> {
  await server.withClient((client) => writeMixedDataset(client, 'A', 30));
  await exec(cli, ['backup', '--container', server.name, '--to', scratchBackups(scratch)], { env: server.env });
  await server.withClient((client) => changeMixedDataset(client, 'A', 'B'));
}

/**
 * `redis-playbook restore --container`: stop, install into the volume from a throwaway container,
 * start, wait. On an `appendonly yes` container the AOF dir is installed too; on an `appendonly no`
 * one only dump.rdb.
 */
function rollbackCliDocker(appendonly: boolean) {
  const installed = appendonly ? ['appendonlydir', 'dump.rdb'] : ['dump.rdb'];
  return dockerFlavor({
    command: 'redis-playbook restore {{backup}} --container {{container}}',
    server: { config: { ...seedServerConfig, appendonly: appendonly ? 'yes' : 'no' } },
    setup: cliBackedUpThenChanged,
    values: backupValues,
    timeoutMs: 120_000,
    async verify(ctx) {
      const server = ctx.server;
      const { exitCode, stdout } = await ctx.run();
      assert.equal(exitCode, 0);
      assert.ok(stdout.includes(`installed: ${[...installed].reverse().join(', ')}; appendonly ${appendonly ? 'yes' : 'no'}`), stdout);
      assert.equal(await server.isRunning(), true, 'the container runs again');
      assert.deepEqual(await asideFiles(server, 'pre-restore-'), installed);
      assert.equal((await server.info('persistence')).persistence?.aof_enabled, appendonly ? '1' : '0');
      await assertContainerHoldsBackup(server, ctx.values.backup);
    },
  });
}

export const rollbackCliAofDocker = rollbackCliDocker(true);
export const rollbackCliRdbDocker = rollbackCliDocker(false);

/**
 * The offline rollback by hand in a Compose project: the backup installed into the volume from a
 * throwaway container, the service started again. With `appendonly yes` the backup becomes the AOF's
 * base, and the keys must also survive a restart (the AOF is what loads).
 */
function rollbackManualDocker(appendonly: boolean) {
  const installed = appendonly ? ['appendonlydir', 'dump.rdb'] : ['dump.rdb'];
  return dockerFlavor({
    command: offline(appendonly ? installAof : installRdb, backupMounts),
    compose: true,
    server: { config: appendonly ? seedServerConfig : { ...seedServerConfig, appendonly: 'no' } },
    setup: dockerBackedUpThenChanged,
    values: dockerBackupValues,
    timeoutMs: 120_000,
    async verify(ctx) {
      const server = ctx.server;
      const { exitCode, stdout } = await ctx.run();
      assert.equal(exitCode, 0);
      if (appendonly) assert.match(stdout, /appendonly\.aof\.1\.base\.rdb/);
      assert.match(stdout, /^db0:keys=\d+/m);
      assert.deepEqual(await asideFiles(server, 'pre-restore-'), installed);
      if (!appendonly) return assertContainerHoldsBackup(server, ctx.values.backup);
      assert.equal((await server.info('persistence')).persistence?.aof_enabled, '1');
      await holdsBackupAcrossRestart(server, ctx.values.backup);
    },
  });
}

export const rollbackManualAofDocker = rollbackManualDocker(true);
export const rollbackManualRdbDocker = rollbackManualDocker(false);

/**
 * The rollback scenario, rolled back (the offline procedure, as the AOF flavor runs it) and started
 * again; dataset B (from before the rollback) saved to scratch so the undo can be checked against it.
 */
async function restoredWithBSaved(server: RedisContainer, scratch: string): Promise<void> {
  await server.withClient(async (client) => {
    await writeMixedDataset(client, 'A', 30);
    await client.save();
  });
  const backup = await copyDumpOut(server, scratchBackups(scratch));
  await server.withClient(async (client) => {
    await changeMixedDataset(client, 'A', 'B');
    await writeFile(join(scratch, 'dataset-b.json'), JSON.stringify([...(await readDataset(client))]));
  });
  await server.stop();
  await docker([
    'run',
    '--rm',
    '-v',
    `${server.volume}:/data`,
    '-v',
    `${backup}:/backup:ro`,
    '-e',
    'db=dump.rdb',
    '-e',
    'aofdir=appendonlydir',
    '-e',
    'aof=appendonly.aof',
    server.image,
    'sh',
    '-ec',
    installAof.join('\n'),
  ]);
  await server.start();
}

export const rollbackUndoDocker = dockerFlavor({
  command: offline(undoInVolume, '-v {{volume}}:/data'),
  compose: true,
  server: { config: seedServerConfig },
  setup: restoredWithBSaved,
  timeoutMs: 120_000,
  async verify(ctx) {
    const server = ctx.server;
    const { exitCode, stdout } = await ctx.run();
    assert.equal(exitCode, 0);
    assert.match(stdout, /back to the files of pre-restore-/);
    assert.deepEqual(await asideFiles(server, 'undone-restore-'), ['appendonlydir', 'dump.rdb']);
    const expected: Dataset = new Map(
      JSON.parse(await readFile(join(ctx.scratch, 'dataset-b.json'), 'utf8')) as [
        string,
        Dataset extends Map<string, infer V> ? V : never,
      ][],
    );
    await assertContainerHolds(server, expected, 'the data from before the rollback is back');
  },
});

/**
 * The seed's recipe as its user would run it under Compose, on a practice container: copy the backup
 * over dump.rdb in the volume and delete appendonly.aof; then the AOF dir too.
 */
const naiveRecipeDocker = [
  ...dockerPractice.setup(`--appendonly yes --save "${seedSaveRules}"`),
  ...dockerPractice.write(1, 50000),
  '# A backup of the 50000 keys, kept in the volume, then 50000 more writes: the changes you want to undo',
  'docker exec "$c" redis-cli SAVE >/dev/null',
  ...dockerPractice.onVolume('cp /data/dump.rdb /data/backup.rdb'),
  ...dockerPractice.write(50001, 100000),
  ...dockerPractice.stop(),
  '# The recipe: copy the backup over dump.rdb and remove appendonly.aof (on Redis 7 that file does not exist)',
  ...dockerPractice.onVolume('cp /data/backup.rdb /data/dump.rdb && rm -f /data/appendonly.aof'),
  ...dockerPractice.start(),
  ...dockerPractice.count('keys after copying the backup over dump.rdb'),
  ...dockerPractice.stop(),
  '# Removing the AOF directory instead',
  ...dockerPractice.onVolume('cp /data/backup.rdb /data/dump.rdb && rm -rf /data/appendonlydir'),
  ...dockerPractice.start(),
  ...dockerPractice.count('keys after also removing appendonlydir'),
  '# A clean stop (docker compose stop does the same) now saves that empty dataset over the copied backup',
  ...dockerPractice.stop(),
  'echo "dump.rdb now holds: $(docker run --rm -v "$v":/data {{image}} redis-check-rdb /data/dump.rdb | grep -o \'[0-9]* keys read\')"',
  ...dockerPractice.discard(),
].join('\n');

/** What the copy-dump.rdb recipe does where the AOF is a dir: the AOF wins, and the next save overwrites the copied backup. */
export function assertAofWins(stdout: string): void {
  assert.equal(
    labelledNumber(stdout, 'keys after copying the backup over dump.rdb'),
    100000,
    'the AOF wins: the latest data comes back, not the backup',
  );
  assert.equal(labelledNumber(stdout, 'keys after also removing appendonlydir'), 0, 'without its AOF dir the server starts empty');
  assert.match(stdout, /dump\.rdb now holds: 0 keys read/, 'the copied backup was overwritten');
}

export const naiveRollbackDocker = dockerFlavor({
  command: naiveRecipeDocker,
  server: false,
  values: dockerPracticeValues,
  timeoutMs: 150_000,
  async verify(ctx) {
    const { exitCode, stdout } = await runDockerPractice(ctx);
    assert.equal(exitCode, 0);
    assertAofWins(stdout);
  },
});
