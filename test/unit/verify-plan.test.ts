import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Engine } from '../../scripts/harness/engine.ts';
import { buildRegistry, getSnippet } from '../../scripts/snippets/registry.ts';
import { planJobs } from '../../scripts/verify/verify-all.ts';

const engine = (id: string) => ({ id }) as Engine;
const matrix = ['redis-7.0', 'redis-8.0', 'redis-8.6', 'valkey-8.1'].map(engine);
const planned = (ids: string[], namedEngines: Engine[]) =>
  planJobs(ids.map(getSnippet), { engines: matrix, namedEngines }).map((job) => `${job.snippet.id} ${job.flavorId} ${job.engine.id}`);

test('a named engine outside the matrix runs only the blocks naming it: the Compose upgrade on Valkey 9.1', () => {
  const jobs = planned(['versions-upgrade-compose', 'versions-rdb-check'], [engine('valkey-9.1')]);
  assert.deepEqual(
    jobs.filter((job) => job.startsWith('versions-upgrade-compose')),
    ['versions-upgrade-compose docker redis-8.6', 'versions-upgrade-compose docker valkey-9.1'],
  );
  assert.ok(
    !jobs.some((job) => job.startsWith('versions-rdb-check') && job.endsWith('valkey-9.1')),
    'a block that does not name it does not run on it',
  );
  assert.equal(jobs.filter((job) => job.startsWith('versions-rdb-check')).length, matrix.length);
});

test('without named engines the upgrade runs on the matrix engines it names only', () => {
  assert.deepEqual(planned(['versions-undo-upgrade-compose'], []), ['versions-undo-upgrade-compose docker redis-8.6']);
});

test('an engine outside the matrix runs the flavors that have a variant for it, and no other', () => {
  const variantBlock = buildRegistry([
    {
      id: 'variant-block',
      title: 'A block with a Redis 6.0 variant',
      page: 'operations/integrity',
      flavors: {
        host: {
          command: 'ls {{dataDir}}/appendonlydir',
          variants: [{ engines: ['redis-6.0'], label: 'Redis 6.0', why: 'one appendonly.aof.', command: 'ls {{dataDir}}/appendonly.aof' }],
          async verify() {},
        },
        docker: { command: 'docker exec {{container}} ls /data/appendonlydir', async verify() {} },
      },
    },
  ]).get('variant-block');
  assert.ok(variantBlock);
  const jobs = planJobs([variantBlock], { engines: matrix, namedEngines: [engine('redis-6.0')] }).map(
    (job) => `${job.flavorId} ${job.engine.id}`,
  );
  assert.ok(jobs.includes('host redis-6.0'));
  assert.ok(!jobs.some((job) => job.startsWith('docker') && job.endsWith('redis-6.0')));
});
