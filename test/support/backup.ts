import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { runCli } from './run-cli.ts';

/**
 * Backs `redis` up with the CLI into `<root>/backups` and then replaces its data with the one key B
 * ("after the backup"), which a restore of that backup must undo. Resolves to the backup's path.
 */
export async function backupThenReplaceWithB(redis: {
  url: string;
  root: string;
  withClient<T>(fn: (client: Redis) => Promise<T>): Promise<T>;
}): Promise<string> {
  const made = await runCli(['backup', '--url', redis.url, '--to', join(redis.root, 'backups'), '--json']);
  assert.equal(made.exitCode, 0, made.stderr);
  await redis.withClient(async (client) => {
    await client.flushall();
    await client.set('B', 'after the backup');
  });
  return (JSON.parse(made.stdout) as { path: string }).path;
}
