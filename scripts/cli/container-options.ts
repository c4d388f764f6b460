import type { ParseArgsOptionsConfig } from 'node:util';
import { z } from 'zod';
import { resolveContainer, type ContainerRef } from '../procedures/container.ts';
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

/** The container the options name, or undefined when they name none. */
export function containerFromOptions(
  options: { container?: string | undefined; 'compose-service'?: string | undefined },
  io: CliIo,
): Promise<ContainerRef | undefined> {
  return resolveContainer(
    { container: options.container, composeService: options['compose-service'] },
    { cwd: process.cwd(), env: io.env },
  );
}
