import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import type { Redis } from 'ioredis';
import type { DisposableRedis } from '../harness/redis-server.ts';
import { fatal, waitFor } from '../harness/wait.ts';
import { aofManifestName, baseOnlyManifest } from '../redis/aof.ts';
import { flattenInfo, parseInfo } from '../redis/info.ts';

/** How often the raw side polls INFO: the same 50 ms as the playbook's BGSAVE wait. */
const POLL_MS = 50;

async function persistence(client: Redis): Promise<Record<string, string>> {
  return flattenInfo(parseInfo(await client.info('persistence')));
}

/**
 * The raw backup an operator would script: note LASTSAVE, `BGSAVE`, poll until LASTSAVE changed and
 * `rdb_bgsave_in_progress:0`, then `cp` the snapshot (and, on an AOF server, `cp -r` the AOF dir).
 * It lets the clock pass LASTSAVE first, as it must (1-second resolution): without that, a save
 * finishing in the same second as the previous one never looks done. With rounds seconds apart this
 * costs nothing.
 */
export async function rawBackup(client: Redis, files: { rdb: string; aofDir?: string }, dest: string): Promise<void> {
  const before = await client.lastsave();
  await waitFor(() => Math.floor(Date.now() / 1000) > before, { what: 'the clock to pass LASTSAVE', intervalMs: POLL_MS });
  await client.bgsave();
  await waitFor(
    async () => {
      const info = await persistence(client);
      if (info.rdb_bgsave_in_progress !== '0') return false;
      if (info.rdb_last_bgsave_status !== 'ok') throw fatal('the raw BGSAVE failed (rdb_last_bgsave_status:err)');
      return Number(info.rdb_last_save_time) > before;
    },
    { what: 'the raw BGSAVE to complete', timeoutMs: 3_600_000, intervalMs: POLL_MS },
  );
  await mkdir(dest, { recursive: true });
  await execa('cp', [files.rdb, join(dest, 'dump.rdb')]);
  if (files.aofDir) await execa('cp', ['-r', files.aofDir, join(dest, 'appendonlydir')]);
}

/** Starts a stopped server on its data dir and waits until it answers PING and INFO says `loading:0`. */
export async function startLoaded(server: DisposableRedis): Promise<void> {
  await server.start();
  await waitFor(async () => (await server.info('persistence')).persistence?.loading === '0', {
    what: `redis-server on port ${server.port} to finish loading`,
    timeoutMs: 3_600_000,
  });
}

/**
 * The raw restore-then-start: `cp` the backup's RDB into the server's (fresh) data dir and start it.
 * For an AOF server, the offline procedure of redis-facts: the same bytes also as the base of a new
 * AOF dir with a one-line manifest (hard linked, as the playbook does), so that the start loads them.
 */
export async function rawRestoreStart(server: DisposableRedis, backupRdb: string, appendonly: boolean): Promise<void> {
  const rdb = join(server.dir, 'dump.rdb');
  await execa('cp', [backupRdb, rdb]);
  if (appendonly) {
    const aofDir = join(server.dir, 'appendonlydir');
    const { baseFile, text } = baseOnlyManifest('appendonly.aof');
    await mkdir(aofDir);
    await execa('ln', [rdb, join(aofDir, baseFile)]);
    await writeFile(join(aofDir, aofManifestName('appendonly.aof')), text);
  }
  await startLoaded(server);
}
