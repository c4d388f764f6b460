import { z } from 'zod';
import { composeCommand, resolveContainer, type ContainerRef } from '../procedures/container.ts';
import { CONTAINER_DATA_DIR, type ContainerRestoreProgress } from '../procedures/container-restore.ts';
import type { CliIo } from './command.ts';
import { urlOption } from './connection-options.ts';
import { DEFAULT_REDIS_URL } from '../procedures/target.ts';

/**
 * The options that point a command at Redis in a container (spread into a command's schema);
 * `what` says what the command does through it.
 */
export function containerOptions(what: string) {
  return {
    container: z
      .string()
      .min(1, { error: 'expected a container name or id' })
      .optional()
      .meta({
        group: 'container',
        value: 'NAME',
        help: `${what}\n(--url is then Redis as seen inside it; default redis://127.0.0.1:6379)`,
      }),
    'compose-service': z.string().min(1, { error: 'expected a Compose service name' }).optional().meta({
      group: 'container',
      value: 'SERVICE',
      help: 'The same for the container of this Compose service of the project in\nthe current dir (as docker compose ps, or docker-compose ps, finds it)',
    }),
  };
}

/** The same, as the generic shape (Redis commands through docker exec, files through docker cp). */
export const ContainerOptionsShape = containerOptions('Work through this container (docker exec NAME redis-cli, docker cp)');

const DATA_DIR_REQUIRED = "the server's data dir is required (--data-dir DIR), or name its container (--container NAME)";

/** `--data-dir DIR` of the commands that change a stopped server's files, or its container's (restore, rewind). */
export const DataDirOptionShape = {
  'data-dir': z
    .string({ error: DATA_DIR_REQUIRED })
    .min(1)
    .optional()
    .meta({
      value: 'DIR',
      help: `The server's data dir (CONFIG GET dir); inside the container with\n--container (default ${CONTAINER_DATA_DIR})`,
    }),
};

/** `--url` of the commands that restart a container's server (restore, rewind): the server as seen inside it, checked after the start. */
export const ContainerUrlOptionShape = {
  url: urlOption(
    `With a container: Redis as seen inside it, to check it after the start\n(default ${DEFAULT_REDIS_URL}; the password may come from REDISCLI_AUTH)`,
  ),
};

/** For `.superRefine()`: a usage error on --data-dir when neither it nor a container is given. */
export function requireDataDirOrContainer(
  options: { 'data-dir'?: string | undefined; container?: string | undefined; 'compose-service'?: string | undefined },
  context: z.RefinementCtx,
): void {
  if (options['data-dir'] === undefined && options.container === undefined && options['compose-service'] === undefined) {
    context.addIssue({ code: 'custom', path: ['data-dir'], message: DATA_DIR_REQUIRED });
  }
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
    io.stderr(
      `Compose service ${options['compose-service']}: container ${container.name} (found with ${command.join(' ')}, Compose ${command[0] === 'docker' ? 'v2' : 'v1'})\n`,
    );
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
