import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rdbWriters, versionFromVersionLine } from '../../scripts/engines/catalog.ts';
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
});
