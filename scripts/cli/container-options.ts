import type { ParseArgsOptionsConfig } from 'node:util';
import { z } from 'zod';
import { composeCommand, resolveContainer, type ContainerRef } from '../procedures/container.ts';
import type { ContainerRestoreProgress } from '../procedures/container-restore.ts';
import type { CliIo } from './command.ts';

/** The options that point a command at Redis in a container (spread into a command's schema). */
export const ContainerOptionsShape = {
  /**
   * Work through this container (name or id): Redis commands run with `docker exec NAME redis-cli`,
   * files are read with `docker cp`; `--url` is then Redis as seen inside the container.
   */
  container: z.string().min(1, { error: 'expected a container name or id' }).optional(),
  /**
   * Work through the container of this Compose service, as `docker compose ps` (or `docker-compose ps`)
   * finds it in the current directory.
   */
  'compose-service': z.string().min(1, { error: 'expected a Compose service name' }).optional(),
};

/** Their `node:util` parseArgs config. */
export const containerArgs: ParseArgsOptionsConfig = {
  container: { type: 'string' },
  'compose-service': { type: 'string' },
};

/** Their lines in a command's --help; `what` says what the command does through the container. */
export function containerHelp(what: string): string {
  return `  --container NAME           ${what}
                             (--url is then Redis as seen inside it; default redis://127.0.0.1:6379)
  --compose-service SERVICE  The same for the container of this Compose service of the project in
                             the current dir (as docker compose ps, or docker-compose ps, finds it)`;
}

/**
 * The container the options name, or undefined when they name none. For a Compose service it says on
 * stderr which Compose found it: `docker compose` (v2) where Docker has the plugin, else `docker-compose` (v1).
 */
export async function containerFromOptions(
  options: { container?: string | undefined; 'compose-service'?: string | undefined },
  io: CliIo,
): Promise<ContainerRef | undefined> {
  const container = await resolveContainer(
    { container: options.container, composeService: options['compose-service'] },
    { cwd: process.cwd(), env: io.env },
  );
  if (container && options['compose-service'] !== undefined) {
    const command = await composeCommand();
    io.stderr(`Compose service ${options['compose-service']}: container ${container.name} (found with ${command.join(' ')}, Compose ${command[0] === 'docker' ? 'v2' : 'v1'})\n`);
  }
  return container;
}

/**
 * Progress lines on stderr of work that stops a container, changes its files in a throwaway container
 * and starts it again (restore, rewind); `installing` says what is done to the files ("installing the
 * backup into").
 */
export function containerProgress(io: CliIo, installing: string): (event: ContainerRestoreProgress) => void {
  let loadingShownAt = 0;
  return (event) => {
    if (event.phase === 'stopping') io.stderr(`stopping container ${event.container} (docker stop)\n`);
    if (event.phase === 'installing') io.stderr(`${installing} ${event.dataDir} (a throwaway container on ${event.container}'s volumes)\n`);
    if (event.phase === 'starting') io.stderr(`starting container ${event.container} (docker start)\n`);
    if (event.phase === 'loading' && event.elapsedMs - loadingShownAt >= 5000) {
      loadingShownAt = event.elapsedMs;
      io.stderr(`waiting for Redis in ${event.container} to load its data (${Math.round(event.elapsedMs / 1000)} s)\n`);
    }
  };
}
