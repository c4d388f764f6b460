import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { hostFallbackSpec, rdbWriters, versionFromCheckerLine, versionFromVersionLine } from '../../scripts/engines/catalog.ts';
import { hostHasRedis, ownLoader, toolCommand } from '../../scripts/engines/shims.ts';
import { engineForServer, ENGINE_IDS, parseEngineList, selectedEngineIds } from '../../scripts/harness/engine.ts';
import { rdbFormatLabel } from '../../scripts/redis/rdb-support.ts';

test('the four engines, the host first', () => {
  assert.deepEqual(ENGINE_IDS, ['redis-7.0', 'valkey-8.0', 'redis-8.0', 'valkey-8.1']);
});

test('PLAYBOOK_ENGINES selects engines; unset means all; an unknown id is an error naming the known ones', () => {
  assert.deepEqual(selectedEngineIds({}), ENGINE_IDS);
  assert.deepEqual(selectedEngineIds({ PLAYBOOK_ENGINES: 'redis-7.0, redis-8.0,redis-7.0' }), ['redis-7.0', 'redis-8.0']);
  assert.deepEqual(parseEngineList('all'), ENGINE_IDS);
  assert.throws(() => parseEngineList('redis-9.0'), /Unknown engine "redis-9.0".*known: redis-7.0, valkey-8.0, redis-8.0, valkey-8.1/);
  assert.throws(() => parseEngineList(' , '), /Empty engine list/);
});

test('a server program gives its engine: checkers and client beside it, or on PATH', () => {
  assert.deepEqual(engineForServer('/usr/bin/valkey-server'), {
    id: 'valkey-server',
    server: '/usr/bin/valkey-server',
    cli: '/usr/bin/valkey-cli',
    checkRdb: '/usr/bin/valkey-check-rdb',
    checkAof: '/usr/bin/valkey-check-aof',
    product: 'valkey',
  });
  assert.equal(engineForServer('redis-server').checkRdb, 'redis-check-rdb');
  assert.throws(() => engineForServer('/usr/bin/redis-cli'), /expected a server program/);
});

test('RDB formats are named by the engines that write them', () => {
  assert.equal(rdbFormatLabel(12), 'RDB format 12 (Redis 8.0)');
  assert.equal(rdbFormatLabel(11), 'RDB format 11 (Valkey 8.0, Valkey 8.1)');
  assert.equal(rdbFormatLabel(9), 'RDB format 9');
  assert.equal(rdbWriters(10), 'Redis 7.0');
  assert.equal(versionFromVersionLine('Redis server v=8.0.2 sha=00000000:0 malloc=jemalloc-5.3.0'), '8.0.2');
  assert.equal(versionFromVersionLine('redis-check-rdb 7.0.15'), undefined);
  assert.equal(versionFromCheckerLine('redis-check-rdb 7.0.15'), '7.0.15');
  assert.equal(versionFromCheckerLine('valkey-check-rdb v=8.1.1 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64'), '8.1.1');
  assert.equal(versionFromCheckerLine('usage: redis-check-rdb <rdb-file-name>'), undefined);
});

test('the bookworm fallback: a root with libc in lib/ runs through that loader, and a PATH without redis-server is a host without Redis', async () => {
  assert.equal(hostFallbackSpec.suite, 'bookworm');
  assert.equal(hostFallbackSpec.version, '7.0.15');
  assert.ok(hostFallbackSpec.packages.includes('libc6') && hostFallbackSpec.packages.includes('libjemalloc2'));
  const cache = await mkdtemp(join(tmpdir(), 'redis-playbook-unit-'));
  try {
    const root = join(cache, hostFallbackSpec.id, 'root');
    await mkdir(join(root, 'usr', 'bin'), { recursive: true });
    await writeFile(join(root, 'usr', 'bin', 'redis-server'), '');
    assert.deepEqual(ownLoader(root), {
      loader: join(root, 'lib', 'x86_64-linux-gnu', 'ld-linux-x86-64.so.2'),
      libraryPath: `${join(root, 'lib', 'x86_64-linux-gnu')}:${join(root, 'usr', 'lib', 'x86_64-linux-gnu')}`,
    });
    assert.deepEqual(toolCommand(hostFallbackSpec, 'server', cache), [ownLoader(root).loader, '--library-path', ownLoader(root).libraryPath, join(root, 'usr', 'bin', 'redis-server')]);
    const path = process.env.PATH;
    try {
      process.env.PATH = join(cache, 'no-such-dir');
      assert.equal(hostHasRedis(cache), false);
    } finally {
      process.env.PATH = path;
    }
  } finally {
    await rm(cache, { recursive: true, force: true });
  }
});
