import { PlaybookError } from './errors.ts';

/**
 * The few Redis commands the procedures send (CONFIG GET/SET, INFO, LASTSAVE, BGSAVE SCHEDULE, PING),
 * whatever carries them: an ioredis client (a `Redis` fits this interface as is) or `docker exec …
 * redis-cli` into a container ({@link ContainerRedis} in container-redis.ts). Replies have ioredis's
 * RESP2 shapes: strings, numbers, null, arrays; an error reply rejects with its text as the message.
 */
export interface RedisCommands {
  /** Sends one command and resolves to its reply. */
  call(command: string, ...args: (string | number)[]): Promise<unknown>;
  /** `INFO section`: the text. */
  info(section: string): Promise<string>;
  /** `LASTSAVE`: unix seconds of the last completed save. */
  lastsave(): Promise<number>;
  /**
   * How a wait should poll this carrier (see {@link pollOptions}): a command over a connection costs
   * next to nothing, a `docker exec` about a quarter of a CPU second on the Docker host.
   */
  readonly poll?: { intervalMs: number; maxIntervalMs?: number };
}

/** The waitFor pacing for polls that send commands through `commands`: its own, else every 50 ms. */
export function pollOptions(commands: RedisCommands): { intervalMs: number; maxIntervalMs?: number } {
  return commands.poll ?? { intervalMs: 50 };
}

/** `CONFIG GET name…` as a record; throws when the server leaves one out (Redis before 7 takes one name per call). */
export async function configGet(commands: RedisCommands, names: string[]): Promise<Record<string, string>> {
  const flat = (await commands.call('CONFIG', 'GET', ...names)) as string[];
  const config: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) config[flat[i] as string] = flat[i + 1] as string;
  for (const name of names) {
    if (!(name in config))
      throw new PlaybookError('other', `The server did not return "${name}" for CONFIG GET`, { command: `CONFIG GET ${name}` });
  }
  return config;
}
