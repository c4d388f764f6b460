import type { ParseArgsOptionsConfig } from 'node:util';
import { z } from 'zod';
import { PlaybookError } from '../procedures/errors.ts';
import { parseRedisUrl, type RedisTarget } from '../procedures/target.ts';

/**
 * How a command reaches the server beyond `--url`: a Unix socket, and TLS with redis-cli's own option
 * names (spread into a command's schema).
 */
export const ConnectionOptionsShape = {
  /** Connect to this Unix socket instead of host and port (redis-cli's `-s`). */
  socket: z.string().min(1, { error: 'expected the path of a Unix socket' }).optional(),
  /** Use TLS (as a `rediss://` URL does). */
  tls: z.boolean().default(false),
  /** CA certificate file the server's certificate must chain to (PEM). */
  cacert: z.string().min(1, { error: 'expected a file' }).optional(),
  /** Directory of trusted CA certificates (PEM files). */
  cacertdir: z.string().min(1, { error: 'expected a directory' }).optional(),
  /** Client certificate (PEM), for a server with `tls-auth-clients yes`. */
  cert: z.string().min(1, { error: 'expected a file' }).optional(),
  /** The client certificate's private key (PEM). */
  key: z.string().min(1, { error: 'expected a file' }).optional(),
  /** Server name to ask for and verify, when it differs from the URL's host. */
  sni: z.string().min(1, { error: 'expected a host name' }).optional(),
  /** Skip the server certificate check. Only when asked. */
  insecure: z.boolean().default(false),
};

/** Their `node:util` parseArgs config. */
export const connectionArgs: ParseArgsOptionsConfig = {
  socket: { type: 'string' },
  tls: { type: 'boolean' },
  cacert: { type: 'string' },
  cacertdir: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  sni: { type: 'string' },
  insecure: { type: 'boolean' },
};

/** Their lines in a command's --help. */
export const connectionHelp = `  --socket PATH              Connect to this Unix socket instead of the URL's host and port
  --tls                      Use TLS (as rediss:// does); the server's certificate is checked
                             against the system's CAs, or:
  --cacert FILE              the CA certificate that signed it (PEM)
  --cacertdir DIR            a directory of trusted CA certificates (PEM)
  --cert FILE --key FILE     A client certificate and its key (tls-auth-clients yes)
  --sni NAME                 The server name to ask for and verify
  --insecure                 Skip the certificate check (never done unless asked)`;

type ConnectionValues = { url: string } & { [K in keyof typeof ConnectionOptionsShape]?: z.infer<(typeof ConnectionOptionsShape)[K]> };

/** The server a command's `--url`, socket and TLS options name; `env` gives REDISCLI_AUTH. */
export function targetFromOptions(options: ConnectionValues, env: NodeJS.ProcessEnv): RedisTarget {
  const target = parseRedisUrl(options.url, env);
  const tlsAsked = options.tls === true || target.tls !== undefined;
  const tlsFiles = { cacert: options.cacert, cacertdir: options.cacertdir, cert: options.cert, key: options.key, sni: options.sni };
  const given = Object.entries(tlsFiles).find(([, value]) => value !== undefined);
  if (!tlsAsked && (given || options.insecure)) {
    throw new PlaybookError('usage', `--${given?.[0] ?? 'insecure'} is a TLS option: use a rediss:// URL or --tls`);
  }
  const tls = tlsAsked
    ? { ...Object.fromEntries(Object.entries(tlsFiles).filter(([, value]) => value !== undefined)), insecure: options.insecure === true }
    : undefined;
  if (options.socket !== undefined) {
    if (tls) throw new PlaybookError('usage', '--socket and TLS do not go together: a Unix socket is local and unencrypted');
    return { ...target, socket: options.socket, url: `unix:${options.socket}${target.db ? `/${target.db}` : ''}` };
  }
  return { ...target, tls, url: tls && !target.url.startsWith('rediss:') ? target.url.replace(/^redis:/, 'rediss:') : target.url };
}

/** A usage error when a command works through a container but TLS or a socket was asked for (docker exec reaches Redis inside it). */
export function assertNoConnectionOptionsWithContainer(target: RedisTarget, container: unknown): void {
  if (container !== undefined && (target.tls !== undefined || target.socket !== undefined)) {
    throw new PlaybookError('usage', 'TLS and --socket are for a server this machine connects to; with --container the CLI reaches Redis through docker exec redis-cli');
  }
}
