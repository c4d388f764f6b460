import { expect, test } from '@playwright/test';
import { fillCommand } from '../../scripts/snippets/placeholders.ts';
import { flavorsOf, registry } from '../../scripts/snippets/registry.ts';
import { currentIn } from '../../scripts/verify/current.ts';
import { findResults } from '../../scripts/verify/report.ts';
import { verifyBadge } from '../../src/lib/verify-badge.ts';
import { showFlavor, verifyReport } from './support/built-site.ts';

const path = '/reference/quick-reference/';

/** Whether a result verified its block as the registry defines it now, as the site decides. */
const isCurrent = currentIn(new URL('../..', import.meta.url).pathname);

/** Some of a reader's own values, with a space and a quote so that shell quoting shows. */
const mine = {
  host: 'cache-01.internal',
  port: '6380',
  dataDir: '/srv/redis data',
  container: "shop's-redis",
  backupDir: '/mnt/backups/redis',
};

test('the quick reference has every registry block, grouped by its page, titled and linked to the block, with its status', async ({
  page: tab,
}) => {
  await tab.goto(path);
  const report = verifyReport();
  const pages = [...new Set([...registry.values()].map((snippet) => snippet.page))];
  await expect(tab.locator('[data-quick-reference-group]')).toHaveCount(pages.length);
  // What the page shows, read in one go: group, link and the badge of each flavor, per row.
  const shown = await tab.locator('[data-quick-reference-row]').evaluateAll((rows) =>
    rows.map((row) => ({
      id: row.getAttribute('data-quick-reference-row'),
      group: row.closest('[data-quick-reference-group]')?.getAttribute('data-quick-reference-group'),
      href: row.querySelector('a[data-block-link]')?.getAttribute('href'),
      title: row.querySelector('a[data-block-link]')?.textContent.trim(),
      badges: [...row.querySelectorAll('[data-flavor]')].map((block) => {
        const badge = block.querySelector('[data-verify-status]');
        return `${block.getAttribute('data-flavor')}: ${badge?.getAttribute('data-verify-status')} ${badge?.textContent.trim()}`;
      }),
    })),
  );
  // Failed and stale ("changed since the last run") show as such, as on the block's page.
  const expected = [...registry.values()].map((snippet) => ({
    id: snippet.id,
    group: snippet.page,
    href: `/${snippet.page}/#snippet-${snippet.id}`,
    title: snippet.title,
    badges: flavorsOf(snippet).map(([flavorId]) => {
      const badge = verifyBadge(findResults(report, snippet.id, flavorId), isCurrent);
      return `${flavorId}: ${badge.status} ${badge.text}`;
    }),
  }));
  const byId = (a: { id: string | null }, b: { id: string | null }) => (a.id ?? '').localeCompare(b.id ?? '');
  expect(shown.sort(byId)).toEqual(expected.sort(byId));
  // The link leads to the block itself on its page.
  const first = [...registry.values()][0];
  if (!first) throw new Error('the registry is empty');
  await tab.locator(`[data-quick-reference-row="${first.id}"] a[data-block-link]`).click();
  await expect(tab).toHaveURL(`/${first.page}/#snippet-${first.id}`);
  await expect(tab.locator(`#snippet-${first.id}`)).toBeInViewport();
});

test("every command of the quick reference copies exactly the registry's command filled with the reader's values", async ({
  page: tab,
  context,
  baseURL,
}) => {
  test.setTimeout(120_000);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseURL as string });
  await tab.addInitScript((values) => {
    localStorage.setItem('redis-playbook:setup', JSON.stringify(values));
  }, mine);
  await tab.goto(path);
  const expected: Record<string, string> = {};
  for (const snippet of registry.values())
    for (const [flavorId, flavor] of flavorsOf(snippet))
      expected[`${snippet.id} ${flavorId}`] = fillCommand(flavor.command, mine, flavorId);
  const copied: Record<string, string> = {};
  for (const flavorId of ['host', 'docker'] as const) {
    await showFlavor(tab, flavorId);
    // Each visible block's own copy button, clicked in the page (one round trip instead of one per block),
    // and what it put on the clipboard.
    Object.assign(
      copied,
      await tab.evaluate(async (flavor) => {
        const out: Record<string, string> = {};
        for (const block of document.querySelectorAll<HTMLElement>(`[data-quick-reference-row] [data-flavor="${flavor}"]`)) {
          if (block.offsetParent === null) continue;
          await navigator.clipboard.writeText('');
          block.querySelector<HTMLButtonElement>('.expressive-code .copy button')?.click();
          let text = '';
          for (let wait = 0; wait < 100 && text === ''; wait++) {
            text = await navigator.clipboard.readText();
            if (text === '') await new Promise((resolve) => setTimeout(resolve, 20));
          }
          out[`${block.getAttribute('data-snippet-id')} ${flavor}`] = text;
        }
        return out;
      }, flavorId),
    );
  }
  expect(copied).toEqual(expected);
});
