import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Result } from '../../scripts/verify/report.ts';
import { highlightLang, verifyBadge } from '../../src/lib/verify-badge.ts';

const result = (overrides: Partial<Result>): Result => ({
  id: 'some-snippet',
  flavor: 'host',
  page: 'persistence/where-is-my-data',
  status: 'passed',
  engine: 'redis',
  engineId: 'redis-7.0',
  version: '7.0.15',
  durationMs: 300,
  verifiedAt: '2026-11-25T23:59:59.000Z',
  output: '',
  command: 'redis-cli CONFIG GET save',
  ...overrides,
});

describe('verifyBadge', () => {
  it('says "Verified on <Engine> <version> · <UTC day>" only for a passed result', () => {
    assert.deepEqual(verifyBadge(result({}), 'redis-cli CONFIG GET save'), { status: 'passed', text: 'Verified on Redis 7.0.15 · 2026-11-25', variant: 'success' });
    assert.equal(verifyBadge(result({ engine: 'valkey', version: '8.1.0' }), 'redis-cli CONFIG GET save').text, 'Verified on Valkey 8.1.0 · 2026-11-25');
  });

  it('says "Failed" with the day for a failed result', () => {
    const badge = verifyBadge(result({ status: 'failed', verifiedAt: '2026-11-26T00:00:01.000Z' }), 'redis-cli CONFIG GET save');
    assert.equal(badge.status, 'failed');
    assert.equal(badge.variant, 'danger');
    assert.match(badge.text, /^Failed\b.* · 2026-11-26$/);
  });

  it('says "Not verified" when the report has no result or skipped it', () => {
    assert.deepEqual(verifyBadge(undefined, 'redis-cli CONFIG GET save'), { status: 'unverified', text: 'Not verified', variant: 'caution' });
    const skipped = verifyBadge(result({ status: 'skipped' }), 'redis-cli CONFIG GET save');
    assert.equal(skipped.status, 'skipped');
    assert.match(skipped.text, /^Not verified/);
    assert.doesNotMatch(skipped.text, /Verified on/);
  });

  it('says "Not verified" when the command was edited after the run that passed', () => {
    const badge = verifyBadge(result({}), 'redis-cli CONFIG GET appendonly');
    assert.equal(badge.status, 'unverified');
    assert.match(badge.text, /^Not verified \(changed since the last run\)$/);
  });
});

describe('verifyBadge across engines', () => {
  const command = 'redis-cli CONFIG GET save';
  const matrix = [
    result({}),
    result({ engineId: 'redis-8.0', version: '8.0.2', verifiedAt: '2026-11-26T01:00:00.000Z' }),
    result({ engineId: 'valkey-8.0', engine: 'valkey', version: '8.0.1' }),
    result({ engineId: 'valkey-8.1', engine: 'valkey', version: '8.1.1' }),
  ];

  it('names every engine it passed on, grouped by product, with the day of the latest run', () => {
    assert.deepEqual(verifyBadge(matrix, command), { status: 'passed', text: 'Verified on Redis 7.0.15, 8.0.2 · Valkey 8.0.1, 8.1.1 · 2026-11-26', variant: 'success' });
  });

  it('fails when one engine failed, and says where it passed', () => {
    const badge = verifyBadge([matrix[0]!, { ...matrix[1]!, status: 'failed' }, matrix[2]!], command);
    assert.equal(badge.status, 'failed');
    assert.equal(badge.text, 'Failed on Redis 8.0.2 · passed on Redis 7.0.15 · Valkey 8.0.1 · 2026-11-26');
  });

  it('counts only results of the current command', () => {
    const badge = verifyBadge([matrix[0]!, { ...matrix[1]!, command: 'an older text', status: 'failed' }], command);
    assert.equal(badge.text, 'Verified on Redis 7.0.15 · 2026-11-25');
  });
});

describe('highlightLang', () => {
  it('keeps languages shiki knows and renders redis.conf and crontab lines as text', () => {
    assert.equal(highlightLang('sh'), 'sh');
    assert.equal(highlightLang('yaml'), 'yaml');
    assert.equal(highlightLang('conf'), 'txt');
    assert.equal(highlightLang('cron'), 'txt');
  });
});
