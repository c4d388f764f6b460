import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { prepareContainer, RedisContainer } from '../../harness/docker/container.ts';
import { docker, dockerTry, type DockerOutput } from '../../harness/docker/exec.ts';
import { changeMixedDataset, diffDatasets, readDataset, writeMixedDataset, type Dataset } from '../../redis/dataset.ts';
import type { ValuesFn } from '../schema.ts';
import { scratchBackups } from './rollback.ts';

/**
 * Scenarios for Docker flavors: the server is a {@link RedisContainer} (its data in a volume at /data),
 * backups are folders on the host as the manual Docker backup writes them (`<UTC time>/dump.rdb` and
 * `SHA256SUMS`), and "does the server hold the backup" is answered by loading the backup's RDB into a
 * scratch container of the same image and comparing key by key.
 */

/** A disposable server of either kind (host process or container), as far as a setup writing keys needs it. */
export interface WithClient {
  withClient<T>(fn: (client: Redis) => Promise<T>): Promise<T>;
}

/** Writes a few keys and takes a synchronous snapshot, so that dump.rdb exists beside the AOF files. */
export async function someDataSaved(server: WithClient): Promise<void> {
  await server.withClient(async (client) => {
    await client.mset('user:1', 'ada', 'user:2', 'grace');
    await client.save();
    await client.set('user:3', 'edsger');
  });
}

/** Copies the container's current dump.rdb into a new backup folder under `backupDir` (as the manual backup lays it out). */
export async function copyDumpOut(server: RedisContainer, backupDir: string, name = '2026-11-25T03-00-00Z'): Promise<string> {
  const folder = join(backupDir, name);
  await mkdir(folder, { recursive: true });
  await docker(['cp', `${server.name}:${server.dir}/dump.rdb`, join(folder, 'dump.rdb')]);
  const sum = createHash('sha256')
    .update(await readFile(join(folder, 'dump.rdb')))
    .digest('hex');
  await writeFile(join(folder, 'SHA256SUMS'), `${sum}  dump.rdb\n`);
  return folder;
}

/**
 * The rollback scenario in a container: dataset A, a snapshot of it copied out as a backup into
 * scratch/backups, then changes to dataset B. The server keeps running, as it does when the reader
 * decides to roll back.
 */
export async function dockerBackedUpThenChanged(server: RedisContainer, scratch: string): Promise<void> {
  await server.withClient(async (client) => {
    await writeMixedDataset(client, 'A', 30);
    await client.save();
  });
  await copyDumpOut(server, scratchBackups(scratch));
  await server.withClient((client) => changeMixedDataset(client, 'A', 'B'));
}

/** `backup` is the one backup folder in scratch/backups; `backupDir` is scratch/backups. */
export const dockerBackupValues: ValuesFn<unknown, { backup: string; backupDir: string }> = async ({ scratch }) => {
  const folders = (await readdir(scratchBackups(scratch))).filter((name) => !name.startsWith('.'));
  assert.equal(folders.length, 1, 'the scenario made one backup');
  return { backup: join(scratchBackups(scratch), folders[0] as string), backupDir: scratchBackups(scratch) };
};

/**
 * A scratch container of `image` that starts from the given RDB (no AOF, no saves): created, the file
 * copied into its volume, then started. Dispose it (`await using`).
 */
export async function startContainerWithRdb(rdb: string, image: string): Promise<RedisContainer> {
  const container = await prepareContainer({ config: { appendonly: 'no', save: '""' } }, { image }, (init) => new RedisContainer(init));
  try {
    await container.create();
    await docker(['cp', rdb, `${container.name}:${container.dir}/dump.rdb`]);
    await container.start();
    return container;
  } catch (error) {
    await container.dispose().catch(() => undefined);
    throw error;
  }
}

/** The dataset a backup folder holds, read from a scratch container of `image` that loaded its dump.rdb. */
export async function datasetOfBackupInImage(backupPath: string, image: string): Promise<Dataset> {
  await using scratch = await startContainerWithRdb(join(backupPath, 'dump.rdb'), image);
  return await scratch.withClient(readDataset);
}

/** Asserts that the running container holds exactly `expected`, key by key (values, types, expiry times). */
export async function assertContainerHolds(server: RedisContainer, expected: Dataset, what: string): Promise<void> {
  assert.ok(expected.size > 0, 'the expected dataset has keys');
  assert.deepEqual(diffDatasets(expected, await server.withClient(readDataset)), [], what);
}

/** Asserts that the running container holds exactly the backup, key by key. */
export async function assertContainerHoldsBackup(server: RedisContainer, backupPath: string): Promise<void> {
  await assertContainerHolds(server, await datasetOfBackupInImage(backupPath, server.image), 'the server holds exactly the backup');
}

/** The files of a dir inside the container's volume (`docker exec NAME ls -A`). */
export async function filesInContainer(server: RedisContainer, dir: string): Promise<string[]> {
  const result = await server.exec(['ls', '-A', dir]);
  if (result.exitCode !== 0) throw new Error(`ls ${dir} in ${server.name} failed: ${result.stderr || result.stdout}`);
  return result.stdout
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .sort();
}

/**
 * Runs `sh -ec SCRIPT` in a throwaway container of the server's image with its volume at /data (no
 * network), whether the server runs or not: how a verification reads or damages a container's files.
 */
export function shOnVolume(server: RedisContainer, script: string): Promise<DockerOutput> {
  return dockerTry(['run', '--rm', '--network', 'none', '-v', `${server.volume}:/data`, server.image, 'sh', '-ec', script]);
}

/** Like {@link shOnVolume}, but its stdout, and throws unless it exits 0. */
export async function shOnVolumeOk(server: RedisContainer, script: string): Promise<string> {
  const result = await shOnVolume(server, script);
  if (result.exitCode !== 0)
    throw new Error(
      `sh -ec ${JSON.stringify(script)} on volume ${server.volume} exited ${result.exitCode}: ${result.stderr || result.stdout}`,
    );
  return result.stdout;
}
