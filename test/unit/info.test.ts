import assert from 'node:assert/strict';
import { test } from 'node:test';
import { flattenInfo, InfoPersistenceSchema, parseInfo, parseKeyspace, parseSaveRules } from '../../scripts/redis/info.ts';

const persistence = [
  '# Persistence',
  'loading:0',
  'rdb_changes_since_last_save:42',
  'rdb_bgsave_in_progress:0',
  'rdb_last_save_time:1732570000',
  'rdb_last_bgsave_status:ok',
  'rdb_last_bgsave_time_sec:-1',
  'aof_enabled:1',
  'aof_rewrite_in_progress:0',
  'aof_rewrite_scheduled:0',
  'aof_last_bgrewrite_status:ok',
  'aof_last_write_status:ok',
  '',
].join('\r\n');

test('parseInfo reads CRLF INFO text into sections with lower-case names', () => {
  const sections = parseInfo(`# Server\r\nredis_version:7.0.15\r\nexecutable:/usr/bin/redis-server\r\n\r\n${persistence}`);
  assert.deepEqual(Object.keys(sections), ['server', 'persistence']);
  assert.equal(sections.server?.redis_version, '7.0.15');
  assert.equal(sections.persistence?.rdb_last_save_time, '1732570000');
  assert.ok(!Object.values(sections.persistence).some((value) => value.endsWith('\r')), 'no CR left in values');
});

test('parseInfo keeps colons inside values and puts headerless fields in "default"', () => {
  const sections = parseInfo('config_file:C:\\redis.conf\nmaster_host:::1\n');
  assert.equal(sections.default?.config_file, 'C:\\redis.conf');
  assert.equal(sections.default.master_host, '::1');
});

test('parseInfo of LF text equals parseInfo of the same CRLF text', () => {
  assert.deepEqual(parseInfo(persistence.replace(/\r\n/g, '\n')), parseInfo(persistence));
});

test('INFO persistence fields parse into numbers and booleans', () => {
  const parsed = InfoPersistenceSchema.parse(flattenInfo(parseInfo(persistence)));
  assert.equal(parsed.rdb_changes_since_last_save, 42);
  assert.equal(parsed.aof_enabled, true);
  assert.equal(parsed.rdb_bgsave_in_progress, false);
  assert.equal(parsed.rdb_last_bgsave_time_sec, -1);
});

test('parseSaveRules reads pairs of seconds and changes', () => {
  assert.deepEqual(parseSaveRules('3600 1 300 100 60 10000'), [
    { seconds: 3600, changes: 1 },
    { seconds: 300, changes: 100 },
    { seconds: 60, changes: 10000 },
  ]);
  assert.deepEqual(parseSaveRules('  900   1 '), [{ seconds: 900, changes: 1 }]);
});

test('parseSaveRules of "" (save disabled) is no rules', () => {
  assert.deepEqual(parseSaveRules(''), []);
  assert.deepEqual(parseSaveRules('   '), []);
});

test('parseSaveRules rejects an odd number of fields, naming the value', () => {
  assert.throws(() => parseSaveRules('900 1 300'), /Expected pairs of "seconds changes" in the save setting, got "900 1 300"/);
});

test('parseSaveRules rejects fields that are not positive integers', () => {
  assert.throws(() => parseSaveRules('900 x'));
  assert.throws(() => parseSaveRules('0 1'));
  assert.throws(() => parseSaveRules('1.5 1'));
});

test('parseKeyspace reads keys and expires per database and ignores other fields', () => {
  assert.deepEqual(parseKeyspace({ db0: 'keys=2003,expires=1,avg_ttl=0', db12: 'keys=5,expires=0,avg_ttl=0', other: 'x' }), {
    0: { keys: 2003, expires: 1 },
    12: { keys: 5, expires: 0 },
  });
  assert.deepEqual(parseKeyspace({}), {});
});

test('parseKeyspace rejects a db line without counts', () => {
  assert.throws(() => parseKeyspace({ db0: 'garbage' }));
});
