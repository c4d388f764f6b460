import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Result } from '../../scripts/verify/report.ts';
import { engineDetails, highlightLang, imageText, verifyBadge } from '../../src/lib/verify-badge.ts';
import { measuredText } from '../../src/lib/measured.ts';

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

/** Current when verified with this command: the fingerprint's stand-in in these tests (the site's is isCurrent). */
const sameCommand = (command: string) => (candidate: Result) => candidate.command === command;

describe('verifyBadge', () => {
  it('says "Verified on <Engine> <version> · <UTC day>" only for a passed result', () => {
    assert.deepEqual(verifyBadge(result({}), sameCommand('redis-cli CONFIG GET save')), {
      status: 'passed',
      text: 'Verified on Redis 7.0.15 · 2026-11-25',
      variant: 'success',
    });
    assert.equal(
      verifyBadge(result({ engine: 'valkey', version: '8.1.0' }), sameCommand('redis-cli CONFIG GET save')).text,
      'Verified on Valkey 8.1.0 · 2026-11-25',
    );
  });

  it('says "Failed" with the day for a failed result', () => {
    const badge = verifyBadge(
      result({ status: 'failed', verifiedAt: '2026-11-26T00:00:01.000Z' }),
      sameCommand('redis-cli CONFIG GET save'),
    );
    assert.equal(badge.status, 'failed');
    assert.equal(badge.variant, 'danger');
    assert.match(badge.text, /^Failed\b.* · 2026-11-26$/);
  });

  it('says "Not verified" when the report has no result or skipped it', () => {
    assert.deepEqual(verifyBadge(undefined, sameCommand('redis-cli CONFIG GET save')), {
      status: 'unverified',
      text: 'Not verified',
      variant: 'caution',
    });
    const skipped = verifyBadge(result({ status: 'skipped' }), sameCommand('redis-cli CONFIG GET save'));
    assert.equal(skipped.status, 'skipped');
    assert.match(skipped.text, /^Not verified/);
    assert.doesNotMatch(skipped.text, /Verified on/);
  });

  it('says "Not verified" when the command was edited after the run that passed', () => {
    const badge = verifyBadge(result({}), sameCommand('redis-cli CONFIG GET appendonly'));
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
  const [redis70, redis80, valkey80, valkey81] = matrix as [Result, Result, Result, Result];

  it('names the versions it passed on, on one short line, with the day of the latest run', () => {
    assert.deepEqual(verifyBadge(matrix, sameCommand(command)), {
      status: 'passed',
      text: 'Verified on Redis 7.0.15 · 8.0.2 · Valkey 8.0.1 · 8.1.1 · 2026-11-26',
      variant: 'success',
    });
  });

  it('names any number of results of a flavor (a Docker flavor on two images)', () => {
    const docker = [result({ flavor: 'docker' }), result({ flavor: 'docker', engineId: 'redis-8.0', version: '8.0.2' })];
    assert.equal(verifyBadge(docker, sameCommand(command)).text, 'Verified on Redis 7.0.15 · 8.0.2 · 2026-11-25');
  });

  it('names the engine that failed, and the versions it passed on', () => {
    const badge = verifyBadge([redis70, { ...redis80, status: 'failed' }, valkey80, valkey81], sameCommand(command));
    assert.equal(badge.status, 'failed');
    assert.equal(badge.variant, 'danger');
    assert.equal(badge.text, 'Failed on Redis 8.0.2 · passed on Redis 7.0.15 · Valkey 8.0.1 · 8.1.1 · 2026-11-26');
  });

  it('names every version that failed and the one it passed on', () => {
    const badge = verifyBadge([redis70, { ...valkey80, status: 'failed' }, { ...valkey81, status: 'failed' }], sameCommand(command));
    assert.equal(badge.text, 'Failed on Valkey 8.0.1 · 8.1.1 · passed on Redis 7.0.15 · 2026-11-25');
  });

  it('fails without "passed on" when every engine failed', () => {
    assert.equal(verifyBadge([{ ...redis70, status: 'failed' }], sameCommand(command)).text, 'Failed on Redis 7.0.15 · 2026-11-25');
  });

  it('names only the versions that passed when another skipped', () => {
    const badge = verifyBadge([redis70, redis80, { ...valkey80, status: 'skipped' }], sameCommand(command));
    assert.equal(badge.status, 'passed');
    assert.equal(badge.text, 'Verified on Redis 7.0.15 · 8.0.2 · 2026-11-26');
  });

  it('counts only results of the current command', () => {
    const badge = verifyBadge([redis70, { ...redis80, command: 'an older text', status: 'failed' }], sameCommand(command));
    assert.equal(badge.text, 'Verified on Redis 7.0.15 · 2026-11-25');
  });
});

describe('engineDetails', () => {
  const command = 'redis-cli CONFIG GET save';

  it('gives one line per engine: name and full version, result, minute, duration, grouped by product then version', () => {
    const details = engineDetails(
      [
        result({ engineId: 'valkey-8.1', engine: 'valkey', version: '8.1.1', durationMs: 2100 }),
        result({ engineId: 'redis-10.0', version: '10.0.0', durationMs: 61_000 }),
        result({ durationMs: 480 }),
        result({ engineId: 'valkey-8.0', engine: 'valkey', version: '8.0.1', verifiedAt: '2026-11-26T04:39:30.000Z' }),
      ],
      sameCommand(command),
    );
    assert.deepEqual(
      details.map(({ engineId, name, label, when, duration }) => [engineId, name, label, when, duration]),
      [
        ['valkey-8.0', 'Valkey 8.0.1', 'Passed', '2026-11-26 04:39 UTC', '300 ms'],
        ['valkey-8.1', 'Valkey 8.1.1', 'Passed', '2026-11-25 23:59 UTC', '2.1 s'],
        ['redis-7.0', 'Redis 7.0.15', 'Passed', '2026-11-25 23:59 UTC', '480 ms'],
        ['redis-10.0', 'Redis 10.0.0', 'Passed', '2026-11-25 23:59 UTC', '1 min 1 s'],
      ],
    );
    assert.equal(details[0]?.verifiedAt, '2026-11-26T04:39:30.000Z');
    assert.ok(details.every((detail) => detail.status === 'passed' && detail.note === undefined));
  });

  it('says why a result failed or was skipped: the first line of its error', () => {
    const details = engineDetails(
      [
        result({ status: 'failed', error: '\nexpected "save" in the output\n  at check (verify.ts:12)' }),
        result({
          engineId: 'valkey-8.1',
          engine: 'valkey',
          version: '8.1.1',
          status: 'skipped',
          error: 'valkey-server is not on this machine',
        }),
        result({ engineId: 'redis-8.0', version: '8.0.2', error: 'a warning of a run that passed' }),
      ],
      sameCommand(command),
    );
    assert.deepEqual(
      details.map(({ engineId, status, label, note }) => [engineId, status, label, note]),
      [
        ['redis-7.0', 'failed', 'Failed', 'expected "save" in the output'],
        ['redis-8.0', 'passed', 'Passed', undefined],
        ['valkey-8.1', 'skipped', 'Skipped', 'valkey-server is not on this machine'],
      ],
    );
  });

  it('lists only results of the current command, as the badge counts them', () => {
    assert.deepEqual(engineDetails(undefined, sameCommand(command)), []);
    assert.deepEqual(engineDetails(result({ command: 'an older text' }), sameCommand(command)), []);
    assert.deepEqual(
      engineDetails([result({}), result({ engineId: 'redis-8.0', version: '8.0.2', command: 'an older text' })], sameCommand(command)).map(
        (detail) => detail.engineId,
      ),
      ['redis-7.0'],
    );
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

describe('badges name the images of Docker results', () => {
  const docker = (overrides: Partial<Result>): Result =>
    result({
      flavor: 'docker',
      image: 'redis-playbook/redis:7.0.15',
      imageOrigin: 'local-build',
      imageId: 'sha256:0123456789abcdef0123',
      compose: '1.29.2',
      ...overrides,
    });

  it('says whether they ran in the official images or local builds', () => {
    const current = () => true;
    assert.equal(
      verifyBadge([docker({}), docker({ version: '8.0.2', engineId: 'redis-8.0' })], current).text,
      'Verified on Redis 7.0.15 · 8.0.2 in local image builds · 2026-11-25',
    );
    assert.equal(
      verifyBadge([docker({ imageOrigin: 'official', image: 'redis:7.0' })], current).text,
      'Verified on Redis 7.0.15 in the official images · 2026-11-25',
    );
    assert.equal(
      verifyBadge([docker({}), docker({ imageOrigin: 'official', image: 'redis:8.0', version: '8.0.2' })], current).text,
      'Verified on Redis 7.0.15 · 8.0.2 in local image builds and the official images · 2026-11-25',
    );
  });

  it('lists the image, its ID and the Compose version in "Where it ran", and what answered', () => {
    const [detail] = engineDetails(
      [
        docker({
          server: { product: 'redis', version: '7.0.15', source: 'info', line: 'redis_version:7.0.15 redis_build_id:ae4d7c971a948f0' },
        }),
      ],
      () => true,
    );
    assert.equal(
      detail?.image,
      "local build redis-playbook/redis:7.0.15 (of Redis 7.0.15 from Debian's packages, not the official image), image ID 0123456789ab, Compose 1.29.2",
    );
    assert.equal(detail.server, 'redis_version:7.0.15 redis_build_id:ae4d7c971a948f0');
    assert.equal(imageText({ image: 'redis:8.0', imageOrigin: 'official', engine: 'redis', version: '8.0.2' }), 'official redis:8.0');
  });
});

describe('measuredText', () => {
  const measured = (engineId: string, engine: string, version: string, bytes: number, overrides: Partial<Result> = {}) =>
    result({ engineId, engine, version, measurements: { 'domains:ready bytes': bytes }, ...overrides });
  const all = () => true;

  it('renders the value the verification recorded, one value when the engines agree once shown', () => {
    assert.equal(
      measuredText(
        [measured('redis-7.0', 'redis', '7.0.15', 1_604_321), measured('redis-8.0', 'redis', '8.0.2', 1_598_000)],
        'domains:ready bytes',
        'MB',
        all,
      ),
      '1.6 MB',
    );
  });

  it('gives the range with the engine at each end when they differ', () => {
    const results = [
      measured('redis-7.0', 'redis', '7.0.15', 763_000),
      measured('valkey-8.1', 'valkey', '8.1.1', 520_000),
      measured('redis-8.0', 'redis', '8.0.2', 640_000),
    ];
    assert.equal(measuredText(results, 'domains:ready bytes', 'MB', all), '0.5 MB (Valkey 8.1.1) to 0.8 MB (Redis 7.0.15)');
  });

  it('uses only passed results of the block as it is now, and none gives undefined', () => {
    const results = [
      measured('redis-7.0', 'redis', '7.0.15', 763_000, { status: 'failed' }),
      measured('redis-8.0', 'redis', '8.0.2', 640_000, { fingerprint: 'old' }),
    ];
    assert.equal(
      measuredText(results, 'domains:ready bytes', 'MB', (candidate) => candidate.fingerprint !== 'old'),
      undefined,
    );
    assert.equal(measuredText([result({})], 'domains:ready bytes', 'MB', all), undefined);
  });
});
