import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildRegistry, registry } from '../../scripts/snippets/registry.ts';
import { commandFor, variantFor, type Variant } from '../../scripts/snippets/schema.ts';
import { lastIncrVariant, replaced, replacedEach } from '../../scripts/snippets/variants.ts';
import { engineSpecs } from '../../scripts/engines/catalog.ts';

const block = (variants: Variant[]) => ({
  id: 'some-block',
  title: 'Some block',
  page: 'operations/integrity',
  flavors: { host: { command: 'redis-check-aof {{dataDir}}/appendonlydir/appendonly.aof.manifest', variants, async verify() {} } },
});

test('an engine with a variant runs its command, every other engine the main one', () => {
  const host = buildRegistry([
    block([
      {
        engines: ['valkey-9.1'],
        label: 'Valkey 9.1',
        why: 'its checker misreads the base.',
        command: 'redis-check-aof {{dataDir}}/appendonlydir/x.incr.aof',
      },
    ]),
  ]).get('some-block')?.flavors.host;
  assert.ok(host);
  assert.equal(commandFor(host, 'valkey-9.1'), 'redis-check-aof {{dataDir}}/appendonlydir/x.incr.aof');
  assert.equal(variantFor(host, 'valkey-9.1')?.label, 'Valkey 9.1');
  assert.equal(commandFor(host, 'redis-7.0'), host.command);
  assert.equal(variantFor(host, 'redis-7.0'), undefined);
});

test('a variant names engines of the catalog, each engine in one variant at most, and known placeholders', () => {
  const variant = (engines: string[], command = 'true') => ({ engines, label: 'x', why: 'y.', command });
  assert.throws(() => buildRegistry([block([variant(['valkey-9.9'])])]), /Expected engine ids of the catalog/);
  assert.throws(() => buildRegistry([block([variant(['valkey-9.1']), variant(['valkey-9.1', 'redis-6.0'])])]), /one variant at most/);
  assert.throws(() => buildRegistry([block([variant(['valkey-9.1'], 'ls {{nowhere}}')])]), /Unknown placeholder \{\{nowhere\}\}/);
});

test('the Valkey 9.1 variants are for exactly the engines whose checker misreads its base', () => {
  const misreading = engineSpecs.filter((spec) => spec.traits.checkAofMisreadsBase).map((spec) => spec.id);
  assert.deepEqual(lastIncrVariant('true').engines, misreading);
  let found = 0;
  for (const snippet of registry.values()) {
    for (const flavor of [snippet.flavors.host, snippet.flavors.docker]) {
      for (const variant of flavor?.variants ?? []) {
        found++;
        if (variant.command !== undefined)
          assert.notEqual(variant.command, flavor?.command, `${snippet.id}: a variant's command differs from its main command`);
      }
    }
  }
  assert.ok(found >= 9, `the AOF check, repair and cut blocks have their variants (${found})`);
});

test('a variant without a command runs the main one, and names the engine so that verify runs the block there', () => {
  const host = buildRegistry([block([{ engines: ['redis-6.0'], label: 'Redis 6.0', why: 'it answers ERR Unknown option.' }])]).get(
    'some-block',
  )?.flavors.host;
  assert.ok(host);
  assert.equal(commandFor(host, 'redis-6.0'), host.command);
  assert.equal(variantFor(host, 'redis-6.0')?.label, 'Redis 6.0');
});

test('replaced() refuses a text that is not there, so a variant never silently equals its main command', () => {
  assert.equal(replaced('a b a', 'a', 'c'), 'c b c');
  assert.throws(() => replaced('a b', 'x', 'c'), /is not in the command it changes/);
});

test('replacedEach() replaces pair after pair, and refuses a pair whose text is gone by its turn', () => {
  assert.equal(
    replacedEach('cd appendonlydir && ls appendonlydir', [
      ['appendonlydir', 'data'],
      ['ls data', 'ls -l data'],
    ]),
    'cd data && ls -l data',
  );
  assert.throws(
    () =>
      replacedEach('cd appendonlydir', [
        ['appendonlydir', 'data'],
        ['appendonlydir', 'x'],
      ]),
    /is not in the command it changes/,
  );
});
