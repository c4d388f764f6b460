import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { runProgram } from '../core/run.ts';
import { versionFromCheckerLine } from '../engines/catalog.ts';
import { readRdbAux } from '../redis/rdb.ts';
import { engineForServer, hostFallbackEngine, serverVersion, type Engine } from '../engines/engine.ts';
import { containerCheckers, NoImageCheckersError } from '../procedures/container-checkers.ts';
import type { ContainerRef } from '../procedures/container.ts';
import { PlaybookError } from '../procedures/errors.ts';

/**
 * `--server PROGRAM`: the server program of the target (`redis-server`, `/usr/bin/valkey-server`).
 * Its own `-check-rdb` and `-check-aof` check the backup, and its RDB checker tells which RDB
 * formats it loads.
 */
export const ServerOptionShape = {
  server: z
    .string()
    .min(1)
    .regex(/-server$/, { error: 'expected a server program named like redis-server or valkey-server' })
    .optional()
    .meta({
      group: 'server',
      value: 'PROGRAM',
      help: [
        "The target's server program (default redis-server on PATH, or with",
        "--container the container's own; e.g. /usr/bin/valkey-server): its",
        'checkers check the backup, and a backup in an RDB format it cannot',
        'load is refused',
      ].join('\n'),
    }),
};

/**
 * `redis-check-rdb --version` → `7.0.15`; undefined when the program does not run. Redis 6's and
 * Valkey 9's checkers print no version (they take `--version` for a file name): the version of the
 * server program beside them, which they are a link to, stands in then.
 */
async function checkerVersion(engine: Engine): Promise<string | undefined> {
  const result = await runProgram(engine.checkRdb, ['--version'], { timeoutMs: 30_000 });
  if (result.exitCode === 0) return versionFromCheckerLine(result.stdout);
  if (result.notFound) return undefined;
  return serverVersion(engine.server);
}

/**
 * The programs of the server at `executable` (its `INFO server` field), when they are on this machine
 * and are that `version`: the checkers beside it (`/usr/bin/redis-server` → `/usr/bin/redis-check-rdb`),
 * or, for an engine unpacked with its own libc and loader (`npm run engines`: `<engine>/root/usr/bin/`
 * runs through the shims in `<engine>/bin/`), those shims. Undefined when none answers with that version.
 */
export async function serverOwnEngine(executable: string, version: string): Promise<Engine | undefined> {
  if (!executable.startsWith('/') || !executable.endsWith('-server')) return undefined;
  const root = dirname(dirname(dirname(executable)));
  const candidates = [executable, join(dirname(root), 'bin', basename(executable))];
  for (const program of candidates) {
    if (!existsSync(program)) continue;
    const engine = engineForServer(program);
    if (existsSync(engine.checkRdb) && (await serverVersion(program)) === version) return engine;
  }
  return undefined;
}

/** How the checking engine was chosen, for a line on stderr. */
export interface ChosenEngine {
  engine: Engine;
  /** True when these are the server's own programs rather than this machine's default. */
  own: boolean;
  /** `the server's own (INFO executable)`, or `this machine's` when its version is the server's or the server's programs are not here. */
  how: string;
}

/**
 * The engine that checks a backup of a server answering with `info` (its `INFO server` fields), no
 * `--server` given: this machine's (`redis-server` on PATH, or its stand-ins) when it is the same
 * product and version; else the server's own programs, found from `executable`; else this machine's
 * (a format it cannot load is then refused, naming --server).
 */
export async function engineForServerInfo(info: Record<string, string | undefined>): Promise<ChosenEngine> {
  const host = await engineFromServerOption(undefined);
  const version = info.valkey_version ?? info.redis_version;
  const product = info.server_name === 'valkey' ? 'valkey' : 'redis';
  if (version === undefined) return { engine: host, own: false, how: "this machine's" };
  if (host.product === product && (await serverVersion(host.server)) === version)
    return { engine: host, own: false, how: "this machine's, the server's version" };
  const own = info.executable ? await serverOwnEngine(info.executable, version) : undefined;
  return own
    ? { engine: own, own: true, how: `the server's own (INFO server executable ${info.executable})` }
    : { engine: host, own: false, how: "this machine's (the server's own programs are not found here)" };
}

/**
 * The engine that checks and loads a backup, no `--server` given: the programs of the server it was
 * taken from when its manifest names them (`source.executable`) and they are still here at the same
 * version; else this machine's ({@link engineFromServerOption}).
 */
export async function engineForBackup(backup: string): Promise<ChosenEngine> {
  const { executable, version, engine: product } = (await manifestOf(backup))?.source ?? {};
  if (typeof executable === 'string' && typeof version === 'string') {
    const host = await engineFromServerOption(undefined);
    if (host.product === product && (await serverVersion(host.server)) === version)
      return { engine: host, own: false, how: "this machine's, the backup's version" };
    const own = await serverOwnEngine(executable, version);
    if (own) return { engine: own, own: true, how: `the backed-up server's own (${executable})` };
  }
  return { engine: await engineFromServerOption(undefined), own: false, how: "this machine's" };
}

/**
 * The engine that checks a backup for a container (no `--server` given): the container's own, since
 * that is the server that will load the backup (a `redis:8` container writes and loads RDB formats a
 * host's Redis 7.0 cannot). Its image's checkers run in throwaway containers, unless this machine has
 * the same product and version installed: those are used then (no container per check). An image
 * without checkers falls back to this machine's.
 */
async function containerEngine(container: ContainerRef): Promise<Engine> {
  let own: Engine;
  try {
    own = await containerCheckers(container);
  } catch (error) {
    const host = engineForServer('redis-server');
    if (error instanceof NoImageCheckersError && (await checkerVersion(host))) return host;
    throw error;
  }
  const host = engineForServer(`${own.product}-server`);
  return own.version !== undefined && (await checkerVersion(host)) === own.version ? host : own;
}

/**
 * The engine of `--server`, after checking that the program runs (`--version`). Without `--server`,
 * the container's own engine when the command works on one ({@link containerEngine}), else
 * `redis-server`; when that is missing here, `valkey-server` and its checkers are used where
 * Valkey is installed, else the fetched Redis 7.0 of Debian bookworm (`npm run engines` fetches it
 * on a machine with Docker but no Redis of its own).
 */
export async function engineFromServerOption(given: string | undefined, container?: ContainerRef): Promise<Engine> {
  if (given === undefined && container) return containerEngine(container);
  const program = given ?? 'redis-server';
  const engine = engineForServer(program);
  const result = await runProgram(engine.server, ['--version'], { timeoutMs: 30_000 });
  if (result.exitCode !== 0) {
    const missing = result.notFound;
    if (missing && program === 'redis-server') {
      // A Valkey host (Debian's valkey-server / valkey-tools) has no redis-* programs, only valkey-*.
      const valkey = engineForServer('valkey-server');
      if ((await runProgram(valkey.server, ['--version'], { timeoutMs: 30_000 })).exitCode === 0) return valkey;
      const fallback = hostFallbackEngine();
      if (fallback) return fallback;
    }
    const reason = missing
      ? `not found${program === 'redis-server' ? ' (install redis-tools, run `npm run engines`, or name --container to use the checkers of its image)' : ''}`
      : `\`${program} --version\` failed: ${(result.stderr || (result.timedOut ? 'killed after 30 s' : `exit ${result.exitCode}`)).split('\n')[0]}`;
    throw new PlaybookError('usage', `Invalid --server "${program}": ${reason}`);
  }
  return engine;
}

/** Reads `<backup>/manifest.json`'s source and config loosely (a bare RDB or a bad manifest: undefined; the check reports those). */
async function manifestOf(backup: string): Promise<{ source?: Record<string, unknown>; config?: Record<string, unknown> } | undefined> {
  return readFile(join(backup, 'manifest.json'), 'utf8')
    .then((text) => JSON.parse(text) as { source?: Record<string, unknown>; config?: Record<string, unknown> })
    .catch(() => undefined);
}

/**
 * The version of the engine that last wrote a data dir, from the `redis-ver` / `valkey-ver` field of
 * its snapshot, else of its AOF base (Redis 7+) or single AOF file (Redis 6, with an RDB preamble).
 */
async function dataDirWriterVersion(
  dataDir: string,
  names: { dbfilename: string; appenddirname?: string; appendfilename: string },
): Promise<string | undefined> {
  const candidates = [join(dataDir, names.dbfilename), join(dataDir, names.appendfilename)];
  if (names.appenddirname) candidates.push(join(dataDir, names.appenddirname, `${names.appendfilename}.1.base.rdb`));
  const aofDir = join(dataDir, names.appenddirname ?? 'appendonlydir');
  const manifest = await readFile(join(aofDir, `${names.appendfilename}.manifest`), 'utf8').catch(() => '');
  const base = /^file (\S+) seq \d+ type b/m.exec(manifest)?.[1];
  if (base) candidates.push(join(aofDir, base));
  for (const path of candidates) {
    const aux = await readRdbAux(path);
    const version = aux['valkey-ver'] ?? aux['redis-ver'];
    if (version) return version;
  }
  return undefined;
}

/**
 * The engine that checks a backup before it is installed into the stopped server's `dataDir`, no
 * `--server` given: the programs of the server the backup was taken from (its manifest's
 * `source.executable`, still here at `source.version`) when the data dir was last written by that same
 * version (its snapshot's or AOF base's `redis-ver` / `valkey-ver`): a server restored from its own
 * backup. Otherwise this machine's ({@link engineFromServerOption}), whose limits then apply.
 */
export async function engineForRestore(backup: string, dataDir: string): Promise<ChosenEngine> {
  const host = await engineFromServerOption(undefined);
  const manifest = await manifestOf(backup);
  const { executable, version } = manifest?.source ?? {};
  const config = manifest?.config ?? {};
  if (
    typeof executable === 'string' &&
    typeof version === 'string' &&
    typeof config.dbfilename === 'string' &&
    typeof config.appendfilename === 'string'
  ) {
    const names = {
      dbfilename: config.dbfilename,
      appendfilename: config.appendfilename,
      appenddirname: typeof config.appenddirname === 'string' ? config.appenddirname : undefined,
    };
    if ((await dataDirWriterVersion(dataDir, names)) === version && (await serverVersion(host.server)) !== version) {
      const own = await serverOwnEngine(executable, version);
      if (own) return { engine: own, own: true, how: `the backed-up server's own (${executable}), the version that wrote ${dataDir}` };
    }
  }
  return { engine: host, own: false, how: "this machine's" };
}
