import { serverVersion, type Engine } from '../engines/engine.ts';
import { startRedis } from './scratch-server.ts';
import { parseInfo, parseKeyspace, type KeyspaceEntry } from '../redis/info.ts';
import { checkBackup, checkFailure } from './check.ts';
import { PlaybookError } from './errors.ts';

/** A key seen in the scratch server. */
export interface SampleKey {
  db: number;
  key: string;
  type: string;
  /** Milliseconds to live; -1 without a TTL. */
  ttlMs: number;
}

/** Loaded against expected keys of one database. */
export interface DbComparison {
  db: number;
  /** Keys the manifest recorded (undefined for a bare RDB). */
  expected: number | undefined;
  loaded: number;
  /** Equal, or short by no more than the keys with a TTL (those may have expired since). */
  ok: boolean;
}

export interface TestRestoreResult {
  ok: boolean;
  backup: string;
  /** Server version of the scratch server. */
  version: string;
  /** Time from start to the first answer (the load), milliseconds. */
  loadMs: number;
  databases: DbComparison[];
  samples: SampleKey[];
  /** `DEBUG DIGEST` of the loaded dataset: equal datasets have equal digests. */
  digest: string;
}

/**
 * Loads a backup into a scratch server (own temp dir and port, `appendonly no`, never touching the
 * real server), compares key counts per database with the manifest, samples a few keys and takes a
 * dataset digest; the scratch server is removed afterwards, also on failure.
 */
export async function testRestore(backup: string, engine: Engine, options: { samplesPerDb?: number } = {}): Promise<TestRestoreResult> {
  const { samplesPerDb = 5 } = options;
  const check = await checkBackup(backup, engine);
  if (!check.ok) throw new PlaybookError('backup', `Refusing to load ${backup}: ${checkFailure(check)}`);
  // DEBUG is refused by default from Redis 7 (`enable-debug-command`); Redis 6 allows it and
  // refuses the directive (its server would not start with it).
  const version = await serverVersion(engine.server);
  const debug: Record<string, string> =
    version !== undefined && Number(version.split('.')[0]) < 7 ? {} : { 'enable-debug-command': 'local' };
  const started = performance.now();
  let scratch;
  try {
    scratch = await startRedis(
      {
        config: { appendonly: 'no', save: '""', dbfilename: 'dump.rdb', ...debug },
        initialFiles: { 'dump.rdb': check.rdbPath },
        readyTimeoutMs: 3_600_000,
      },
      engine,
    );
  } catch (error) {
    throw new PlaybookError(
      'backup',
      `A scratch ${engine.server} could not load ${backup}: ${(error as Error).message.split('\n').slice(-3).join(' ')}`,
      { cause: error },
    );
  }
  await using server = scratch;
  const loadMs = Math.round(performance.now() - started);
  return await server.withClient(async (client) => {
    const info = parseInfo(await client.info());
    const loaded = parseKeyspace(info.keyspace ?? {});
    const expected: Record<string, KeyspaceEntry> = check.manifest?.keyspace ?? {};
    const dbs = [...new Set([...Object.keys(loaded), ...Object.keys(expected)].map(Number))].sort((a, b) => a - b);
    const databases = dbs.map((db) => {
      const want = expected[String(db)];
      const got = loaded[db]?.keys ?? 0;
      const ok =
        want === undefined ? check.manifest === undefined : got === want.keys || (got < want.keys && want.keys - got <= want.expires);
      return { db, expected: want?.keys, loaded: got, ok };
    });
    const samples: SampleKey[] = [];
    for (const db of dbs) {
      await client.select(db);
      const [, keys] = await client.scan('0', 'COUNT', 100);
      for (const key of keys.slice(0, samplesPerDb)) {
        samples.push({ db, key, type: await client.type(key), ttlMs: await client.pttl(key) });
      }
    }
    await client.select(0);
    const digest = String(await client.call('DEBUG', 'DIGEST'));
    const server_ = info.server ?? {};
    return {
      ok: databases.every((db) => db.ok),
      backup,
      version: server_.valkey_version ?? server_.redis_version ?? 'unknown',
      loadMs,
      databases,
      samples,
      digest,
    };
  });
}
