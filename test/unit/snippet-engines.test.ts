import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildRegistry, registry } from '../../scripts/snippets/registry.ts';

const block = (engines: string[]) => ({
  id: 'some-block',
  title: 'Some block',
  page: 'persistence/what-a-crash-costs',
  engines,
  flavors: { host: { command: 'redis-cli PING', async verify() {} } },
});

test('a block limited to some engines must name engines of the catalog', () => {
  assert.equal(
    buildRegistry([block(['redis-7.0'])])
      .get('some-block')
      ?.engines?.join(),
    'redis-7.0',
  );
  assert.throws(() => buildRegistry([block(['redis-7.9'])]), /Expected engine ids of the catalog/);
});

test('the power-cut measurements run only on Redis 7.0, the engine the VM image holds', () => {
  for (const id of ['power-cut-aof-always', 'power-cut-aof-everysec', 'power-cut-aof-no']) {
    assert.deepEqual(registry.get(id)?.engines, ['redis-7.0'], id);
  }
});
