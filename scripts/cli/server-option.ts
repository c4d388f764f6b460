import { execa } from 'execa';
import { z } from 'zod';
import { engineForServer, hostFallbackEngine, type Engine } from '../harness/engine.ts';
import { containerCheckers } from '../procedures/container-checkers.ts';
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
    .default('redis-server'),
};

/** Its lines in a command's --help. */
export const SERVER_HELP = `  --server PROGRAM           The target's server program (default redis-server on PATH; e.g.
                             /usr/bin/valkey-server): its checkers check the backup, and a backup
                             in an RDB format it cannot load is refused`;

/**
 * The engine of `--server`, after checking that the program runs (`--version`). When it is the
 * default `redis-server` and this machine has none, `valkey-server` and its checkers are used where
 * Valkey is installed; else (Docker but no Redis of its own) the checkers come
 * from the container's own image when the command works on one (`container`), else from the fetched
 * Redis 7.0 of Debian bookworm (`npm run engines` fetches it on such a machine).
 */
export async function engineFromServerOption(program: string, container?: ContainerRef): Promise<Engine> {
  const engine = engineForServer(program);
  const result = await execa(engine.server, ['--version'], { reject: false, timeout: 30_000 });
  if (result.exitCode !== 0) {
    const missing = (result as { code?: string }).code === 'ENOENT';
    if (missing && program === 'redis-server') {
      // A Valkey host (Debian's valkey-server / valkey-tools) has no redis-* programs, only valkey-*.
      const valkey = engineForServer('valkey-server');
      if ((await execa(valkey.server, ['--version'], { reject: false, timeout: 30_000 })).exitCode === 0) return valkey;
      if (container) return containerCheckers(container);
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
