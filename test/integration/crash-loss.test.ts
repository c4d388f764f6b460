import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startRedis } from '../../scripts/harness/redis-server.ts';
import { waitFor } from '../../scripts/harness/wait.ts';

/**
 * Sends INCRs one after the other and kills the server with SIGKILL while they are in flight.
 * Returns the last value the server acknowledged before it died.
 */
async function incrUntilKilled(redis: Awaited<ReturnType<typeof startRedis>>, killAfter: number): Promise<number> {
  const client = await redis.client();
  client.on('error', () => undefined);
  let acknowledged = 0;
  let killed: Promise<void> | undefined;
  const writer = (async () => {
    for (;;) {
      try {
        acknowledged = await client.incr('counter');
      } catch {
        return;
      }
      if (acknowledged === killAfter) killed = redis.kill('SIGKILL');
    }
  })();
  await writer;
  await killed;
  client.disconnect();
  return acknowledged;
}

test('AOF with appendfsync everysec loses no acknowledged write when the process is killed mid-write', async () => {
  await using redis = await startRedis({ config: { appendonly: 'yes', appendfsync: 'everysec', save: '""' } });
  const acknowledged = await incrUntilKilled(redis, 20_000);
  assert.ok(acknowledged >= 20_000);
  await redis.start();
  const recovered = Number((await redis.cli(['GET', 'counter'])).stdout.trim());
  assert.ok(recovered >= acknowledged, `recovered ${recovered} < acknowledged ${acknowledged}`);
});

test('RDB-only loses exactly the writes made since the last completed snapshot', async () => {
  await using redis = await startRedis({ config: { appendonly: 'no', save: '900 1 300 10 60 10000' } });
  await redis.withClient(async (client) => {
    for (let i = 0; i < 1000; i++) await client.set(`before:${i}`, String(i));
    const lastSave = await client.lastsave();
    await waitFor(() => Math.floor(Date.now() / 1000) > lastSave, { what: 'the clock to pass LASTSAVE' });
    await client.bgsave();
    await waitFor(async () => (await client.lastsave()) > lastSave && (await client.info('persistence')).includes('rdb_bgsave_in_progress:0'), {
      what: 'the BGSAVE to complete',
    });
    for (let i = 0; i < 500; i++) await client.set(`after:${i}`, String(i));
  });
  await redis.kill('SIGKILL');
  await redis.start();
  const keys = Number((await redis.cli(['DBSIZE'])).stdout.trim());
  assert.equal(keys, 1000);
});

test('a server without persistence comes back empty after a kill', async () => {
  await using redis = await startRedis({ config: { appendonly: 'no', save: '""' } });
  await redis.withClient((client) => client.set('k', 'v'));
  await redis.kill('SIGKILL');
  await redis.start();
  assert.equal((await redis.cli(['DBSIZE'])).stdout.trim(), '0');
});
