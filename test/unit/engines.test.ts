import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  engineSpecById,
  hostFallbackSpec,
  rdbWriters,
  versionFromCheckerLine,
  versionFromVersionLine,
  type EngineSpec,
} from '../../scripts/engines/catalog.ts';
import { packageSuites } from '../../scripts/engines/fetch.ts';
import { hostHasRedis, ownLoader, toolCommand } from '../../scripts/engines/shims.ts';
import { engineForServer, ENGINE_IDS, parseEngineList, selectedEngineIds } from '../../scripts/harness/engine.ts';
import { FORMAT_REFUSED, rdbHeader, readRdbVersion } from '../../scripts/redis/rdb.ts';
import { rdbFormatLabel } from '../../scripts/redis/rdb-support.ts';

test('the six engines, the host first', () => {
  assert.deepEqual(ENGINE_IDS, ['redis-7.0', 'redis-6.0', 'redis-8.0', 'redis-8.6', 'valkey-8.1', 'valkey-9.1']);
});

test('Redis 8.6 comes from experimental with its libraries from sid; the others from one suite', () => {
  const spec = engineSpecById('redis-8.6');
  assert.ok(spec);
  const suites = packageSuites(spec);
  assert.deepEqual(
    suites.filter((item) => item.suite === 'experimental').map((item) => item.name),
    ['redis-server', 'redis-tools'],
  );
  assert.ok(suites.filter((item) => item.suite === 'sid').some((item) => item.name === 'libc6'));
  assert.deepEqual(new Set(packageSuites(engineSpecById('redis-6.0') as EngineSpec).map((item) => item.suite)), new Set(['bullseye']));
});

test('RDB headers: REDIS and four digits, VALKEY and three from format 80; the refusals every engine prints', async () => {
  assert.equal(rdbHeader(9), 'REDIS0009');
  assert.equal(rdbHeader(13), 'REDIS0013');
  assert.equal(rdbHeader(80), 'VALKEY080');
  const dir = await mkdtemp(join(tmpdir(), 'redis-playbook-unit-'));
  try {
    for (const [header, version] of [
      ['REDIS0012', 12],
      ['VALKEY080', 80],
    ] as const) {
      await writeFile(join(dir, 'x.rdb'), Buffer.concat([Buffer.from(header, 'latin1'), Buffer.from([0xff])]));
      assert.equal(await readRdbVersion(join(dir, 'x.rdb')), version);
    }
    await writeFile(join(dir, 'x.rdb'), 'VALKEY8');
    await assert.rejects(readRdbVersion(join(dir, 'x.rdb')), /not an RDB file/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  assert.match("[offset 9] Can't handle RDB format version 13", FORMAT_REFUSED);
  assert.match("[offset 18] \\o/ RDB looks OK, but loading requires config 'rdb-version-check relaxed'", FORMAT_REFUSED);
  assert.match('[offset 9] Wrong signature trying to load DB from file', FORMAT_REFUSED);
  assert.doesNotMatch('[offset 99] \\o/ RDB looks OK! \\o/', FORMAT_REFUSED);
});

test('PLAYBOOK_ENGINES selects engines; unset means all; an unknown id is an error naming the known ones', () => {
  assert.deepEqual(selectedEngineIds({}), ENGINE_IDS);
  assert.deepEqual(selectedEngineIds({ PLAYBOOK_ENGINES: 'redis-7.0, redis-8.0,redis-7.0' }), ['redis-7.0', 'redis-8.0']);
  assert.deepEqual(parseEngineList('all'), ENGINE_IDS);
  assert.throws(
    () => parseEngineList('redis-9.0'),
    /Unknown engine "redis-9.0".*known: redis-7.0, redis-6.0, redis-8.0, redis-8.6, valkey-8.1, valkey-9.1/,
  );
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
  assert.equal(rdbFormatLabel(11), 'RDB format 11 (Valkey 8.1)');
  assert.equal(rdbFormatLabel(80), 'RDB format 80 (Valkey 9.1)');
  assert.equal(rdbFormatLabel(8), 'RDB format 8');
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
    assert.deepEqual(toolCommand(hostFallbackSpec, 'server', cache), [
      ownLoader(root).loader,
      '--library-path',
      ownLoader(root).libraryPath,
      join(root, 'usr', 'bin', 'redis-server'),
    ]);
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
