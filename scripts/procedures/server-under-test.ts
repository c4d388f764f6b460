import type { Redis, RedisOptions } from 'ioredis';
import type { Engine } from '../engines/engine.ts';
import type { InfoSections } from '../redis/info.ts';

/** What a `redis-cli` run against a server printed. */
export interface CliOutput {
  /** Undefined when the program was killed (a timeout). */
  exitCode?: number | undefined;
  stdout: string;
  stderr: string;
}

/**
 * A disposable server a check works on, whatever runs it: a host process
 * (scripts/procedures/scratch-server.ts) or a container (scripts/harness/docker/container.ts). A
 * check written against this runs on both, so a command block's verification is written once.
 */
export interface ServerUnderTest extends AsyncDisposable {
  /** The engine the server runs. */
  readonly engine: Engine;
  /** Address and port as the page's commands reach it (inside the container for a container). */
  readonly host: string;
  readonly port: number;
  /** The data dir as the server sees it (`CONFIG GET dir`). */
  readonly dir: string;
  readonly password: string | undefined;
  /** Environment for `redis-cli` and the CLI: `REDISCLI_AUTH` when the server has a password. */
  readonly env: Record<string, string>;
  isRunning(): Promise<boolean>;
  /** Starts the stopped server on its data and waits until it answers PING; rejects when it exits instead. */
  start(): Promise<void>;
  /** Graceful stop (saving per its config), waiting until it is down. */
  stop(): Promise<void>;
  /** Sends a signal (default SIGKILL: a crash) and waits until it is down. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Runs the engine's `redis-cli ARGS` against it (password through REDISCLI_AUTH). Never rejects. */
  cli(args: string[], options?: { input?: string }): Promise<CliOutput>;
  /** `INFO [section]`, parsed. */
  info(section?: string): Promise<InfoSections>;
  /** A connected ioredis client; close it with `quit()` (or use {@link withClient}). */
  client(db?: number): Promise<Redis>;
  /** Runs `fn` with a client and closes it afterwards. */
  withClient<T>(fn: (client: Redis) => Promise<T>, db?: number): Promise<T>;
  /** The server's whole log. */
  logs(): Promise<string>;
  /** The last lines of its log. */
  logTail(lines?: number): Promise<string>;
  /** Names of the entries of `dir/<sub>` (`ls -A`), sorted. */
  dataEntries(sub?: string): Promise<string[]>;
  /** The bytes of `dir/<path>`. */
  readDataFile(path: string): Promise<Buffer>;
  /**
   * Runs `change` on a host path holding `dir/<path>` (the file itself on a host; a copy on the host
   * for a container, put back afterwards): how a check damages or edits a file of a stopped server.
   */
  withDataFile(path: string, change: (file: string) => Promise<void>): Promise<void>;
  /** Kills the server and removes what it was made of. Safe to call twice. */
  dispose(): Promise<void>;
}

/**
 * The ioredis options of every client the project opens to a disposable server. ioredis 6 otherwise
 * sends HELLO 3 and CLIENT SETINFO on connect: a client closed right after connecting leaves those
 * promises to reject with nobody listening. No retries: a refused command fails at once.
 */
export function clientOptions(
  target: { host: string; port: number } | { path: string },
  password: string | undefined,
  db = 0,
): RedisOptions {
  return {
    ...target,
    password,
    db,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    protocol: 2,
    disableClientInfo: true,
    disconnectTimeout: 50,
  };
}
