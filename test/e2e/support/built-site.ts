/**
 * What the e2e tests know about the built site, read from its output (dist/) rather than listed by
 * hand: every page (each dist/**\/index.html but the 404 page) with its title, and the verification
 * report it was built from.
 */
import { readFileSync } from 'node:fs';
import { expect, type Page } from '@playwright/test';
import { builtPageFiles } from '../../../scripts/site/built-pages.ts';
import { flavorLabels, type FlavorId } from '../../../scripts/snippets/schema.ts';
import { defaultReportPath, ReportSchema, type Report } from '../../../scripts/verify/report.ts';

/** A page of the built site. */
export interface BuiltPage {
  /** URL path, `/recovery/rollback/`. */
  path: string;
  /** The page's title (its `og:title`), `Roll back to an earlier backup`. */
  title: string;
  /** Whether it shows command blocks. */
  hasSnippets: boolean;
}

const decode = (text: string) =>
  text.replace(/&(amp|lt|gt|quot|#39);/g, (_, name: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[name] ?? '');

/** Every page of dist/ (run `npm run build` first), in path order. */
export function builtPages(): BuiltPage[] {
  return builtPageFiles().map(({ path, file }) => {
    const html = readFileSync(file, 'utf8');
    const title = /<meta property="og:title" content="([^"]*)"/.exec(html)?.[1];
    if (title === undefined) throw new Error(`${file} has no og:title`);
    return { path, title: decode(title), hasSnippets: html.includes('data-snippet-id=') };
  });
}

/** The report the site was built from (`npm run verify` writes it before `npm run build`). */
export function verifyReport(): Report {
  return ReportSchema.parse(JSON.parse(readFileSync(defaultReportPath, 'utf8')));
}

/** The flavors, in the order their tabs are shown. */
export const flavorIds = Object.keys(flavorLabels) as FlavorId[];

/**
 * Shows a flavor's tab in every block of the page. Tabs are synced under one key, so one click on an
 * unselected tab of that label switches them all (a block with one flavor has its only tab selected
 * already, so the first tab of a label is not necessarily one to click).
 */
export async function showFlavor(tab: Page, flavor: FlavorId): Promise<void> {
  const unselected = tab.getByRole('tab', { name: flavorLabels[flavor], exact: true, selected: false });
  if ((await unselected.count()) > 0) await unselected.first().click();
  await expect(unselected).toHaveCount(0);
}

/** Console errors and uncaught exceptions of a page, collected from now on. */
export function collectErrors(tab: Page): string[] {
  const errors: string[] = [];
  tab.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console.error: ${message.text()} (${message.location().url})`);
  });
  tab.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
  return errors;
}
