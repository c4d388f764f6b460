import { Redis } from 'ioredis';
import { PlaybookError } from './errors.ts';
import type { RedisTarget } from './target.ts';

/** Default for connect and command timeouts, in milliseconds. */
export const DEFAULT_TIMEOUT_MS = 5_000;

/** What is known about a failed connection attempt, for {@link classifyConnectionError}. */
export interface ConnectionFailure {
  /** The errors seen: those the client emitted, then the one that ended the attempt. */
  errors: unknown[];
  /** Whether the TCP connection was established before things went wrong. */
  connected: boolean;
  /** Whether a password was sent. */
  passwordGiven: boolean;
  /** The timeout that applied, for the message. */
  timeoutMs: number;
}

const UNREACHABLE_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused (is the server running and listening on this port?)',
  ETIMEDOUT: 'no answer to the connection attempt',
  ENOTFOUND: 'unknown host name',
  EAI_AGAIN: 'the host name could not be resolved (DNS)',
  EHOSTUNREACH: 'no route to the host',
  ENETUNREACH: 'the network is unreachable',
  EADDRNOTAVAIL: 'the address is not available',
};

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Turns what went wrong while connecting into a {@link PlaybookError} of the right kind:
 * `unreachable` (refused, connect timeout, DNS), `auth` (WRONGPASS, NOAUTH, invalid password,
 * DENIED), `protocol` (an answer that is not RESP, no answer at all, or a closed connection),
 * else `other`. Pure: it only reads `failure`.
 */
export function classifyConnectionError(target: RedisTarget, failure: ConnectionFailure): PlaybookError {
  const where = target.url;
  const cause = failure.errors[0];
  const messages = failure.errors.map(messageOf);
  for (const error of failure.errors) {
    const code = codeOf(error);
    if (code && code in UNREACHABLE_CODES && !(code === 'ETIMEDOUT' && failure.connected)) {
      const detail = code === 'ETIMEDOUT' ? `no answer to the connection attempt within ${failure.timeoutMs} ms` : UNREACHABLE_CODES[code];
      return new PlaybookError('unreachable', `Cannot reach ${where}: ${detail}`, { cause: error });
    }
  }
  const reply = messages.find((message) => /^(WRONGPASS|NOAUTH|DENIED)\b/.test(message) || /invalid (username-)?password/i.test(message));
  if (reply !== undefined) {
    if (reply.startsWith('NOAUTH')) {
      const hint = failure.passwordGiven
        ? ''
        : ': give it in the URL (redis://:PASSWORD@host:port) or in the REDISCLI_AUTH environment variable';
      return new PlaybookError('auth', `Authentication failed at ${where}: the server requires a password${hint}`, { cause });
    }
    if (reply.startsWith('DENIED')) {
      return new PlaybookError('auth', `Access denied by ${where}: the server refuses clients from this address (protected mode)`, { cause });
    }
    const who = target.username ? `user "${target.username}"` : 'the default user';
    return new PlaybookError('auth', `Authentication failed at ${where}: wrong password for ${who} (${reply.split('\n')[0]})`, { cause });
  }
  const garbage = messages.find((message) => /Unknown RESP type|Protocol error|invalid.*reply/i.test(message));
  if (garbage !== undefined) {
    const first = /"(.)"/.exec(garbage)?.[1];
    const start = first ? ` (its answer starts with ${JSON.stringify(first)})` : '';
    return new PlaybookError('protocol', `${where} is not a Redis server: it answered in a protocol other than Redis's${start}`, { cause });
  }
  if (messages.some((message) => /timed out/i.test(message))) {
    return new PlaybookError(
      'protocol',
      `${where} accepted the connection but did not answer PING within ${failure.timeoutMs} ms: is it a Redis server?`,
      { cause },
    );
  }
  if (failure.connected && messages.some((message) => /Connection is closed|ECONNRESET|EPIPE/.test(message))) {
    return new PlaybookError('protocol', `${where} closed the connection without answering like Redis: is it a Redis server?`, { cause });
  }
  return new PlaybookError('other', `Cannot use ${where}: ${messages[0] ?? 'unknown error'}`, { cause });
}

/** A connected, authenticated client and a note for the operator (or undefined). */
export interface Connection {
  client: Redis;
  /** A remark worth showing, e.g. a password was given but the server has none. */
  note: string | undefined;
}

/**
 * Connects to `target` (no retries, no offline queue, `timeoutMs` for the connection and each
 * command), authenticates and checks that PING answers PONG. Throws a classified
 * {@link PlaybookError} and leaves no socket open on failure.
 */
export async function connect(target: RedisTarget, { timeoutMs = DEFAULT_TIMEOUT_MS }: { timeoutMs?: number } = {}): Promise<Connection> {
  const client = new Redis({
    host: target.host,
    port: target.port,
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableReadyCheck: false,
    enableOfflineQueue: false,
    disableClientInfo: true,
    protocol: 2,
    // disconnect() waits this long for a socket that is already gone (refused, reset) to close:
    // ioredis's 2 s default would keep the CLI alive after every failure.
    disconnectTimeout: 50,
  });
  const emitted: unknown[] = [];
  let connected = false;
  client.on('error', (error: unknown) => emitted.push(error));
  client.once('connect', () => (connected = true));
  let note: string | undefined;
  try {
    await client.connect();
    if (target.password !== undefined) {
      const credentials = target.username ? [target.username, target.password] : [target.password];
      try {
        await client.call('AUTH', ...credentials);
      } catch (error) {
        if (!/without any password configured|no password is set/.test(messageOf(error))) throw error;
        note = 'A password was given but the server does not require one';
      }
    }
    const pong = await client.call('PING').catch((error: unknown) => {
      // A server still loading its data refuses PING but is Redis; INFO and CONFIG work meanwhile.
      if (/^LOADING\b/.test(messageOf(error))) return 'PONG';
      throw error;
    });
    if (pong !== 'PONG') {
      throw new PlaybookError('protocol', `${target.url} is not a Redis server: it answered PING with ${JSON.stringify(String(pong).slice(0, 40))}`);
    }
    if (target.db !== 0) await client.call('SELECT', target.db);
    return { client, note };
  } catch (error) {
    client.disconnect();
    if (error instanceof PlaybookError) throw error;
    throw classifyConnectionError(target, {
      errors: [...emitted, error],
      connected,
      passwordGiven: target.password !== undefined,
      timeoutMs,
    });
  }
}

/** Connects, runs `fn` with the client, and always closes the connection. */
export async function withConnection<T>(target: RedisTarget, options: { timeoutMs?: number }, fn: (client: Redis) => Promise<T>): Promise<T> {
  const { client } = await connect(target, options);
  try {
    return await fn(client);
  } finally {
    client.disconnect();
  }
}
