import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { currentOf, flavorViewsOf } from '../../scripts/data/snippet-view.ts';
import type { Result } from '../../scripts/data/report.ts';
import { engineSpecs } from '../../scripts/engines/catalog.ts';
import { fingerprint } from '../../scripts/snippets/fingerprint.ts';
import { flavorsOf, registry } from '../../scripts/snippets/registry.ts';
import { buildSnippetViews } from '../../scripts/snippets/site-view.ts';
import { currentIn } from '../../scripts/verify/current.ts';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('the site view of the registry', () => {
  const views = new Map(buildSnippetViews(repo).snippets.map((snippet) => [snippet.id, snippet]));

  it('holds every block of the registry in page order, with its flavors, commands, variants and languages', () => {
    assert.deepEqual([...views.keys()], [...registry.keys()]);
    for (const snippet of registry.values()) {
      const view = views.get(snippet.id);
      assert.equal(view?.title, snippet.title);
      assert.equal(view.page, snippet.page);
      assert.deepEqual(view.engines, snippet.engines);
      assert.deepEqual(
        flavorViewsOf(view).map(([id, flavor]) => [
          id,
          flavor.command,
          flavor.lang,
          flavor.variants.map((variant) => [variant.label, variant.why, variant.command]),
        ]),
        flavorsOf(snippet).map(([id, flavor]) => [
          id,
          flavor.command,
          flavor.lang,
          flavor.variants.map((variant) => [variant.label, variant.why, variant.command]),
        ]),
      );
    }
  });

  it('calls a result current exactly when the sources do (scripts/verify/current.ts)', () => {
    const fromSources = currentIn(repo);
    const fromView = currentOf(views);
    let checked = 0;
    for (const snippet of registry.values()) {
      for (const [flavorId, flavor] of flavorsOf(snippet)) {
        for (const spec of engineSpecs) {
          const now = fingerprint(snippet, flavorId, flavor, spec.id, repo);
          for (const print of [now, `${now.slice(0, -1)}x`]) {
            const result = { id: snippet.id, flavor: flavorId, engineId: spec.id, fingerprint: print } as Result;
            assert.equal(fromView(result), fromSources(result), `${snippet.id} ${flavorId} ${spec.id}`);
            checked++;
          }
        }
      }
    }
    assert.ok(checked > 100, `${checked} results compared`);
    assert.equal(fromView({ id: 'no-such-block', flavor: 'host', engineId: 'redis-7.0', fingerprint: 'x' } as Result), false);
  });
});
