import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startRedis } from '../../scripts/harness/redis-server.ts';
import { waitFor } from '../../scripts/harness/wait.ts';

/**
 * Sends INCRs one after the other and kills the server with SIGKILL once `killAfter` was
 * acknowledged. Returns the last value acknowledged, when each value was acknowledged
 * (performance.now()) and when the kill was sent.
 */
async function incrUntilKilled(
  redis: Awaited<ReturnType<typeof startRedis>>,
  killAfter: number,
): Promise<{ acknowledged: number; ackedAt: number[]; killedAt: number }> {
  const client = await redis.client();
  client.on('error', () => undefined);
  let acknowledged = 0;
  const ackedAt: number[] = [];
  let killedAt = 0;
  let killed: Promise<void> | undefined;
  const writer = (async () => {
    for (;;) {
      try {
        acknowledged = await client.incr('counter');
      } catch {
        return;
      }
      ackedAt[acknowledged] = performance.now();
      if (acknowledged === killAfter) {
        killedAt = performance.now();
        killed = redis.kill('SIGKILL');
      }
    }
  })();
  await writer;
  await killed;
  client.disconnect();
  return { acknowledged, ackedAt, killedAt };
}

// Redis holds AOF writes back while a background fsync still runs, for up to 2 s of its second-granular
// clock (so up to 3 s of real time), and still replies: only those can be lost to a process crash.
const HELD_BACK_AT_MOST_MS = 3000;

test('AOF with appendfsync everysec: a process crash loses at most the writes acknowledged in the last 2 seconds', async (t) => {
  await using redis = await startRedis({ config: { appendonly: 'yes', appendfsync: 'everysec', save: '""' } });
  const { acknowledged, ackedAt, killedAt } = await incrUntilKilled(redis, 20_000);
  assert.ok(acknowledged >= 20_000);
  await redis.start();
  const recovered = Number((await redis.cli(['GET', 'counter'])).stdout.trim());
  const lost = Math.max(0, acknowledged - recovered);
  t.diagnostic(`${lost} of ${acknowledged} acknowledged writes lost`);
  if (lost > 0) {
    const firstLostAt = ackedAt[recovered + 1] ?? killedAt;
    assert.ok(
      killedAt - firstLostAt <= HELD_BACK_AT_MOST_MS,
      `lost writes acknowledged ${Math.round(killedAt - firstLostAt)} ms before the kill`,
    );
  }
});

test('RDB-only loses exactly the writes made since the last completed snapshot', async () => {
  await using redis = await startRedis({ config: { appendonly: 'no', save: '900 1 300 10 60 10000' } });
  await redis.withClient(async (client) => {
    for (let i = 0; i < 1000; i++) await client.set(`before:${i}`, String(i));
    const lastSave = await client.lastsave();
    await waitFor(() => Math.floor(Date.now() / 1000) > lastSave, { what: 'the clock to pass LASTSAVE' });
    await client.bgsave();
    await waitFor(
      async () => (await client.lastsave()) > lastSave && (await client.info('persistence')).includes('rdb_bgsave_in_progress:0'),
      {
        what: 'the BGSAVE to complete',
      },
    );
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
