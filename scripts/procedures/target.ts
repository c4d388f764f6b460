import { z } from 'zod';
import { PlaybookError } from './errors.ts';

/** The URL used when none is given. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** Which server to talk to and how to log in, parsed from `--url` and `REDISCLI_AUTH`. */
export const RedisTargetSchema = z.object({
  /** Host name or IP address (IPv6 without brackets). */
  host: z.string().min(1),
  /** TCP port. */
  port: z.number().int().min(1).max(65_535),
  /** ACL user name; absent means the `default` user. */
  username: z.string().min(1).optional(),
  /** Password from the URL, else from `REDISCLI_AUTH`; never printed. */
  password: z.string().min(1).optional(),
  /** Database number from the URL path (`redis://host:port/2`), 0 when absent. */
  db: z.number().int().nonnegative(),
  /** The URL as it may be shown: scheme, user, host, port and db, never the password. */
  url: z.string(),
  /** A Unix socket to connect to instead of host and port (`--socket`, redis-cli's `-s`). */
  socket: z.string().min(1).optional(),
  /** TLS (`rediss://` or `--tls`), with redis-cli's options; absent for a plain connection. */
  tls: z
    .object({
      /** `--cacert FILE`: the CA certificate(s) the server's certificate must chain to (PEM). */
      cacert: z.string().min(1).optional(),
      /** `--cacertdir DIR`: every PEM file in DIR is a trusted CA. Without either, the system's CAs. */
      cacertdir: z.string().min(1).optional(),
      /** `--cert FILE`: the client certificate, for servers with `tls-auth-clients yes` (PEM). */
      cert: z.string().min(1).optional(),
      /** `--key FILE`: the client certificate's private key (PEM). */
      key: z.string().min(1).optional(),
      /** `--sni NAME`: the server name to ask for and verify, when it differs from the host. */
      sni: z.string().min(1).optional(),
      /** `--insecure`: skip the certificate check. Only when asked; never a fallback. */
      insecure: z.boolean(),
    })
    .optional(),
});
export type RedisTarget = z.infer<typeof RedisTargetSchema>;

/** `text` with any `user:password@` part masked, so it can be echoed in an error. */
export function maskUserinfo(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1***@');
}

function usage(message: string): PlaybookError {
  return new PlaybookError('usage', message);
}

function decode(part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch (error) {
    throw new PlaybookError('usage', `The ${what} in --url has a malformed %-escape`, { cause: error });
  }
}

/**
 * Parses `redis://[[user]:password@]host[:port][/db]` the way `redis-cli -u` does: `user:password@`
 * is an ACL user and its password, a bare `password@` (no colon) is the password of the default
 * user. Without a password in the URL, `env.REDISCLI_AUTH` is used. Throws a usage
 * {@link PlaybookError} (never containing the password) for anything else.
 */
export function parseRedisUrl(text: string = DEFAULT_REDIS_URL, env: NodeJS.ProcessEnv = process.env): RedisTarget {
  const shown = maskUserinfo(text);
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text)?.[1]?.toLowerCase();
  if (scheme === undefined) throw usage(`Expected --url like redis://127.0.0.1:6379, got "${shown}"`);
  if (scheme !== 'redis' && scheme !== 'rediss')
    throw usage(`Expected a redis:// or rediss:// URL, got the scheme "${scheme}://" in "${shown}"`);

  const userinfo = /^rediss?:\/\/([^/?#]*)@/i.exec(text)?.[1];
  let username: string | undefined;
  let password: string | undefined;
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(':');
    if (colon === -1) {
      password = decode(userinfo, 'password');
    } else {
      username = decode(userinfo.slice(0, colon), 'user name') || undefined;
      password = decode(userinfo.slice(colon + 1), 'password') || undefined;
    }
  }
  // Parsed as redis:// either way (the URL class treats both schemes alike).
  const rest = `redis://${text.slice(`${scheme}://${userinfo === undefined ? '' : `${userinfo}@`}`.length)}`;

  let url: URL;
  try {
    url = new URL(rest);
  } catch (error) {
    throw new PlaybookError('usage', `Expected --url like redis://host:port with a port from 1 to 65535, got "${shown}"`, { cause: error });
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw usage(`The --url "${shown}" has no host`);
  const port = url.port === '' ? 6379 : Number(url.port);
  if (port < 1) throw usage(`Expected a port from 1 to 65535 in --url, got "${url.port}"`);
  if (url.search !== '' || url.hash !== '') throw usage(`Query parameters and fragments are not supported in --url, got "${shown}"`);
  const path = url.pathname.replace(/^\//, '');
  if (path !== '' && !/^\d{1,5}$/.test(path)) {
    throw usage(`Expected a database number after the port in --url (redis://host:port/0), got "/${path}"`);
  }
  const db = path === '' ? 0 : Number(path);

  password ??= env.REDISCLI_AUTH || undefined;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const shownUrl = `${scheme}://${username ? `${encodeURIComponent(username)}@` : ''}${hostPart}:${port}${db ? `/${db}` : ''}`;
  return RedisTargetSchema.parse({
    host,
    port,
    username,
    password,
    db,
    url: shownUrl,
    tls: scheme === 'rediss' ? { insecure: false } : undefined,
  });
}
