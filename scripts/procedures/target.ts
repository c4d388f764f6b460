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
  if (scheme === 'rediss') {
    throw usage(`TLS (rediss://) is not supported yet; use redis://host:port, through a TLS tunnel if needed`);
  }
  if (scheme !== 'redis') throw usage(`Expected a redis:// URL, got the scheme "${scheme}://" in "${shown}"`);

  const userinfo = /^redis:\/\/([^/?#]*)@/i.exec(text)?.[1];
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
  const rest = userinfo === undefined ? text : `redis://${text.slice(`redis://${userinfo}@`.length)}`;

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
  const shownUrl = `redis://${username ? `${encodeURIComponent(username)}@` : ''}${hostPart}:${port}${db ? `/${db}` : ''}`;
  return RedisTargetSchema.parse({ host, port, username, password, db, url: shownUrl });
}
