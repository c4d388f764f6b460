import { execa } from 'execa';
import { z } from 'zod';
import { versionFromCheckerLine } from '../engines/catalog.ts';
import { engineForServer, hostFallbackEngine, type Engine } from '../harness/engine.ts';
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
    .optional(),
};

/** Its lines in a command's --help. */
export const SERVER_HELP = `  --server PROGRAM           The target's server program (default redis-server on PATH, or with
                             --container the container's own; e.g. /usr/bin/valkey-server): its
                             checkers check the backup, and a backup in an RDB format it cannot
                             load is refused`;

/** `redis-check-rdb --version` → `7.0.15`; undefined when the program does not run. */
async function checkerVersion(engine: Engine): Promise<string | undefined> {
  const result = await execa(engine.checkRdb, ['--version'], { reject: false, timeout: 30_000 });
  return result.exitCode === 0 ? versionFromCheckerLine(result.stdout) : undefined;
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
  const result = await execa(engine.server, ['--version'], { reject: false, timeout: 30_000 });
  if (result.exitCode !== 0) {
    const missing = (result as { code?: string }).code === 'ENOENT';
    if (missing && program === 'redis-server') {
      // A Valkey host (Debian's valkey-server / valkey-tools) has no redis-* programs, only valkey-*.
      const valkey = engineForServer('valkey-server');
      if ((await execa(valkey.server, ['--version'], { reject: false, timeout: 30_000 })).exitCode === 0) return valkey;
      const fallback = hostFallbackEngine();
      if (fallback) return fallback;
    }
    const reason = missing
      ? `not found${program === 'redis-server' ? ' (install redis-tools, run `npm run engines`, or name --container to use the checkers of its image)' : ''}`
      : `\`${program} --version\` failed: ${String(result.stderr || result.shortMessage || result.exitCode).split('\n')[0]}`;
    throw new PlaybookError('usage', `Invalid --server "${program}": ${reason}`);
  }
  return engine;
}
