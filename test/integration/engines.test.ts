import assert from 'node:assert/strict';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { engineSpecs } from '../../scripts/engines/catalog.ts';
import { engineById, engineUnavailableReason, selectedEngineIds, type Engine } from '../../scripts/harness/engine.ts';
import { TEMP_PREFIX } from '../../scripts/harness/leftovers.ts';
import { startRedis } from '../../scripts/harness/redis-server.ts';
import { freshSnapshot } from '../../scripts/procedures/bgsave.ts';
import { checkRdb, readRdbVersion } from '../../scripts/redis/rdb.ts';
import { maxRdbVersion } from '../../scripts/redis/rdb-support.ts';
import { requireAll } from '../../scripts/harness/require-all.ts';

/** RDB format each engine writes, as the catalog says (measured: 9, 10, 12, 13, 11, 80). */
const WRITES: Record<string, number> = Object.fromEntries(engineSpecs.map((spec) => [spec.id, spec.rdbVersion]));
/**
 * Which RDB each engine loads, by writer (row loads column; measured 2026-12-05 on the six engines:
 * no Redis loads Valkey 9's `VALKEY080`, Valkey 9.1 refuses Redis 8's RDB 12 and 13 by default).
 */
const LOADS: Record<string, string[]> = {
  'redis-6.0': ['redis-6.0'],
  'redis-7.0': ['redis-6.0', 'redis-7.0'],
  'redis-8.0': ['redis-6.0', 'redis-7.0', 'redis-8.0', 'valkey-8.1'],
  'redis-8.6': ['redis-6.0', 'redis-7.0', 'redis-8.0', 'redis-8.6', 'valkey-8.1'],
  'valkey-8.1': ['redis-6.0', 'redis-7.0', 'valkey-8.1'],
  'valkey-9.1': ['redis-6.0', 'redis-7.0', 'valkey-8.1', 'valkey-9.1'],
};
/** INFO fields that name the engine and its version (Valkey also reports redis_version 7.2.4). */
const PRODUCT_VERSION: Record<string, [string, string]> = Object.fromEntries(
  engineSpecs.map((spec) => [spec.id, [spec.product === 'valkey' ? 'valkey_version' : 'redis_version', spec.version]]),
);
const KEYS = 50;

const ci = requireAll();
const ids = selectedEngineIds();
/** Engines that run here; a missing one is skipped with its reason, or fails the run under PLAYBOOK_REQUIRE_ALL=1. */
const engines = new Map<string, Engine>();
const missing = new Map<string, string>();
for (const id of ids) {
  const reason = engineUnavailableReason(id);
  if (reason) missing.set(id, reason);
  else engines.set(id, engineById(id));
}

const workDir = await mkdtemp(join(tmpdir(), TEMP_PREFIX));
after(() => rm(workDir, { recursive: true, force: true }));
/** The RDB each engine wrote, by engine id. */
const rdbs = new Map<string, string>();

for (const id of ids) {
  const reason = missing.get(id);
  const skip = reason && !ci ? reason : false;
  test(`${id} starts, writes an RDB ${WRITES[id]} that its own check-rdb accepts, and says which RDB it loads`, { skip }, async (t) => {
    assert.ok(!reason, `${id} is required under PLAYBOOK_REQUIRE_ALL=1: ${reason}`);
    const engine = engines.get(id) as Engine;
    const began = performance.now();
    await using redis = await startRedis({ config: { appendonly: 'no', save: '""' } }, engine);
    t.diagnostic(`${id}: start to PONG ${(performance.now() - began).toFixed(0)} ms`);
    const server = (await redis.info('server')).server ?? {};
    const [field, version] = PRODUCT_VERSION[id] ?? ['', ''];
    assert.equal(server[field], version, `INFO ${field}`);
    if (engine.product === 'valkey') assert.equal(server.server_name, 'valkey');

    await redis.withClient(async (client) => {
      const pipeline = client.pipeline();
      for (let i = 0; i < KEYS - 2; i++) pipeline.set(`key:${i}`, `value-${i}`);
      pipeline.hset('hash', { a: '1', b: '2' });
      pipeline.rpush('list', 'x', 'y', 'z');
      await pipeline.exec();
      await freshSnapshot(client, { timeoutMs: 30_000 });
    });
    const dump = join(redis.dir, 'dump.rdb');
    assert.equal(await readRdbVersion(dump), WRITES[id], 'RDB header');
    const checked = await checkRdb(engine, dump);
    assert.ok(checked.ok, `${engine.checkRdb}: ${checked.message}`);
    assert.equal(checked.keys, KEYS);
    const kept = join(workDir, `${id}.rdb`);
    await copyFile(dump, kept);
    rdbs.set(id, kept);

    assert.equal(
      await maxRdbVersion(engine),
      Math.max(
        ...Object.entries(WRITES)
          .filter(([writer]) => LOADS[id]?.includes(writer))
          .map(([, v]) => v),
      ),
    );
  });
}

test('cross-load matrix: each engine loads the RDB of each other engine as redis-facts says, a refused load logs the format version', async (t) => {
  const loaders = [...engines.keys()].filter((id) => rdbs.has(id));
  if (loaders.length < 2) {
    t.skip(`needs two engines that wrote an RDB (have: ${loaders.join(', ') || 'none'})`);
    return;
  }
  const seen: string[] = [];
  for (const loader of loaders) {
    const engine = engines.get(loader) as Engine;
    for (const writer of loaders) {
      const rdb = rdbs.get(writer) as string;
      const expected = LOADS[loader]?.includes(writer) ?? false;
      let loaded: boolean;
      try {
        await using redis = await startRedis(
          { config: { appendonly: 'no', save: '""' }, initialFiles: { 'dump.rdb': rdb }, readyTimeoutMs: 30_000 },
          engine,
        );
        assert.equal(await redis.withClient((client) => client.dbsize()), KEYS, `${loader} loaded all keys of ${writer}'s RDB`);
        assert.equal(await redis.withClient((client) => client.get('key:7')), 'value-7');
        loaded = true;
      } catch (error) {
        const message = (error as Error).message;
        if (!message.includes('exited during start')) throw error;
        // Redis's loader meets Valkey 9's VALKEY magic before any version: "Wrong signature".
        const refusal =
          (WRITES[writer] as number) >= 80 && engines.get(loader)?.product === 'redis'
            ? 'Wrong signature trying to load DB from file'
            : `Can't handle RDB format version ${WRITES[writer]}`;
        assert.match(message, new RegExp(refusal), `${loader} refusing ${writer}'s RDB`);
        loaded = false;
      }
      seen.push(`${loader} ${loaded ? 'loads' : 'refuses'} ${writer} (RDB ${WRITES[writer]})`);
      assert.equal(loaded, expected, `${loader} ${expected ? 'should load' : 'should refuse'} the RDB ${WRITES[writer]} of ${writer}`);
    }
  }
  t.diagnostic(seen.join('; '));
});
