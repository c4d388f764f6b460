import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Engine } from '../../harness/engine.ts';
import { startRedis, type DisposableRedis } from '../../harness/redis-server.ts';
import { backup } from '../../procedures/backup.ts';
import { listBackups } from '../../procedures/backups.ts';
import { changeMixedDataset, diffDatasets, readDataset, writeMixedDataset } from '../../redis/dataset.ts';
import type { ValuesFn } from '../schema.ts';

/*
 * The shell steps of a rollback by hand, shared by the host flavors (in {{dataDir}}) and the Docker
 * ones (a throwaway container in /data): run in the data dir, with `$db`, `$aofdir` and `$aof` set to
 * the server's dbfilename, appenddirname and appendfilename.
 */

/** A dated folder `$aside` for the files the restore replaces: the undo. */
const asideFolder = ['aside="pre-restore-$(date -u +%Y-%m-%dT%H-%M-%SZ)"', 'mkdir "$aside"'];

/** The snapshot and the AOF dir go into `$aside`. */
export const moveAsideSteps = [...asideFolder, 'for f in "$db" "$aofdir"; do if [ -e "$f" ]; then mv "$f" "$aside/"; fi; done'];

/** The snapshot alone goes into `$aside` (`appendonly no`). */
export const moveSnapshotAsideSteps = [...asideFolder, 'if [ -e "$db" ]; then mv "$db" "$aside/"; fi'];

/** Step 2 for `appendonly yes`: the backup in `backupDir` becomes the snapshot and the base of a new, one-file AOF. */
export const installAofSteps = (backupDir: string) => [
  '# 2. The backup becomes the snapshot and the base of a new, one-file AOF',
  `cp ${backupDir}/dump.rdb "$db"`,
  'mkdir "$aofdir"',
  'cp "$db" "$aofdir/$aof.1.base.rdb"',
  'echo "file $aof.1.base.rdb seq 1 type b" > "$aofdir/$aof.manifest"',
];

/** The undo: the restored files go aside too, the newest pre-restore files come back; the last line says where each went. */
export const undoSteps = [
  'aside=$(ls -d pre-restore-* | tail -n 1)',
  'undone="undone-restore-$(date -u +%Y-%m-%dT%H-%M-%SZ)"',
  'mkdir "$undone"',
  'for f in "$db" "$aofdir"; do if [ -e "$f" ]; then mv "$f" "$undone/"; fi; done',
  'mv "$aside"/* .',
  'rmdir "$aside"',
  'echo "back to the files of $aside; the restored ones are in $undone"',
];

/** The backup dir inside a verification's scratch dir. */
export const scratchBackups = (scratch: string) => join(scratch, 'backups');

/**
 * The rollback scenario: dataset A, a backup of it (the CLI's procedure, into scratch/backups), then
 * changes to dataset B (updates, deletes, additions of every type, TTLs); writes after the last AOF
 * rewrite land in the incr file. With `stop`, the server is stopped cleanly afterwards, as a restore needs.
 */
export function backedUpThenChanged({ stop }: { stop: boolean }) {
  return async (server: DisposableRedis, scratch: string): Promise<void> => {
    await server.withClient(async (client) => {
      await writeMixedDataset(client, 'A', 30);
      await backup({ client, source: { host: server.host, port: server.port }, engine: server.engine, to: scratchBackups(scratch) });
      await changeMixedDataset(client, 'A', 'B');
    });
    if (stop) await server.stop();
  };
}

/** `backup` is the one backup in scratch/backups; `backupDir` is scratch/backups. */
export const backupValues: ValuesFn<unknown, { backup: string; backupDir: string }> = async ({ scratch }) => {
  const [entry] = (await listBackups(scratchBackups(scratch))).filter((item) => item.manifest);
  assert.ok(entry, 'the scenario made a backup');
  return { backup: entry.path, backupDir: scratchBackups(scratch) };
};

/** The dataset a backup folder holds, read from a scratch server of `engine` (the one under test: no default) that loaded its RDB. */
export async function datasetOfBackup(backupPath: string, engine: Engine) {
  await using scratch = await startRedis(
    { config: { appendonly: 'no', save: '""' }, initialFiles: { 'dump.rdb': join(backupPath, 'dump.rdb') } },
    engine,
  );
  return await scratch.withClient(readDataset);
}

/** Starts the server normally (its usual config) and asserts that it holds exactly the backup, key by key. */
export async function assertStartsWithBackup(server: DisposableRedis, backupPath: string): Promise<void> {
  if (!server.running) await server.start();
  const expected = await datasetOfBackup(backupPath, server.engine);
  const actual = await server.withClient(readDataset);
  assert.ok(expected.size > 0);
  assert.deepEqual(diffDatasets(expected, actual), [], 'the server holds exactly the backup');
}
