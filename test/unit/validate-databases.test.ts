import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExpectFileSchema } from '../../scripts/procedures/expect-file.ts';
import { perDatabaseServer, validate } from '../../scripts/procedures/validate.ts';

/**
 * A server reached one command at a time (as `docker exec … redis-cli` does), with `inDatabase(db)`
 * standing for `redis-cli -n DB`: validate must ask each key in its own database, since no SELECT
 * outlives its command there.
 */
function fakeServer(databases: Record<number, Record<string, { type: string; size: number }>>) {
  const asked: string[] = [];
  const inDatabase = (db: number) => ({
    async call(command: string, ...args: (string | number)[]): Promise<unknown> {
      asked.push(`${db} ${command} ${args.join(' ')}`.trim());
      const key = databases[db]?.[String(args[0])];
      if (command === 'TYPE') return key?.type ?? 'none';
      if (command === 'MODULE') return [];
      return key?.size ?? 0;
    },
  });
  const keyspace = Object.entries(databases)
    .map(([db, keys]) => `db${db}:keys=${Object.keys(keys).length},expires=0,avg_ttl=0`)
    .join('\r\n');
  return {
    asked,
    commands: { ...inDatabase(0), info: async () => `# Keyspace\r\n${keyspace}\r\n`, inDatabase },
  };
}

test('validate through per-database commands checks each key in its own database', async () => {
  const server = fakeServer({ 0: { 'domains:ready': { type: 'zset', size: 150 } }, 3: { 'queue:retry': { type: 'list', size: 2 } } });
  const expect = ExpectFileSchema.parse({
    databases: { '0': { minKeys: 1 }, '3': { minKeys: 1 } },
    keys: [
      { key: 'domains:ready', type: 'zset', minSize: 100 },
      { key: 'queue:retry', db: 3, type: 'list', minSize: 5 },
      { key: 'seen:bloom', type: 'MBbloom--', module: 'bf' },
    ],
  });
  const findings = await validate(perDatabaseServer(server.commands), expect);
  assert.deepEqual(
    findings.map((finding) => [finding.subject, finding.actual, finding.ok]),
    [
      ['db0', '1 keys', true],
      ['db3', '1 keys', true],
      ['db0 domains:ready', 'zset, 150', true],
      ['db3 queue:retry', 'list, 2', false],
      ['db0 seen:bloom', 'module bf not loaded (the key cannot be loaded without it)', false],
    ],
  );
  assert.ok(server.asked.includes('3 TYPE queue:retry') && server.asked.includes('3 LLEN queue:retry'), 'db3 keys are asked in db3');
  assert.ok(!server.asked.some((line) => /SELECT/i.test(line)), 'no SELECT: it would not outlive its command');
});
