import {
  currentOf,
  flavorViewsOf,
  getSnippetView,
  loadSnippetViews,
  snippetViewPath,
  type SnippetView,
} from '../../scripts/data/snippet-view.ts';
import { loadReportSync, type Report } from '../../scripts/data/report.ts';

/** The verification report the site is built from (`undefined` when `npm run verify` has not run). */
export function siteReport(): Report | undefined {
  return loadReportSync(__VERIFY_REPORT_PATH__);
}

/**
 * The registry's blocks (scripts/snippets) as the site sees them: the data-only view that
 * `node scripts/snippets/site-view.ts` wrote before the build (scripts/data/snippet-view.ts).
 */
export const registry: ReadonlyMap<string, SnippetView> = loadSnippetViews(snippetViewPath(__PROJECT_ROOT__));

/** A block by id; throws naming the id when it does not exist. */
export const getSnippet = (id: string): SnippetView => getSnippetView(registry, id);

/** The flavors of a block that exist, in tab order. */
export const flavorsOf = flavorViewsOf;

/** Whether a report result verified its block as the registry defines it now (its fingerprint is the view's). */
export const isCurrent = currentOf(registry);
