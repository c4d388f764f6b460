import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { flavorEntries, type FlavorId } from './flavors.ts';
import type { Result } from './report.ts';

/** What the site shows of one flavor of a command block. */
export const FlavorViewSchema = z.object({
  /** The command exactly as the page shows it, with its `{{placeholders}}`. */
  command: z.string().min(1),
  /** What the block does differently on some engines, shown under the main command (scripts/snippets/schema.ts `VariantSchema`). */
  variants: z.array(
    z.object({
      /** Who it is for, as the page labels it ("Redis 6.0"). */
      label: z.string().min(1),
      /** Why these engines need another command, one sentence for the reader. */
      why: z.string().min(1),
      /** The command for them, with the same `{{placeholder}}` markers as the main one; none: they run the main one. */
      command: z.string().min(1).optional(),
    }),
  ),
  /** Syntax highlighting language of the block. */
  lang: z.enum(['sh', 'yaml', 'conf', 'cron']),
  /** Fingerprint of this flavor on each engine of the catalog (engine id → sha256 hex: scripts/snippets/fingerprint.ts). */
  fingerprints: z.record(z.string(), z.string()),
});
export type FlavorView = z.infer<typeof FlavorViewSchema>;

/** The data-only view of one command block of the registry (scripts/snippets): no verification code. */
export const SnippetViewSchema = z.object({
  /** The block's id (`<Snippet id="…"/>`). */
  id: z.string().min(1),
  /** Short title of the block (the quick reference's rows). */
  title: z.string().min(1),
  /** The page that shows it: path under content/docs without extension. */
  page: z.string().min(1),
  /** The only engines (catalog ids) it runs on, when it is limited to some; undefined: every engine. */
  engines: z.array(z.string().min(1)).min(1).optional(),
  /** Its flavors, by id. */
  flavors: z.object({ host: FlavorViewSchema.optional(), docker: FlavorViewSchema.optional() }),
});
export type SnippetView = z.infer<typeof SnippetViewSchema>;

/** Every block of the registry, in page order, as `node scripts/snippets/site-view.ts` writes it for the site. */
export const SnippetViewsSchema = z.object({
  /** The blocks in registry (page) order. */
  snippets: z.array(SnippetViewSchema),
});

/** Where the view of the checkout at `root` is written for the site's build (gitignored; `npm run build` and `npm run dev` write it first). */
export function snippetViewPath(root: string): string {
  return join(root, '.cache', 'site', 'snippets.json');
}

/** {@link snippetViewPath} of this checkout (the site passes its project root instead: Vite bundles this module elsewhere). */
export const defaultSnippetViewPath = snippetViewPath(fileURLToPath(new URL('../../', import.meta.url)));

/** The blocks by id, read from `path`; throws naming the command that writes it when there is none. */
export function loadSnippetViews(path: string): ReadonlyMap<string, SnippetView> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`No snippet view at ${path}: run \`node scripts/snippets/site-view.ts\` (npm run build does it first)`, {
      cause: error,
    });
  }
  return new Map(SnippetViewsSchema.parse(JSON.parse(text)).snippets.map((snippet) => [snippet.id, snippet]));
}

/** A block by id; throws naming the id when the view has none. */
export function getSnippetView(views: ReadonlyMap<string, SnippetView>, id: string): SnippetView {
  const snippet = views.get(id);
  if (!snippet) throw new Error(`No snippet with id "${id}" in scripts/snippets (known: ${[...views.keys()].join(', ')})`);
  return snippet;
}

/** The flavors of a block that exist, in tab order. */
export function flavorViewsOf(snippet: SnippetView): [FlavorId, FlavorView][] {
  return flavorEntries(snippet.flavors);
}

/**
 * `isCurrent(result)`: whether a report result verified its block as the registry defines it now
 * (the same fingerprint; scripts/verify/current.ts computes the same from the sources).
 */
export function currentOf(views: ReadonlyMap<string, SnippetView>): (result: Result) => boolean {
  return (result) => {
    const now = views.get(result.id)?.flavors[result.flavor]?.fingerprints[result.engineId];
    return now !== undefined && result.fingerprint === now;
  };
}
