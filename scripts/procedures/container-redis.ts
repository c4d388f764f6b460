import { parseCliReply, RedisReplyError } from '../redis/cli-reply.ts';
import type { RedisCommands } from './commands.ts';
import type { ContainerRef } from './container.ts';
import { dockerUnusable, firstLine, runDocker, type DockerRun } from './docker-cli.ts';
import { PlaybookError } from './errors.ts';
import type { RedisTarget } from './target.ts';

/** Commands whose reply redis-cli prints raw even with `--no-raw` (the text as is). */
const RAW_REPLIES = new Set(['INFO']);

/** Docker's own time to start an exec, on top of the command timeout. */
const EXEC_SLACK_MS = 10_000;

/**
 * The argv of `docker exec` running one `redis-cli` command in a container: the password, when
 * there is one, is passed as `-e REDISCLI_AUTH` (a name without a value: Docker copies it from the
 * docker CLI's own environment), so it is in no process's argv, here or in the container.
 */
export function redisCliExecArgs(container: string, target: RedisTarget, args: string[]): string[] {
  return [
    'exec',
    ...(target.password === undefined ? [] : ['-e', 'REDISCLI_AUTH']),
    container,
    'redis-cli',
    '--no-raw',
    '-h',
    target.host,
    '-p',
    String(target.port),
    ...(target.username === undefined ? [] : ['--user', target.username]),
    ...(target.db === 0 ? [] : ['-n', String(target.db)]),
    ...args,
  ];
}

/**
 * Redis in a container, reached with `docker exec NAME redis-cli --no-raw …` (one exec a command;
 * the target's host and port are as seen inside the container, 127.0.0.1:6379 by default). It speaks
 * {@link RedisCommands}, so the procedures (the BGSAVE wait, backup, inspect) run unchanged.
 * Failures become {@link PlaybookError}s of the same kinds as over TCP: a stopped container or
 * refused connection is `unreachable`, NOAUTH/WRONGPASS `auth`, a missing container `docker`.
 */
export class ContainerRedis implements RedisCommands {
  readonly container: ContainerRef;
  readonly target: RedisTarget;
  readonly timeoutMs: number;
  /** Set when a password was given and redis-cli reported that the server needs none. */
  passwordUnused = false;
  /**
   * Waits poll at 100 ms, doubling to 2 s: each poll is a `docker exec` (about 0.25 s of CPU for
   * dockerd and runc), which at a fixed 50 ms kept a core busy for as long as a large BGSAVE ran.
   */
  readonly poll = { intervalMs: 100, maxIntervalMs: 2_000 };

  constructor(container: ContainerRef, target: RedisTarget, { timeoutMs }: { timeoutMs: number }) {
    this.container = container;
    this.target = target;
    this.timeoutMs = timeoutMs;
  }

  /** `redis://host:port in container NAME`, for messages. */
  get where(): string {
    return `${this.target.url} in container ${this.container.name}`;
  }

  /** The same container and server, with commands going to database `db` (`redis-cli -n DB`). */
  inDatabase(db: number): ContainerRedis {
    return new ContainerRedis(this.container, { ...this.target, db }, { timeoutMs: this.timeoutMs });
  }

  /** Runs `redis-cli ARGS` in the container; the raw result. */
  exec(args: string[]): Promise<DockerRun> {
    const env: Record<string, string> = this.target.password === undefined ? {} : { REDISCLI_AUTH: this.target.password };
    return runDocker(redisCliExecArgs(this.container.name, this.target, args), { env, timeoutMs: this.timeoutMs + EXEC_SLACK_MS });
  }

  async call(command: string, ...args: (string | number)[]): Promise<unknown> {
    const words = [command, ...args.map(String)];
    const shown = words.slice(0, 2).join(' ');
    const run = await this.exec(words);
    if (run.exitCode !== 0 || run.timedOut) throw this.failure(run, shown);
    if (/AUTH failed: .*without any password configured/i.test(run.stderr)) this.passwordUnused = true;
    else if (/AUTH failed/i.test(run.stderr)) throw this.authFailure(run.stderr);
    if (RAW_REPLIES.has(command.toUpperCase())) return run.stdout;
    let reply;
    try {
      reply = parseCliReply(run.stdout);
    } catch (error) {
      throw new PlaybookError(
        'protocol',
        `${this.where} answered "${shown}" with output redis-cli --no-raw does not print: ${(error as Error).message}`,
        { cause: error, command: shown },
      );
    }
    if (reply instanceof RedisReplyError) {
      if (/^NOAUTH\b/.test(reply.message)) throw this.authFailure(reply.message);
      throw reply;
    }
    return reply;
  }

  async info(section: string): Promise<string> {
    return String(await this.call('INFO', section));
  }

  async lastsave(): Promise<number> {
    return Number(await this.call('LASTSAVE'));
  }

  /** PING until it answers: PONG, or LOADING (Redis, busy loading its data). Throws the classified failure otherwise. */
  async ping(): Promise<'PONG' | 'LOADING'> {
    try {
      const pong = await this.call('PING');
      if (pong !== 'PONG')
        throw new PlaybookError(
          'protocol',
          `${this.where} is not a Redis server: it answered PING with ${JSON.stringify(String(pong).slice(0, 40))}`,
        );
      return 'PONG';
    } catch (error) {
      if (error instanceof RedisReplyError && /^LOADING\b/.test(error.message)) return 'LOADING';
      if (error instanceof RedisReplyError)
        throw new PlaybookError('other', `${this.where} refused PING: ${error.message}`, { cause: error, command: 'PING' });
      throw error;
    }
  }

  private authFailure(text: string): PlaybookError {
    if (/WRONGPASS|invalid (username-)?password/i.test(text)) {
      const who = this.target.username ? `user "${this.target.username}"` : 'the default user';
      return new PlaybookError('auth', `Authentication failed at ${this.where}: wrong password for ${who}`);
    }
    const hint = this.target.password === undefined ? ': give it in the REDISCLI_AUTH environment variable (or in --url)' : '';
    return new PlaybookError('auth', `Authentication failed at ${this.where}: the server requires a password${hint}`);
  }

  /** Why a `docker exec … redis-cli` did not run to the end, as the error kind an operator can act on. */
  private failure(run: DockerRun, shown: string): PlaybookError {
    const unusable = dockerUnusable(run);
    if (unusable) return unusable;
    const name = this.container.name;
    if (run.timedOut) {
      return new PlaybookError(
        'protocol',
        `${this.where} did not answer "${shown}" within ${this.timeoutMs} ms (docker exec … redis-cli)`,
        { command: shown },
      );
    }
    const text = `${run.stderr}\n${run.stdout}`;
    if (/No such container/i.test(text))
      return new PlaybookError('docker', `There is no container "${name}" here (docker ps --all lists them)`, { command: shown });
    const notRunning = /is (not running|paused|restarting)/i.exec(text);
    if (notRunning)
      return new PlaybookError(
        'unreachable',
        `Cannot reach Redis in container ${name}: the container ${notRunning[0]} (start it: docker start ${name})`,
        { command: shown },
      );
    if (/executable file not found|redis-cli: not found/i.test(text)) {
      return new PlaybookError('other', `Container ${name} has no redis-cli on its PATH: ${firstLine(run)}`, { command: shown });
    }
    const refused = /Could not connect to Redis at ([^:]+(?::\d+)?): (.*)/.exec(text);
    if (refused) return new PlaybookError('unreachable', `Cannot reach ${this.where}: ${refused[2]?.trim()}`, { command: shown });
    if (/AUTH failed|NOAUTH/.test(text)) return this.authFailure(text);
    return new PlaybookError('other', `"docker exec ${name} redis-cli ${shown}" failed (exit ${run.exitCode}): ${firstLine(run)}`, {
      command: shown,
    });
  }
}

/** A {@link ContainerRedis} that answered PING, and a note for the operator (or undefined). */
export interface ContainerConnection {
  commands: ContainerRedis;
  note: string | undefined;
}

/**
 * Checks that Redis in `container` answers (PING, through `docker exec`) and returns the commands
 * carrier. A container that is not running is `unreachable` at once.
 */
export async function connectContainer(
  container: ContainerRef,
  target: RedisTarget,
  { timeoutMs }: { timeoutMs: number },
): Promise<ContainerConnection> {
  if (container.state !== 'running') {
    throw new PlaybookError(
      'unreachable',
      `Cannot reach Redis in container ${container.name}: the container is ${container.state} (start it: docker start ${container.name})`,
    );
  }
  const commands = new ContainerRedis(container, target, { timeoutMs });
  await commands.ping();
  return { commands, note: commands.passwordUnused ? 'A password was given but the server does not require one' : undefined };
}
