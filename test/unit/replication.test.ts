import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseReplication, snapshotReplication } from '../../scripts/redis/replication.ts';
import { assessReplication } from '../../scripts/procedures/replication-verdict.ts';

const replicaInfo = {
  role: 'slave',
  master_host: '10.0.0.5',
  master_port: '6379',
  master_link_status: 'up',
  slave_repl_offset: '623',
  master_replid: '72340b3ce9b0f3ea3665fbbfb0d5d3a1642df634',
};

const primaryInfo = {
  role: 'master',
  connected_slaves: '2',
  slave0: 'ip=127.0.0.1,port=6380,state=online,offset=50,lag=0',
  slave1: 'ip=10.0.0.7,port=6379,state=wait_bgsave,offset=0,lag=0,type=replica',
  master_replid: 'ab',
  master_repl_offset: '50',
};

test('INFO replication of a replica: its primary, link and offset', () => {
  assert.deepEqual(parseReplication(replicaInfo), {
    role: 'replica',
    primary: { host: '10.0.0.5', port: 6379 },
    link: 'up',
    replicas: [],
    offset: 623,
    replicationId: '72340b3ce9b0f3ea3665fbbfb0d5d3a1642df634',
  });
});

test('INFO replication of a primary lists its replicas (Valkey adds type=replica)', () => {
  const info = parseReplication(primaryInfo);
  assert.equal(info.role, 'primary');
  assert.deepEqual(info.replicas, [
    { host: '127.0.0.1', port: 6380, state: 'online', offset: 50 },
    { host: '10.0.0.7', port: 6379, state: 'wait_bgsave', offset: 0 },
  ]);
});

test("the snapshot's replication id and offset come from redis-check-rdb's AUX lines", () => {
  const output =
    "[offset 136] AUX FIELD repl-id = '72340b3ce9b0f3ea3665fbbfb0d5d3a1642df634'\n[offset 152] AUX FIELD repl-offset = '623'\n";
  assert.deepEqual(snapshotReplication(output), { replicationId: '72340b3ce9b0f3ea3665fbbfb0d5d3a1642df634', offset: 623 });
  assert.equal(snapshotReplication("AUX FIELD ctime = '1'"), undefined);
});

test('a primary on loopback with a replica on the same host: the same-host copy is named, a primary without persistence warned', () => {
  const assessment = assessReplication(parseReplication(primaryInfo), '127.0.0.1', 'none');
  assert.match(assessment.adds.join('\n'), /2 replicas hold a copy/);
  assert.match(assessment.doesNot.join('\n'), /127\.0\.0\.1:6380 runs on this same host/);
  assert.doesNotMatch(assessment.doesNot.join('\n'), /10\.0\.0\.7/);
  assert.match(assessment.warnings.join('\n'), /comes back empty and its replicas copy the empty dataset/);
  assert.deepEqual(assessReplication(parseReplication(primaryInfo), '127.0.0.1', 'aof').warnings, []);
});

test('a replica on another host than its primary; a primary without replicas', () => {
  const replica = assessReplication(parseReplication(replicaInfo), '10.0.0.6', 'aof');
  assert.doesNotMatch(replica.doesNot.join('\n'), /same host/);
  assert.match(replica.adds.join('\n'), /forks this replica, never its primary/);
  assert.deepEqual(replica.warnings, []);
  const down = assessReplication(parseReplication({ ...replicaInfo, master_link_status: 'down' }), '10.0.0.6', 'aof');
  assert.match(down.warnings.join('\n'), /link to the primary 10\.0\.0\.5:6379 is down/);
  const alone = assessReplication(parseReplication({ role: 'master', master_replid: 'x', master_repl_offset: '0' }), '10.0.0.6', 'rdb');
  assert.match(alone.doesNot.join('\n'), /No replica is connected/);
});
