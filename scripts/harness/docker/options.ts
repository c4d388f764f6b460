import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { RedisServerOptionsSchema } from '../redis-server.ts';
import { TEMP_PREFIX } from '../leftovers.ts';

/**
 * Directives the harness sets itself in a container's config file: the unix socket it reaches the
 * server through and the password. The port stays Redis's default 6379: each container has its own
 * network namespace, so commands like `docker exec NAME redis-cli …` work exactly as shown.
 */
export const CONTAINER_HARNESS_DIRECTIVES = new Set(['port', 'unixsocket', 'unixsocketperm', 'requirepass', 'daemonize']);

/** What a scenario asks of its disposable Redis container (or Compose project). */
export const ContainerOptionsSchema = z.object({
  /**
   * Server settings, given to `redis-server` as options in the container's command, exactly as a
   * compose file's `command:` would (`{ save: ['900 1', '300 10'], appendonly: 'yes' }` →
   * `redis-server --save 900 1 --save 300 10 --appendonly yes`). Values are split like a redis.conf
   * line (`'""'` is an empty argument); an array repeats the option. `port`, `unixsocket`,
   * `unixsocketperm`, `requirepass` and `daemonize` are the harness's own.
   */
  config: RedisServerOptionsSchema.shape.config,
  /** Sets `requirepass` through a 0600 config file mounted into the container, never through argv. */
  password: z.string().min(1).optional(),
  /** Milliseconds to wait for the first PONG after a start. */
  readyTimeoutMs: z.number().int().positive().default(30_000),
  /** Seconds `docker stop` leaves Redis for its shutdown save before it sends SIGKILL. */
  stopTimeoutSec: z.number().int().nonnegative().default(60),
});
export type ContainerOptions = z.input<typeof ContainerOptionsSchema>;

/** Splits a redis.conf value into arguments the way Redis splits a config line (double or single quotes, backslash escapes). */
export function confTokens(value: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < value.length) {
    while (i < value.length && /\s/.test(value[i] as string)) i++;
    if (i >= value.length) break;
    let token = '';
    const quote = value[i] === '"' || value[i] === "'" ? value[i] : undefined;
    if (quote) {
      i++;
      while (i < value.length && value[i] !== quote) {
        if (value[i] === '\\' && quote === '"' && i + 1 < value.length) {
          const next = value[i + 1] as string;
          token += ({ n: '\n', r: '\r', t: '\t' } as Record<string, string>)[next] ?? next;
          i += 2;
        } else token += value[i++] ?? '';
      }
      if (value[i] !== quote) throw new Error(`Unbalanced quotes in config value: ${value}`);
      i++;
    } else {
      while (i < value.length && !/\s/.test(value[i] as string)) token += value[i++] ?? '';
    }
    tokens.push(token);
  }
  return tokens;
}

/** The `redis-server` options for a scenario's config: `--name token…` per directive (and per array element). */
export function serverArgs(config: z.output<typeof ContainerOptionsSchema>['config']): string[] {
  const args: string[] = [];
  for (const [name, value] of Object.entries(config)) {
    if (CONTAINER_HARNESS_DIRECTIVES.has(name)) throw new Error(`The harness sets "${name}" itself; remove it from config`);
    for (const item of Array.isArray(value) ? value : [value]) {
      const tokens = typeof item === 'number' ? [String(item)] : confTokens(item);
      args.push(`--${name}`, ...(tokens.length > 0 ? tokens : ['']));
    }
  }
  return args;
}

/** Names of one disposable container or Compose project; all start with the harness's prefix. */
export interface DockerNames {
  /** Compose project name (`COMPOSE_PROJECT_NAME`); also the stem of the other names. */
  project: string;
  /** Container name. */
  container: string;
  /** Named volume mounted at /data (as Compose names it: `<project>_redis-data`). */
  volume: string;
  /** Compose service name. */
  service: string;
}

/** Fresh unique names: `redis-playbook-<8 hex>`, `…-redis`, `…_redis-data`, service `redis`. */
export function uniqueNames(): DockerNames {
  const project = `${TEMP_PREFIX}${randomBytes(4).toString('hex')}`;
  return { project, container: `${project}-redis`, volume: `${project}_redis-data`, service: 'redis' };
}
