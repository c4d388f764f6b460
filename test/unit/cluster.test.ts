import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  evenRanges,
  formatRanges,
  keySlot,
  mergeRanges,
  parseClusterNodes,
  sameSlots,
  slotCount,
  uncoveredSlots,
} from '../../scripts/redis/cluster.ts';

test('keySlot is CLUSTER KEYSLOT: CRC16 mod 16384, of the hash tag when there is a non-empty one', () => {
  // The cluster spec's test vector (CRC16 of 123456789 is 0x31C3) and the slots its examples give.
  assert.equal(keySlot('foo'), 12182);
  assert.equal(keySlot('bar'), 5061);
  assert.equal(keySlot('123456789'), 12739);
  assert.equal(keySlot('{user1000}.following'), keySlot('{user1000}.followers'));
  assert.equal(keySlot('{user1000}.following'), keySlot('user1000'));
  assert.equal(keySlot('foo{}{bar}'), keySlot('foo{}{bar}'), 'an empty tag hashes the whole key');
  assert.notEqual(keySlot('foo{}{bar}'), keySlot('bar'));
  assert.equal(keySlot(Buffer.from([0xff, 0x00, 0x7b, 0x61, 0x7d])), keySlot('a'));
});

test('parseClusterNodes reads Redis 6.0 and 7.x lines: flags, roles, primaries, slots, migrating entries left out', () => {
  const text = [
    '07c37dfeb235213a872192d90877d0cd55635b91 127.0.0.1:30004@31004 slave e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 0 1426238317239 4 connected',
    'e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:30001@31001,host-a myself,master - 0 0 1 connected 0-5460 [5461->-292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f]',
    '292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f 127.0.0.1:30003@31003 master,fail? - 1426238316232 1426238315226 3 disconnected 5461-10922 10923 10924-16383',
  ].join('\n');
  const nodes = parseClusterNodes(text);
  assert.deepEqual(
    nodes.map((node) => [node.id.slice(0, 6), node.host, node.port, node.role, node.primaryId?.slice(0, 6), node.slots]),
    [
      ['07c37d', '127.0.0.1', 30004, 'replica', 'e7d1ee', []],
      ['e7d1ee', '127.0.0.1', 30001, 'primary', undefined, [[0, 5460]]],
      [
        '292f8b',
        '127.0.0.1',
        30003,
        'primary',
        undefined,
        [
          [5461, 10922],
          [10923, 10923],
          [10924, 16383],
        ],
      ],
    ],
  );
  assert.deepEqual(nodes[2]?.flags, ['master', 'fail?']);
  assert.throws(() => parseClusterNodes('vars currentEpoch 6 lastVoteEpoch 0'), /Not a CLUSTER NODES line/);
});

test('slot ranges: merged, counted, gaps found, split evenly as redis-cli --cluster create does', () => {
  assert.deepEqual(
    mergeRanges([
      [10, 20],
      [0, 9],
      [30, 30],
    ]),
    [
      [0, 20],
      [30, 30],
    ],
  );
  assert.deepEqual(
    uncoveredSlots([
      [0, 5460],
      [10923, 16383],
    ]),
    [[5461, 10922]],
  );
  assert.deepEqual(uncoveredSlots([[0, 16383]]), []);
  assert.deepEqual(evenRanges(3), [
    [0, 5460],
    [5461, 10922],
    [10923, 16383],
  ]);
  assert.equal(slotCount(evenRanges(4)), 16_384);
  assert.ok(
    sameSlots(
      [
        [0, 1],
        [2, 5],
      ],
      [[0, 5]],
    ),
  );
  assert.equal(
    formatRanges([
      [0, 5460],
      [7, 7],
    ]),
    '0-5460,7',
  );
});
