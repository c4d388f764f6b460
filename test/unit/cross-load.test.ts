import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cell, formatLoadLine, parseCrossLoad } from '../../scripts/snippets/cross-load.ts';
import type { Report, Result } from '../../scripts/verify/report.ts';
import { crossLoadView } from '../../src/lib/cross-load.ts';

/** The recorded output of a real run of versions-rdb-check (npm run verify on Redis 7.0.15). */
const recorded = `# dump.rdb written by Redis 7.0.15
REDIS0010
Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=ae4d7c971a948f0
[offset 27] AUX FIELD redis-ver = '7.0.15'
[offset 1988] \\o/ RDB looks OK! \\o/
# dump.rdb written by Redis 8.0.2
REDIS0012
Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=ae4d7c971a948f0
[offset 9] Can't handle RDB format version 12
# Each server started on each file (every key compared with the server that wrote it):
Redis 7.0.15 loads the RDB 10 of Redis 7.0.15: 52 of 52 keys equal
Redis 7.0.15 refuses the RDB 11 of Valkey 8.0.1: Can't handle RDB format version 11
Redis 7.0.15 refuses the RDB 12 of Redis 8.0.2: Can't handle RDB format version 12
Redis 7.0.15 refuses the RDB 11 of Valkey 8.1.1: Can't handle RDB format version 11
Valkey 8.0.1 loads the RDB 10 of Redis 7.0.15: 52 of 52 keys equal
Valkey 8.0.1 loads the RDB 11 of Valkey 8.0.1: 52 of 52 keys equal
Valkey 8.0.1 refuses the RDB 12 of Redis 8.0.2: Can't handle RDB format version 12
Valkey 8.0.1 loads the RDB 11 of Valkey 8.1.1: 52 of 52 keys equal
Redis 8.0.2 loads the RDB 10 of Redis 7.0.15: 52 of 52 keys equal
Redis 8.0.2 loads the RDB 11 of Valkey 8.0.1: 52 of 52 keys equal
Redis 8.0.2 loads the RDB 12 of Redis 8.0.2: 52 of 52 keys equal
Redis 8.0.2 loads the RDB 11 of Valkey 8.1.1: 52 of 52 keys equal
Valkey 8.1.1 loads the RDB 10 of Redis 7.0.15: 52 of 52 keys equal
Valkey 8.1.1 loads the RDB 11 of Valkey 8.0.1: 52 of 52 keys equal
Valkey 8.1.1 refuses the RDB 12 of Redis 8.0.2: Can't handle RDB format version 12
Valkey 8.1.1 loads the RDB 11 of Valkey 8.1.1: 52 of 52 keys equal`;

const COMMAND = 'head -c 9 {{backup}}/dump.rdb';
/** Current when verified with this command (the fingerprint's stand-in here). */
const current = (candidate: Result) => candidate.command === COMMAND;
const result = (overrides: Partial<Result> = {}): Result => ({
  id: 'versions-rdb-check',
  flavor: 'host',
  page: 'operations/moving-between-versions',
  command: COMMAND,
  status: 'passed',
  engine: 'redis',
  engineId: 'redis-7.0',
  version: '7.0.15',
  durationMs: 29_000,
  verifiedAt: '2026-11-26T02:11:40.000Z',
  output: recorded,
  ...overrides,
});
const report = (...results: Result[]): Report => ({ generatedAt: '2026-11-26T02:12:00.000Z', results });

describe('parseCrossLoad', () => {
  const table = parseCrossLoad(recorded);

  it('turns the recorded load lines into a 4 × 4 table: loaders as rows, writers (with their RDB version) as columns', () => {
    assert.ok(table);
    assert.deepEqual(table.loaders, ['Redis 7.0.15', 'Valkey 8.0.1', 'Redis 8.0.2', 'Valkey 8.1.1']);
    assert.deepEqual(table.writers, [
      { name: 'Redis 7.0.15', rdb: 10 },
      { name: 'Valkey 8.0.1', rdb: 11 },
      { name: 'Redis 8.0.2', rdb: 12 },
      { name: 'Valkey 8.1.1', rdb: 11 },
    ]);
    const grid = table.loaders.map((loader) =>
      table.writers.map((writer) => (cell(table, loader, writer.name)?.loaded ? 'yes' : 'no')).join(' '),
    );
    assert.deepEqual(grid, ['yes no no no', 'yes yes no yes', 'yes yes yes yes', 'yes yes no yes']);
    assert.equal(cell(table, 'Redis 7.0.15', 'Redis 8.0.2')?.detail, "Can't handle RDB format version 12");
    assert.equal(cell(table, 'Redis 8.0.2', 'Valkey 8.1.1')?.detail, '52 of 52 keys equal');
  });

  it('reads back what formatLoadLine writes', () => {
    const load = { loader: 'Valkey 8.1.1', writer: 'Redis 8.0.2', rdb: 12, loaded: false, detail: "Can't handle RDB format version 12" };
    assert.deepEqual(parseCrossLoad(formatLoadLine(load))?.loads, [load]);
  });

  it('makes no table from an output without load lines, or with a pair missing', () => {
    assert.equal(parseCrossLoad('REDIS0010\nRDB looks OK'), undefined);
    assert.equal(parseCrossLoad(recorded.split('\n').slice(0, -1).join('\n')), undefined);
  });

  it('throws on a pair recorded twice with different outcomes', () => {
    assert.throws(
      () => parseCrossLoad(`${recorded}\nRedis 7.0.15 loads the RDB 12 of Redis 8.0.2: 52 of 52 keys equal`),
      /different outcomes/,
    );
  });
});

describe('crossLoadView', () => {
  it('shows the table of a passed run of the current command', () => {
    const view = crossLoadView(report(result()), current);
    assert.equal(view.kind, 'table');
  });

  it('prefers the host engine run', () => {
    const other = result({
      engineId: 'redis-8.0',
      output: recorded.replace('Redis 7.0.15 refuses the RDB 11 of Valkey 8.0.1', 'Redis 7.0.15 loads the RDB 11 of Valkey 8.0.1'),
    });
    const view = crossLoadView(report(other, result()), current);
    assert.ok(view.kind === 'table');
    assert.equal(view.result.engineId, 'redis-7.0');
  });

  it('says "not verified" without a report, a result, a passed run of the current command, or a complete table', () => {
    const reasons = [
      crossLoadView(undefined, current),
      crossLoadView(report(), current),
      crossLoadView(report(result({ command: 'an older command' })), current),
      crossLoadView(report(result({ status: 'failed' })), current),
      crossLoadView(report(result({ output: 'REDIS0010' })), current),
    ].map((view) => (view.kind === 'unverified' ? view.reason : 'a table'));
    assert.deepEqual(reasons, [
      'no verification report yet (npm run verify)',
      'the report has no result for versions-rdb-check',
      'the report verified an older definition of versions-rdb-check',
      'the last verification of versions-rdb-check did not pass',
      'the recorded output of versions-rdb-check has no complete table',
    ]);
  });
});
