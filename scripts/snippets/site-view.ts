#!/usr/bin/env node
/**
 * `node scripts/snippets/site-view.ts [PATH]`: writes the data-only view of the registry the site is
 * built from (scripts/data/snippet-view.ts): each block's id, title, page, and each flavor's command,
 * language and fingerprint on every engine of the catalog. The site reads that file, so its build
 * never loads the verifications (and the servers and containers they start). `npm run build` and
 * `npm run dev` run it first.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../core/atomic-write.ts';
import { defaultSnippetViewPath, SnippetViewsSchema, type FlavorView, type SnippetView } from '../data/snippet-view.ts';
import { engineSpecs } from '../engines/catalog.ts';
import { fingerprint } from './fingerprint.ts';
import { flavorsOf, registry } from './registry.ts';
import type { Variant } from './schema.ts';

/** What the site shows of a variant: who it is for, why, and its command when it has one. */
function variantView({ label, why, command }: Variant): FlavorView['variants'][number] {
  return { label, why, ...(command === undefined ? {} : { command }) };
}

/** The view of every block of the registry, fingerprints computed from the sources under `root`. */
export function buildSnippetViews(root: string): { snippets: SnippetView[] } {
  const snippets = [...registry.values()].map((snippet) => {
    const flavors: SnippetView['flavors'] = {};
    for (const [id, flavor] of flavorsOf(snippet)) {
      const fingerprints = Object.fromEntries(engineSpecs.map((spec) => [spec.id, fingerprint(snippet, id, flavor, spec.id, root)]));
      const variants = flavor.variants.map(variantView);
      flavors[id] = { command: flavor.command, variants, lang: flavor.lang, fingerprints } satisfies FlavorView;
    }
    return { id: snippet.id, title: snippet.title, page: snippet.page, ...(snippet.engines ? { engines: snippet.engines } : {}), flavors };
  });
  return SnippetViewsSchema.parse({ snippets });
}

if (import.meta.main) {
  const path = process.argv[2] ?? defaultSnippetViewPath;
  const views = buildSnippetViews(fileURLToPath(new URL('../../', import.meta.url)));
  mkdirSync(dirname(path), { recursive: true });
  await writeFileAtomic(path, `${JSON.stringify(views)}\n`);
  console.log(`site-view: ${views.snippets.length} blocks written to ${path}`);
}
