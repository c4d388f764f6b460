import type { Redis } from 'ioredis';
import { parseInfo, parseKeyspace } from '../redis/info.ts';
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

/** Names of the loaded modules (`MODULE LIST`), lower case; empty when the server has none. */
async function loadedModules(client: Redis): Promise<Set<string>> {
  const reply = (await client.call('MODULE', 'LIST').catch(() => [])) as unknown[];
  const names = new Set<string>();
  for (const entry of reply) {
    if (!Array.isArray(entry)) continue;
    const index = entry.findIndex((item) => String(item) === 'name');
    if (index >= 0) names.add(String(entry[index + 1]).toLowerCase());
  }
  return names;
}

async function checkKey(client: Redis, expected: ExpectedKey, modules: Set<string>): Promise<Finding> {
  const subject = `db${expected.db} ${expected.key}`;
  const want = `${expected.type}${expected.minSize === undefined ? '' : `, at least ${expected.minSize}`}`;
  await client.select(expected.db);
  const type = await client.type(expected.key);
  if (type === 'none') {
    const module = expected.module?.toLowerCase();
    const actual = module && !modules.has(module) ? `module ${expected.module} not loaded (the key cannot be loaded without it)` : 'missing';
    return { subject, expected: want, actual, ok: false };
  }
  if (type !== expected.type) return { subject, expected: want, actual: `type ${type}`, ok: false };
  if (expected.minSize === undefined) return { subject, expected: want, actual: type, ok: true };
  const size = Number(await client.call(SIZE_COMMANDS[type] as string, expected.key));
  return { subject, expected: want, actual: `${type}, ${size}`, ok: size >= expected.minSize };
}

/** Checks a server against an expect file; every expectation becomes a finding, in file order. */
export async function validate(client: Redis, expect: ExpectFile): Promise<Finding[]> {
  const findings: Finding[] = [];
  const keyspace = parseKeyspace(parseInfo(await client.info('keyspace')).keyspace ?? {});
  for (const [db, { minKeys }] of Object.entries(expect.databases)) {
    const keys = keyspace[Number(db)]?.keys ?? 0;
    findings.push({ subject: `db${db}`, expected: `at least ${minKeys} keys`, actual: `${keys} keys`, ok: keys >= minKeys });
  }
  const modules = expect.keys.some((entry) => entry.module) ? await loadedModules(client) : new Set<string>();
  try {
    for (const entry of expect.keys) findings.push(await checkKey(client, entry, modules));
  } finally {
    await client.select(0);
  }
  return findings;
}
