import { z } from 'zod';
import { PlaybookError } from '../procedures/errors.ts';
import { DEFAULT_REDIS_URL, parseRedisUrl, type RedisTarget } from '../procedures/target.ts';

/**
 * How a command reaches the server beyond `--url`: a Unix socket, and TLS with redis-cli's own option
 * names (spread into a command's schema).
 */
export const ConnectionOptionsShape = {
  socket: z
    .string()
    .min(1, { error: 'expected the path of a Unix socket' })
    .optional()
    .meta({ group: 'connection', value: 'PATH', help: "Connect to this Unix socket instead of the URL's host and port" }),
  tls: z
    .boolean()
    .default(false)
    .meta({ group: 'connection', help: "Use TLS (as rediss:// does); the server's certificate is checked\nagainst the system's CAs, or:" }),
  cacert: z
    .string()
    .min(1, { error: 'expected a file' })
    .optional()
    .meta({ group: 'connection', value: 'FILE', help: 'the CA certificate that signed it (PEM)' }),
  cacertdir: z
    .string()
    .min(1, { error: 'expected a directory' })
    .optional()
    .meta({ group: 'connection', value: 'DIR', help: 'a directory of trusted CA certificates (PEM)' }),
  cert: z
    .string()
    .min(1, { error: 'expected a file' })
    .optional()
    .meta({ group: 'connection', value: 'FILE', help: 'A client certificate (PEM), for a server with tls-auth-clients yes' }),
  key: z
    .string()
    .min(1, { error: 'expected a file' })
    .optional()
    .meta({ group: 'connection', value: 'FILE', help: "The client certificate's private key (PEM)" }),
  sni: z
    .string()
    .min(1, { error: 'expected a host name' })
    .optional()
    .meta({ group: 'connection', value: 'NAME', help: 'The server name to ask for and verify' }),
  insecure: z.boolean().default(false).meta({ group: 'connection', help: 'Skip the certificate check (never done unless asked)' }),
};

/** `--url`, the server a command connects to (its password may come from REDISCLI_AUTH); `help` when a command says it otherwise. */
export function urlOption(help = `redis://[[user]:password@]host[:port]  (default ${DEFAULT_REDIS_URL})`) {
  return z.string().default(DEFAULT_REDIS_URL).meta({ group: 'connection', value: 'URL', env: 'REDISCLI_AUTH', help });
}

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
    throw new PlaybookError(
      'usage',
      'TLS and --socket are for a server this machine connects to; with --container the CLI reaches Redis through docker exec redis-cli',
    );
  }
}
