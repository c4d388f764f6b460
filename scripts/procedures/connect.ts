import { readdirSync, readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import { Redis } from 'ioredis';
import { PlaybookError } from './errors.ts';
import { explainServerRefusal } from './server-refusal.ts';
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
  ENOENT: 'no such socket (is the server running, with unixsocket set to this path?)',
};

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Node's codes for a server certificate that does not verify. */
const CERTIFICATE_CODES =
  /^(SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|CERT_HAS_EXPIRED|CERT_NOT_YET_VALID|ERR_TLS_CERT_ALTNAME_INVALID|CERT_UNTRUSTED|CERT_REVOKED|CERT_SIGNATURE_FAILURE)$/;

/** The TLS options of `target` for ioredis, the files read now (a missing one is an `io` error naming its option). */
export function tlsOptions(tls: NonNullable<RedisTarget['tls']>): ConnectionOptions {
  const read = (option: string, path: string) => {
    try {
      return readFileSync(path);
    } catch (error) {
      throw new PlaybookError(
        'io',
        `Cannot read ${option} ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  };
  const ca: Buffer[] = [];
  if (tls.cacert) ca.push(read('--cacert', tls.cacert));
  if (tls.cacertdir) {
    let names: string[];
    try {
      names = readdirSync(tls.cacertdir).filter((name) => /\.(pem|crt)$/.test(name));
    } catch (error) {
      throw new PlaybookError('io', `Cannot read --cacertdir ${tls.cacertdir}: ${(error as Error).message}`, { cause: error });
    }
    for (const name of names) ca.push(read('--cacertdir', join(tls.cacertdir, name)));
  }
  if ((tls.cert === undefined) !== (tls.key === undefined))
    throw new PlaybookError('usage', '--cert and --key go together: the client certificate and its private key');
  return {
    ...(ca.length > 0 ? { ca } : {}),
    ...(tls.cert ? { cert: read('--cert', tls.cert) } : {}),
    ...(tls.key ? { key: read('--key', tls.key) } : {}),
    ...(tls.sni ? { servername: tls.sni } : {}),
    rejectUnauthorized: !tls.insecure,
  };
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
    if (code && CERTIFICATE_CODES.test(code)) {
      return new PlaybookError(
        'auth',
        `The TLS certificate of ${where} cannot be verified (${messageOf(error)}): give the CA that signed it with --cacert FILE, or --insecure to skip the check`,
        { cause: error },
      );
    }
    if (target.tls && /certificate required|alert.*(bad|unknown) certificate|handshake failure/i.test(messageOf(error))) {
      return new PlaybookError(
        'auth',
        `${where} refused the TLS connection: it requires a client certificate this one does not have (--cert FILE --key FILE)`,
        { cause: error },
      );
    }
    if (
      target.tls &&
      /wrong version number|packet length too long|disconnected before secure TLS connection|unexpected eof/i.test(messageOf(error))
    ) {
      return new PlaybookError('protocol', `${where} did not answer the TLS handshake: is it a plain port? use redis:// without --tls`, {
        cause: error,
      });
    }
    if (code === 'EACCES' && target.socket) {
      return new PlaybookError(
        'io',
        `Cannot connect to the socket ${target.socket} as user ${userInfo().username}: permission denied (see the server's unixsocketperm)`,
        { cause: error },
      );
    }
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
      return new PlaybookError('auth', `Access denied by ${where}: the server refuses clients from this address (protected mode)`, {
        cause,
      });
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
    const tlsHint = target.tls ? '' : ' (a TLS port needs rediss:// or --tls)';
    return new PlaybookError('protocol', `${where} closed the connection without answering like Redis: is it a Redis server?${tlsHint}`, {
      cause,
    });
  }
  for (const error of failure.errors) {
    const refusal = explainServerRefusal(error);
    if (refusal) return refusal;
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
    ...(target.socket ? { path: target.socket } : { host: target.host, port: target.port }),
    ...(target.tls ? { tls: tlsOptions(target.tls) } : {}),
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
      throw new PlaybookError(
        'protocol',
        `${target.url} is not a Redis server: it answered PING with ${JSON.stringify(String(pong).slice(0, 40))}`,
      );
    }
    if (target.db !== 0) await client.call('SELECT', target.db);
    return { client, note };
  } catch (error) {
    client.disconnect();
    if (error instanceof PlaybookError) throw error;
    const classified = classifyConnectionError(target, {
      errors: [...emitted, error],
      connected,
      passwordGiven: target.password !== undefined,
      timeoutMs,
    });
    // With TLS, "connected" means the handshake is done: a plain server that never answers the
    // handshake looks like a host that never answered. A bare TCP connection tells them apart.
    if (
      target.tls &&
      classified.kind === 'unreachable' &&
      classified.message.includes('no answer to the connection attempt') &&
      (await tcpAnswers(target))
    ) {
      throw new PlaybookError(
        'protocol',
        `${target.url} did not answer the TLS handshake within ${timeoutMs} ms: is it a plain port? use redis:// without --tls`,
        {
          cause: error,
        },
      );
    }
    throw classified;
  }
}

/** Whether a plain TCP connection to the target's host and port is accepted within a second. */
function tcpAnswers(target: RedisTarget): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: target.host, port: target.port, timeout: 1_000 });
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.once('connect', () => {
      done(true);
    });
    socket.once('timeout', () => {
      done(false);
    });
    socket.once('error', () => {
      done(false);
    });
  });
}

/** Connects, runs `fn` with the client, and always closes the connection. */
export async function withConnection<T>(
  target: RedisTarget,
  options: { timeoutMs?: number },
  fn: (client: Redis) => Promise<T>,
): Promise<T> {
  const { client } = await connect(target, options);
  try {
    return await fn(client);
  } finally {
    client.disconnect();
  }
}
