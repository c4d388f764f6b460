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

/**
 * `CONFIG GET name…` as a record, in one call where the server takes several names (Redis 7+, Valkey),
 * else one call per name (Redis 6 answers several with `ERR Unknown subcommand or wrong number of
 * arguments for 'GET'`). Throws when the server leaves out a name that is not `optional` (a parameter
 * the server does not know, such as `appenddirname` before Redis 7, is simply absent from the record).
 */
export async function configGet(
  commands: RedisCommands,
  names: string[],
  optional: readonly string[] = [],
): Promise<Record<string, string>> {
  const config: Record<string, string> = {};
  const add = (flat: unknown) => {
    const items = Array.isArray(flat) ? (flat as unknown[]) : [];
    for (let i = 0; i + 1 < items.length; i += 2) config[String(items[i])] = String(items[i + 1]);
  };
  try {
    add(await commands.call('CONFIG', 'GET', ...names));
  } catch (error) {
    if (names.length < 2 || !/wrong number of arguments|unknown subcommand/i.test((error as Error).message)) throw error;
    for (const name of names) add(await commands.call('CONFIG', 'GET', name));
  }
  for (const name of names) {
    if (!(name in config) && !optional.includes(name))
      throw new PlaybookError('other', `The server did not return "${name}" for CONFIG GET`, { command: `CONFIG GET ${name}` });
  }
  return config;
}
