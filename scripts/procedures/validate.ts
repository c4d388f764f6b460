import type { Redis } from 'ioredis';
import { parseInfo, parseKeyspace } from '../redis/info.ts';
import type { RedisCommands } from './commands.ts';
import type { ExpectFile, ExpectedKey } from './expect-file.ts';

/** One expectation and whether it holds. */
export interface Finding {
  /** `db0` or `db0 domains:ready`. */
  subject: string;
  expected: string;
  actual: string;
  ok: boolean;
}

const SIZE_COMMANDS: Record<string, string> = { string: 'STRLEN', list: 'LLEN', set: 'SCARD', zset: 'ZCARD', hash: 'HLEN', stream: 'XLEN' };

/**
 * A server as validate reaches it: INFO and MODULE LIST on it, and key commands in one database at a
 * time. An ioredis client SELECTs the database ({@link clientServer}); `docker exec … redis-cli`
 * gives each command `-n DB` (container-redis.ts).
 */
export interface ValidateServer {
  info(section: string): Promise<string>;
  call(command: string, ...args: (string | number)[]): Promise<unknown>;
  /** Commands going to database `db` of the same server. */
  database(db: number): Promise<Pick<RedisCommands, 'call'>>;
  /** Called once the checks are done (an ioredis client goes back to db 0). */
  done?(): Promise<void>;
}

/** A {@link ValidateServer} over one ioredis connection: SELECT picks the database. */
export function clientServer(client: Redis): ValidateServer {
  return {
    info: (section) => client.info(section),
    call: (command, ...args) => client.call(command, ...args),
    async database(db) {
      await client.select(db);
      return client;
    },
    async done() {
      await client.select(0);
    },
  };
}

/** A {@link ValidateServer} over commands that reach one database each (`ContainerRedis.inDatabase`: `redis-cli -n DB`). */
export function perDatabaseServer(
  commands: Pick<RedisCommands, 'call' | 'info'> & { inDatabase(db: number): Pick<RedisCommands, 'call'> },
): ValidateServer {
  return {
    info: (section) => commands.info(section),
    call: (command, ...args) => commands.call(command, ...args),
    database: (db) => Promise.resolve(commands.inDatabase(db)),
  };
}

/** Names of the loaded modules (`MODULE LIST`), lower case; empty when the server has none. */
async function loadedModules(client: Pick<RedisCommands, 'call'>): Promise<Set<string>> {
  const reply = (await client.call('MODULE', 'LIST').catch(() => [])) as unknown[];
  const names = new Set<string>();
  for (const entry of reply) {
    if (!Array.isArray(entry)) continue;
    const index = entry.findIndex((item) => String(item) === 'name');
    if (index >= 0) names.add(String(entry[index + 1]).toLowerCase());
  }
  return names;
}

async function checkKey(server: ValidateServer, expected: ExpectedKey, modules: Set<string>): Promise<Finding> {
  const subject = `db${expected.db} ${expected.key}`;
  const want = `${expected.type}${expected.minSize === undefined ? '' : `, at least ${expected.minSize}`}`;
  const client = await server.database(expected.db);
  const type = String(await client.call('TYPE', expected.key));
  if (type === 'none') {
    const module = expected.module?.toLowerCase();
    const actual =
      module && !modules.has(module) ? `module ${expected.module} not loaded (the key cannot be loaded without it)` : 'missing';
    return { subject, expected: want, actual, ok: false };
  }
  if (type !== expected.type) return { subject, expected: want, actual: `type ${type}`, ok: false };
  if (expected.minSize === undefined) return { subject, expected: want, actual: type, ok: true };
  const size = Number(await client.call(SIZE_COMMANDS[type] as string, expected.key));
  return { subject, expected: want, actual: `${type}, ${size}`, ok: size >= expected.minSize };
}

/** Checks a server (an ioredis client, or a {@link ValidateServer}) against an expect file; every expectation becomes a finding, in file order. */
export async function validate(target: Redis | ValidateServer, expect: ExpectFile): Promise<Finding[]> {
  const server = 'database' in target ? target : clientServer(target);
  const findings: Finding[] = [];
  const keyspace = parseKeyspace(parseInfo(await server.info('keyspace')).keyspace ?? {});
  for (const [db, { minKeys }] of Object.entries(expect.databases)) {
    const keys = keyspace[Number(db)]?.keys ?? 0;
    findings.push({ subject: `db${db}`, expected: `at least ${minKeys} keys`, actual: `${keys} keys`, ok: keys >= minKeys });
  }
  const modules = expect.keys.some((entry) => entry.module) ? await loadedModules(server) : new Set<string>();
  try {
    for (const entry of expect.keys) findings.push(await checkKey(server, entry, modules));
  } finally {
    await server.done?.();
  }
  return findings;
}
