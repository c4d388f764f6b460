import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rdbWriters } from '../engines/catalog.ts';
import { FORMAT_REFUSED, rdbHeader, VALKEY_RDB_MIN } from './rdb.ts';
import { serverVersion, type Engine } from '../engines/engine.ts';
import { TEMP_PREFIX } from '../core/temp.ts';
import { runProgram } from '../core/run.ts';

/** The highest RDB format version probed: far above any engine of today (Redis 8.6 writes 13, Valkey 9.1 80). */
const PROBE_CEILING = 99;

/**
 * The smallest RDB of a given format version: the header, the EOF opcode and a zero checksum (zero
 * means "saved without a checksum": every engine skips the check).
 */
function emptyRdb(version: number): Buffer {
  return Buffer.concat([Buffer.from(rdbHeader(version), 'latin1'), Buffer.from([0xff]), Buffer.alloc(8)]);
}

/**
 * Whether the engine loads RDB format `version`, measured: its own RDB checker reads an empty RDB of
 * that version. The checker runs the server's loader code, which refuses a newer format with `Can't
 * handle RDB format version N` (the same line a refusing server logs before it exits).
 */
export async function loadsRdbVersion(engine: Engine, version: number): Promise<boolean> {
  const dir = await mkdtemp(join(tmpdir(), TEMP_PREFIX));
  try {
    const file = join(dir, `probe-${version}.rdb`);
    await writeFile(file, emptyRdb(version));
    const result = await runProgram(engine.checkRdb, [file], { all: true, timeoutMs: 30_000 });
    const output = result.all ?? '';
    if (FORMAT_REFUSED.test(output)) return false;
    if (result.exitCode === 0 && output.includes('RDB looks OK')) return true;
    const why = result.notFound ? 'not installed' : result.timedOut ? 'killed after 30 s' : output.trim().split('\n').at(-1);
    throw new Error(`${engine.checkRdb} gave no verdict on an RDB ${version} probe: ${why ?? `exit ${result.exitCode}`}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The highest RDB format version the engine loads, measured with {@link loadsRdbVersion}: probes
 * from `hint` (a version it is expected to load) upward until the first refusal, or downward when it
 * refuses `hint`; Valkey's own formats (from 80, after the Redis ones it refuses) are probed past
 * that refusal. Throws when it loads none.
 */
export async function maxRdbVersion(engine: Engine, hint = 10): Promise<number> {
  const upFrom = async (start: number) => {
    let version = start;
    while (version < PROBE_CEILING && (await loadsRdbVersion(engine, version + 1))) version++;
    return version;
  };
  if (await loadsRdbVersion(engine, hint)) {
    const redisMax = await upFrom(hint);
    return redisMax < VALKEY_RDB_MIN && (await loadsRdbVersion(engine, VALKEY_RDB_MIN)) ? upFrom(VALKEY_RDB_MIN) : redisMax;
  }
  for (let version = hint - 1; version >= 1; version--) {
    if (await loadsRdbVersion(engine, version)) return version;
  }
  throw new Error(`${engine.checkRdb} loads no RDB format version from 1 to ${hint}`);
}

/** `RDB format 12 (Redis 8.0)`: the engines of the catalog that write it, when known. */
export function rdbFormatLabel(version: number): string {
  const writers = rdbWriters(version);
  return `RDB format ${version}${writers ? ` (${writers})` : ''}`;
}

/** `redis-server 7.0.15`: the server program's name and the version its `--version` prints. */
export async function serverDescription(engine: Engine): Promise<string> {
  const name = engine.server.split('/').at(-1) ?? engine.server;
  const version = await serverVersion(engine.server);
  return version ? `${name} ${version}` : name;
}

/**
 * Why the engine cannot load an RDB of format `version` ("backup has RDB format 12 (Redis 8.0),
 * redis-server 7.0.15 loads up to 10"), or undefined when it can. Both numbers are measured: the
 * file's header, and the engine's own checker on probe files.
 */
export async function rdbVersionRefusal(engine: Engine, version: number, what = 'backup'): Promise<string | undefined> {
  if (await loadsRdbVersion(engine, version)) return undefined;
  const [max, server] = await Promise.all([
    maxRdbVersion(engine, Math.max(1, version - 1)).catch(() => undefined),
    serverDescription(engine),
  ]);
  return `${what} has ${rdbFormatLabel(version)}, ${server} loads ${max === undefined ? 'no RDB format it was probed with' : `up to ${max}`}`;
}
