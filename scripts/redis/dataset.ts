import type { Redis } from 'ioredis';

/** A key's content, read by type so that equal data compares equal whatever its encoding. */
export interface KeyValue {
  type: string;
  /** Strings as is; lists in order; sets sorted; hashes as sorted [field, value] pairs; sorted sets as [member, score] in order. */
  value: unknown;
  /**
   * When the key expires, as a Unix time in milliseconds (PEXPIRETIME, Redis 7.0+; on Redis 6 this
   * machine's clock plus PTTL, a few milliseconds off); -1 without a TTL. Absolute, so two reads
   * seconds apart, or a backup and its restore, compare equal.
   */
  expiresAtMs: number;
}

/** Every key of every database: `db:key` → content. */
export type Dataset = Map<string, KeyValue>;

async function readValue(client: Redis, key: string, type: string): Promise<unknown> {
  switch (type) {
    case 'string':
      return client.get(key);
    case 'list':
      return client.lrange(key, 0, -1);
    case 'set':
      return (await client.smembers(key)).sort();
    case 'hash':
      return Object.entries(await client.hgetall(key)).sort(([a], [b]) => a.localeCompare(b));
    case 'zset':
      return client.zrange(key, '0', '-1', 'WITHSCORES');
    case 'stream':
      return client.xrange(key, '-', '+');
    default:
      // Module types and others: their serialized form.
      return ((await client.dumpBuffer(key)) as Buffer | null)?.toString('base64');
  }
}

/** PEXPIRETIME of a key; on a server without it (Redis 6), the clock plus PTTL. -1 without a TTL. */
async function expiresAt(client: Redis, key: string): Promise<number> {
  try {
    return Number(await client.call('PEXPIRETIME', key));
  } catch (error) {
    if (!/unknown command/i.test((error as Error).message)) throw error;
    const ttl = await client.pttl(key);
    return ttl < 0 ? ttl : Date.now() + ttl;
  }
}

/** Reads the whole dataset (SCAN over every non-empty database). For test-sized data. */
export async function readDataset(client: Redis): Promise<Dataset> {
  const dataset: Dataset = new Map();
  const keyspace = await client.info('keyspace');
  const dbs = [...keyspace.matchAll(/^db(\d+):/gm)].map((match) => Number(match[1]));
  for (const db of dbs) {
    await client.select(db);
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        const type = await client.type(key);
        dataset.set(`${db}:${key}`, { type, value: await readValue(client, key, type), expiresAtMs: await expiresAt(client, key) });
      }
    } while (cursor !== '0');
  }
  await client.select(0);
  return dataset;
}

/**
 * Differences between two datasets, one line each (empty when equal): missing and extra keys, other
 * types or values, and expiry times that differ by more than `toleranceMs` (a TTL set again, e.g.
 * by a restore with RESTORE … ABSTTL, may land a few milliseconds off; snapshots keep them exactly).
 */
export function diffDatasets(expected: Dataset, actual: Dataset, toleranceMs = 1_000): string[] {
  const diffs: string[] = [];
  for (const [key, want] of expected) {
    const got = actual.get(key);
    if (!got) diffs.push(`missing ${key}`);
    else if (got.type !== want.type) diffs.push(`${key}: type ${got.type}, expected ${want.type}`);
    else if (JSON.stringify(got.value) !== JSON.stringify(want.value)) diffs.push(`${key}: value differs`);
    else if ((want.expiresAtMs === -1) !== (got.expiresAtMs === -1) || Math.abs(got.expiresAtMs - want.expiresAtMs) > toleranceMs) {
      diffs.push(`${key}: expires at ${got.expiresAtMs}, expected ${want.expiresAtMs} (Unix ms)`);
    }
  }
  for (const key of actual.keys()) if (!expected.has(key)) diffs.push(`extra ${key}`);
  return diffs;
}

/** Writes a mixed dataset: strings, hashes, lists, sets, sorted sets, keys with TTL, two databases. */
export async function writeMixedDataset(client: Redis, tag: string, size = 50): Promise<void> {
  const pipeline = client.pipeline();
  for (let i = 0; i < size; i++) {
    pipeline.set(`str:${i}`, `${tag}-${i}`);
    pipeline.hset(`hash:${i}`, { name: `${tag}-${i}`, n: String(i) });
    pipeline.rpush(`list:${i}`, `${tag}-a`, `${tag}-b`, `${tag}-${i}`);
    pipeline.sadd(`set:${i}`, `${tag}-x`, `${tag}-y`, String(i));
    pipeline.zadd(`zset:${i}`, i, `${tag}-m`, i + 0.5, `${tag}-n`);
  }
  pipeline.set(`ttl:${tag}`, tag, 'EX', 3600);
  pipeline.select(1);
  pipeline.set(`db1:${tag}`, tag);
  pipeline.select(0);
  await pipeline.exec();
}

/** Changes a mixed dataset written with tag `original` into another: updates, deletes and additions of every type. */
export async function changeMixedDataset(client: Redis, original: string, tag: string): Promise<void> {
  const pipeline = client.pipeline();
  pipeline.set('str:0', `${tag}-changed`);
  pipeline.del('str:1', 'hash:1', 'list:1', 'set:1', 'zset:1');
  pipeline.hset('hash:0', 'name', `${tag}-changed`);
  pipeline.rpush('list:0', `${tag}-appended`);
  pipeline.srem('set:0', '0');
  pipeline.zincrby('zset:0', 10, `${tag}-m`);
  pipeline.set(`added:${tag}`, tag, 'PX', 7_200_000);
  pipeline.persist(`ttl:${original}`);
  pipeline.expire('str:2', 600);
  await pipeline.exec();
}

/**
 * `count` keys `prefix:0`… holding `size` bytes each, as DEBUG POPULATE writes them, but through MSET:
 * DEBUG needs `enable-debug-command` on Redis 7+, an option Redis 6.0 refuses to start with.
 */
export async function populate(client: Redis, count: number, prefix: string, size: number): Promise<void> {
  const batch = 1_000;
  for (let start = 0; start < count; start += batch * 50) {
    const pipeline = client.pipeline();
    for (let first = start; first < Math.min(count, start + batch * 50); first += batch) {
      const pairs: string[] = [];
      for (let i = first; i < Math.min(count, first + batch); i++) pairs.push(`${prefix}:${i}`, `value:${i}`.padEnd(size, '0'));
      pipeline.mset(...pairs);
    }
    await pipeline.exec();
  }
}
