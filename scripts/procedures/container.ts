import { z } from 'zod';
import { runProgram } from '../core/run.ts';
import { composeCommand, dockerUnusable, firstLine, runDocker } from './docker-cli.ts';

export { composeCommand };
import { PlaybookError } from './errors.ts';

/** The part of `docker container inspect` the CLI reads. */
export const DockerInspectSchema = z.object({
  /** Full container id. */
  Id: z.string(),
  /** `/name`. */
  Name: z.string(),
  /** Id of the image it runs (`sha256:…`). */
  Image: z.string(),
  /** Whether it runs. */
  State: z.object({
    /** created, running, paused, restarting, removing, exited, dead. */
    Status: z.string(),
  }),
  /** Volumes and bind mounts. */
  Mounts: z
    .array(
      z.object({
        /** `volume` or `bind` (or `tmpfs`, `npipe`). */
        Type: z.string(),
        /** The volume's name (volumes only). */
        Name: z.string().optional(),
        /** Path on the Docker host. */
        Source: z.string().optional(),
        /** Path inside the container. */
        Destination: z.string(),
      }),
    )
    .nullable()
    .transform((mounts) => mounts ?? []),
  /** Its configuration (labels). */
  Config: z
    .object({
      /** Compose labels tell a service's containers from one-off `run` containers. */
      Labels: z.record(z.string(), z.string()).nullable().optional(),
    })
    .optional(),
});

/** A container the CLI works through (`--container NAME`, or the one `--compose-service SERVICE` names). */
export interface ContainerRef {
  /** Its name, without Docker's leading slash. */
  name: string;
  /** Its full id. */
  id: string;
  /** State when it was looked up: running, exited, … */
  state: string;
  /** The image it runs (an id): restore runs its throwaway helper from the same image. */
  image: string;
  /** Where volumes and bind mounts are mounted inside it. */
  mounts: { type: string; destination: string; name?: string; source?: string }[];
  /** Its labels (Compose's tell a service's containers from one-off `run` containers). */
  labels: Record<string, string>;
}

/** Looks a container up by name or id; `docker` error when it does not exist (or Docker cannot be used). */
export async function inspectContainer(nameOrId: string): Promise<ContainerRef> {
  const run = await runDocker(['container', 'inspect', '--format', '{{json .}}', nameOrId], { timeoutMs: 60_000 });
  const unusable = dockerUnusable(run);
  if (unusable) throw unusable;
  if (run.exitCode !== 0) {
    if (/No such (container|object)/i.test(`${run.stderr}${run.stdout}`)) {
      throw new PlaybookError('docker', `There is no container "${nameOrId}" here (docker ps --all lists them)`, {
        command: 'docker container inspect',
      });
    }
    throw new PlaybookError('docker', `Cannot look up container "${nameOrId}": ${firstLine(run)}`, { command: 'docker container inspect' });
  }
  const parsed = DockerInspectSchema.parse(JSON.parse(run.stdout));
  return {
    name: parsed.Name.replace(/^\//, ''),
    id: parsed.Id,
    state: parsed.State.Status,
    image: parsed.Image,
    mounts: parsed.Mounts.map((mount) => ({ type: mount.Type, destination: mount.Destination, name: mount.Name, source: mount.Source })),
    labels: parsed.Config?.Labels ?? {},
  };
}

/**
 * The container of a Compose service of the project in `cwd` (as `docker compose ps` finds it there:
 * the compose file in that dir or a parent, `COMPOSE_PROJECT_NAME` and `COMPOSE_FILE` from `env`).
 * Stopped containers count (restore needs them); one-off `run` containers do not; a scaled service
 * is refused (name the container with --container).
 */
export async function composeServiceContainer(
  service: string,
  { cwd = process.cwd(), env = {} }: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<ContainerRef> {
  let command: string[];
  try {
    command = await composeCommand();
  } catch (error) {
    throw new PlaybookError('docker', `--compose-service needs Docker Compose: ${(error as Error).message}`, { cause: error });
  }
  const [file = 'docker-compose', ...prefix] = command;
  const shown = `${command.join(' ')} ps --all -q ${service}`;
  const definedEnv = Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
  // Compose v1 fails `ps` for a service the project does not define; v2 lists nothing: ask the project first.
  const services = await runProgram(file, [...prefix, 'config', '--services'], { cwd, env: definedEnv, timeoutMs: 120_000 });
  const defined = services.stdout
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  if (services.exitCode === 0 && !defined.includes(service)) {
    throw new PlaybookError(
      'docker',
      `The Compose project in ${cwd} has no service "${service}" (its services: ${defined.join(', ') || 'none'})`,
      {
        command: `${command.join(' ')} config --services`,
      },
    );
  }
  const run = await runProgram(file, [...prefix, 'ps', '--all', '-q', service], { cwd, env: definedEnv, timeoutMs: 120_000 });
  const unusable = dockerUnusable(run, file);
  if (unusable) throw unusable;
  if (run.exitCode !== 0) {
    throw new PlaybookError('docker', `\`${shown}\` failed in ${cwd}: ${firstLine(run)}`, { command: shown });
  }
  const ids = run.stdout
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const found = await Promise.all(ids.map((id) => inspectContainer(id)));
  const containers = found.filter((container) => container.labels['com.docker.compose.oneoff'] !== 'True');
  if (containers.length === 0) {
    throw new PlaybookError(
      'docker',
      `The Compose service "${service}" of the project in ${cwd} has no container (create it with \`${command.join(' ')} up -d\`)`,
      {
        command: shown,
      },
    );
  }
  if (containers.length > 1) {
    throw new PlaybookError(
      'usage',
      `The Compose service "${service}" has ${containers.length} containers (${containers.map((item) => item.name).join(', ')}): name one with --container`,
    );
  }
  return containers[0] as ContainerRef;
}

/** What `--container` and `--compose-service` ask for. */
export interface ContainerChoice {
  container?: string | undefined;
  composeService?: string | undefined;
}

/** Resolves `--container NAME` or `--compose-service SERVICE` (not both) to a container; undefined for neither. */
export async function resolveContainer(
  choice: ContainerChoice,
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<ContainerRef | undefined> {
  if (choice.container !== undefined && choice.composeService !== undefined) {
    throw new PlaybookError('usage', 'Give --container or --compose-service, not both');
  }
  if (choice.container !== undefined) return inspectContainer(choice.container);
  if (choice.composeService !== undefined) return composeServiceContainer(choice.composeService, options);
  return undefined;
}

/** `container NAME` for messages. */
export function containerLabel(container: Pick<ContainerRef, 'name'>): string {
  return `container ${container.name}`;
}
