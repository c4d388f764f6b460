import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { main } from '../../scripts/cli/main.ts';
import { redact, secretsOf } from '../../scripts/cli/redact.ts';
import { BACKUP_VERIFIED_METRIC, backupMetricText, writeBackupMetric } from '../../scripts/procedures/metrics-file.ts';
import { displayRepository, localRepositoryPath, repositoryAddress, resticFailure } from '../../scripts/procedures/restic.ts';

const repo = {
  repository: 'rest:http://backup:s3cret@127.0.0.1:8000/redis',
  passwordFile: '/etc/redis-playbook/restic-password',
  program: 'restic',
};

test('a repository is printed without its user info', () => {
  assert.equal(displayRepository(repo.repository), 'rest:http://127.0.0.1:8000/redis');
  assert.equal(displayRepository('s3:https://key:secret@s3.example.net/bucket'), 's3:https://s3.example.net/bucket');
  assert.equal(displayRepository('/srv/restic'), '/srv/restic');
  assert.equal(displayRepository('sftp:user@host:/srv/restic'), 'sftp:user@host:/srv/restic');
});

test('the address probed before restic runs: REST and S3 over http(s), nothing for local or SFTP', () => {
  assert.deepEqual(repositoryAddress(repo.repository), { host: '127.0.0.1', port: 8000 });
  assert.deepEqual(repositoryAddress('s3:https://s3.example.net/bucket'), { host: 's3.example.net', port: 443 });
  assert.deepEqual(repositoryAddress('rest:http://[::1]:9000/'), { host: '::1', port: 9000 });
  assert.equal(repositoryAddress('/srv/restic'), undefined);
  assert.equal(repositoryAddress('sftp:user@host:/srv/restic'), undefined);
  assert.equal(localRepositoryPath('/srv/restic'), '/srv/restic');
  assert.equal(localRepositoryPath('local:/srv/restic'), '/srv/restic');
  assert.equal(localRepositoryPath(repo.repository), undefined);
});

test("restic's failures become one line of the documented kind, never with the store's login", () => {
  const cases: [number, string, string][] = [
    [12, 'Fatal: wrong password or no key found\n', 'auth'],
    [10, 'Fatal: repository does not exist: unable to open config file\n', 'io'],
    [11, 'Fatal: unable to create lock in backend: repository is already locked\n', 'state'],
    [1, 'Save(<data/1234>) failed: write /srv/restic/data/12/1234: no space left on device\nFatal: unable to save snapshot\n', 'io'],
    [1, 'Remove(<snapshot/ab>) returned error: server response unexpected: 403 Forbidden\nFatal: failed to remove\n', 'io'],
    [
      1,
      'Head "http://:***@127.0.0.1:1/config": dial tcp 127.0.0.1:1: connect: connection refused\nFatal: unable to open config file\n',
      'unreachable',
    ],
    [1, 'Fatal: something else\n', 'other'],
  ];
  for (const [code, stderr, kind] of cases) {
    const error = resticFailure(repo, 'backup', code, stderr);
    assert.equal(error.kind, kind, stderr);
    assert.doesNotMatch(error.message, /s3cret|\n/);
  }
});

test('the freshness gauge: fixed name, escaped label, unix seconds; written atomically', async () => {
  const text = backupMetricText('/var/backups/"redis"', new Date('2026-12-05T03:00:00.900Z'));
  assert.match(text, new RegExp(`^# TYPE ${BACKUP_VERIFIED_METRIC} gauge$`, 'm'));
  assert.match(text, /^redis_playbook_backup_last_verified_timestamp_seconds\{dir="\/var\/backups\/\\"redis\\""\} 1796439600$/m);
  const dir = await mkdtemp(join(tmpdir(), 'redis-playbook-metric-'));
  try {
    await writeBackupMetric(join(dir, 'redis-backup.prom'), '/var/backups/redis', new Date('2026-12-05T03:00:00Z'));
    assert.deepEqual(await readdir(dir), ['redis-backup.prom'], 'no temp file left');
    assert.match(await readFile(join(dir, 'redis-backup.prom'), 'utf8'), / 1796439600\n$/);
    await assert.rejects(writeBackupMetric(join(dir, 'missing', 'x.prom'), '/d', new Date()), { name: 'PlaybookError', kind: 'io' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("the store's credentials from restic's environment are redacted from error lines", () => {
  const secrets = secretsOf(['offsite', 'list', '--repo', repo.repository], {
    RESTIC_REST_PASSWORD: 'rest-pw',
    AWS_SECRET_ACCESS_KEY: 'aws-key',
  });
  assert.equal(redact(`a rest-pw b aws-key c ${repo.repository}`, secrets), `a *** b *** c rest:http://backup:***@127.0.0.1:8000/redis`);
});

test('offsite usage errors: one line, exit 2, restic never started', async () => {
  const cases: [string[], RegExp][] = [
    [['offsite'], /^redis-playbook: Invalid --action: expected init, push, list, pull or forget\n$/],
    [['offsite', 'list', '--password-file', '/p'], /the repository is required/],
    [['offsite', 'list', '--repo', '/r'], /the repository password file is required/],
    [['offsite', 'list', '--repo', '/r', '--repo-file', '/f', '--password-file', '/p'], /--repo URL or --repo-file FILE, not both/],
    [['offsite', 'push', '--repo', '/r', '--password-file', '/p'], /offsite push needs the backup folder/],
    [['offsite', 'pull', 'latest', '--repo', '/r', '--password-file', '/p'], /offsite pull needs the backup dir \(--to DIR\)/],
    [
      ['offsite', 'forget', '--keep-daily', '0', '--repo', '/r', '--password-file', '/p'],
      /at least one of --keep-hourly, --keep-daily, --keep-weekly of 1 or more/,
    ],
    [
      ['offsite', 'forget', '--keep-daily', 'x', '--repo', '/r', '--password-file', '/p'],
      /^redis-playbook: Invalid --keep-daily "x": expected a number of snapshots\n$/,
    ],
  ];
  for (const [argv, pattern] of cases) {
    let stderr = '';
    const code = await main(argv, {
      stdout: () => assert.fail('nothing on stdout'),
      stderr: (text) => (stderr += text),
      env: { PATH: '/nonexistent' },
    });
    assert.equal(code, 2, `${argv.join(' ')}: ${stderr}`);
    assert.match(stderr, pattern);
    assert.match(stderr, /^redis-playbook: [^\n]+\n$/);
  }
});
