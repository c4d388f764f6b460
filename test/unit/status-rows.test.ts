import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Report, Result } from '../../scripts/verify/report.ts';
import { countByStatus, firstLine, formatDuration, statusAnchor, statusRows } from '../../src/lib/status-rows.ts';

const result = (id: string, flavor: Result['flavor'], status: Result['status'], command = `cmd ${id}`): Result => ({
  id,
  flavor,
  page: 'persistence/where-is-my-data',
  command,
  status,
  engine: 'redis',
  engineId: 'redis-7.0',
  version: '7.0.15',
  durationMs: 10,
  verifiedAt: '2026-11-25T22:00:00.000Z',
  output: '',
});

describe('statusRows', () => {
  const report: Report = {
    generatedAt: '2026-11-25T22:00:00.000Z',
    results: [
      result('a', 'host', 'passed'),
      result('b', 'docker', 'failed'),
      result('a', 'docker', 'skipped'),
      result('c', 'host', 'failed', 'old text'),
    ],
  };
  const rows = statusRows(report, ['c', 'b', 'a'], (candidate) => candidate.command === `cmd ${candidate.id}`);

  it('puts failures first, then skipped, then passed; in registry order within a status', () => {
    assert.deepEqual(
      rows.map((row) => `${row.result.status} ${row.result.id} ${row.result.flavor}`),
      ['failed c host', 'failed b docker', 'skipped a docker', 'passed a host'],
    );
  });

  it('marks a result whose command the registry no longer has', () => {
    assert.deepEqual(
      rows.map((row) => row.stale),
      [true, false, false, false],
    );
  });

  it('counts results by status', () => {
    assert.deepEqual(countByStatus(report.results), { failed: 2, skipped: 1, passed: 1 });
  });
});

describe('formatDuration', () => {
  it('uses ms below a second, seconds with one decimal below a minute, then minutes and seconds', () => {
    assert.equal(formatDuration(490), '490 ms');
    assert.equal(formatDuration(12_336), '12.3 s');
    assert.equal(formatDuration(125_400), '2 min 5 s');
  });
});

describe('statusAnchor', () => {
  it('names the first row of a block flavor after the snippet and the flavor', () => {
    assert.equal(statusAnchor('config-data-location', 'host'), 'status-config-data-location-host');
    assert.notEqual(statusAnchor('a', 'host'), statusAnchor('a', 'docker'));
  });
});

describe('firstLine', () => {
  it('keeps the first non-blank line of an error, cut at 200 characters', () => {
    assert.equal(firstLine('\n  expected "save"\nat check (verify.ts:12)'), 'expected "save"');
    const long = firstLine('x'.repeat(300));
    assert.equal(long.length, 200);
    assert.ok(long.endsWith('…'));
  });
});
