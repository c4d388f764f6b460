import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { DisposableRedis } from '../../scripts/harness/redis-server.ts';
import { waitFor } from '../../scripts/harness/wait.ts';
import { flattenInfo } from '../../scripts/redis/info.ts';

/** INFO persistence of `redis`, flat. */
export async function persistenceInfo(redis: DisposableRedis): Promise<Record<string, string>> {
  return flattenInfo(await redis.info('persistence'));
}

/**
 * Starts a BGSAVE and waits until it completed: nothing in progress, status ok, no change left
 * unsaved and the snapshot file on disk. Call it when no other client writes.
 */
export async function bgsaveAndWait(redis: DisposableRedis, dbfilename = 'dump.rdb'): Promise<void> {
  const reply = await redis.cli(['BGSAVE']);
  if (!reply.stdout.includes('Background saving started')) throw new Error(`BGSAVE refused: ${reply.stdout}${reply.stderr}`);
  await waitFor(
    async () => {
      const info = await persistenceInfo(redis);
      if (info.rdb_bgsave_in_progress !== '0') return false;
      if (info.rdb_last_bgsave_status !== 'ok') throw new Error('the BGSAVE failed (rdb_last_bgsave_status:err)');
      return info.rdb_changes_since_last_save === '0' && existsSync(join(redis.dir, dbfilename));
    },
    { what: 'the BGSAVE to complete' },
  );
}
