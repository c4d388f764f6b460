import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decidePolicy, DOCKER_UNAVAILABLE } from '../../scripts/harness/docker/available.ts';
import { confTokens, serverArgs, uniqueNames } from '../../scripts/harness/docker/options.ts';
import { TEMP_PREFIX } from '../../scripts/harness/leftovers.ts';
import { fillCommand } from '../../scripts/snippets/placeholders.ts';
import { presentOutput } from '../../scripts/verify/run-snippet.ts';

describe('docker policy', () => {
  const missing = { available: false, detail: 'Cannot connect to the Docker daemon' } as const;

  it('runs docker checks when Docker answers, in CI or not', () => {
    assert.deepEqual(decidePolicy({ available: true, serverVersion: '20.10.24' }, {}), { run: true });
    assert.deepEqual(decidePolicy({ available: true, serverVersion: '20.10.24' }, { CI: 'true' }), { run: true });
  });

  it('skips docker checks with "Docker not available here" when Docker is missing', () => {
    assert.deepEqual(decidePolicy(missing, {}), { run: false, status: 'skipped', reason: DOCKER_UNAVAILABLE });
  });

  it('fails docker checks when Docker is missing and PLAYBOOK_REQUIRE_ALL=1 (or CI=true without it)', () => {
    assert.equal(decidePolicy(missing, { CI: 'true', PLAYBOOK_REQUIRE_ALL: '0' }).run, false);
    assert.equal((decidePolicy(missing, { CI: 'true', PLAYBOOK_REQUIRE_ALL: '0' }) as { status: string }).status, 'skipped');
    assert.equal((decidePolicy(missing, { CI: 'true' }) as { status: string }).status, 'failed');
    const policy = decidePolicy(missing, { PLAYBOOK_REQUIRE_ALL: '1' });
    assert.equal(policy.run, false);
    assert.equal(policy.status, 'failed');
    assert.match(policy.reason, /^Docker not available here \(Cannot connect to the Docker daemon\); PLAYBOOK_REQUIRE_ALL=1 requires/);
  });
});

describe('serverArgs', () => {
  it('turns a scenario config into redis-server options as a compose command writes them', () => {
    const args = serverArgs({ save: ['900 1', '300 10'], appendonly: 'yes', maxmemory: '24gb', 'maxmemory-policy': 'noeviction' });
    assert.equal(args.join(' '), '--save 900 1 --save 300 10 --appendonly yes --maxmemory 24gb --maxmemory-policy noeviction');
  });

  it('keeps an empty value as one empty argument (save "" disables snapshots)', () => {
    assert.deepEqual(serverArgs({ save: '""' }), ['--save', '']);
  });

  it('refuses the directives the harness sets itself', () => {
    assert.throws(() => serverArgs({ requirepass: 'x' }), /harness sets "requirepass" itself/);
    assert.throws(() => serverArgs({ port: 6380 }), /harness sets "port" itself/);
  });

  it('splits quoted config values like redis.conf does', () => {
    assert.deepEqual(confTokens('"a b" c \'d e\' "x\\"y"'), ['a b', 'c', 'd e', 'x"y']);
    assert.throws(() => confTokens('"open'), /Unbalanced quotes/);
  });
});

describe('docker names and placeholders', () => {
  it('gives every run unique names under the leftover-checked prefix', () => {
    const a = uniqueNames();
    const b = uniqueNames();
    assert.notEqual(a.project, b.project);
    for (const name of [a.project, a.container, a.volume]) assert.ok(name.startsWith(TEMP_PREFIX), name);
    assert.equal(a.volume, `${a.project}_redis-data`, 'the volume is named as Compose names it');
  });

  it('shows /data as the data dir of Docker commands and outputs, /var/lib/redis of host ones', () => {
    assert.equal(fillCommand('ls {{dataDir}}', {}, 'docker'), 'ls /data');
    assert.equal(fillCommand('ls {{dataDir}}'), 'ls /var/lib/redis');
    const names = uniqueNames();
    const values = {
      dataDir: '/data',
      container: names.container,
      volume: names.volume,
      project: names.project,
      image: 'redis-playbook/redis:7.0.15',
    };
    const output = `${names.container} /data ${names.volume} ${names.project} redis-playbook/redis:7.0.15`;
    assert.equal(presentOutput(output, values, [], 'docker'), 'crawler-redis /data crawler_redis-data crawler redis:7.0');
  });
});
