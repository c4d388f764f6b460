import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { fillCommand } from '../../scripts/snippets/placeholders.ts';
import { flavorsOf, getSnippet } from '../../scripts/snippets/registry.ts';
import { flavorLabels, type FlavorId } from '../../scripts/snippets/schema.ts';
import { currentIn } from '../../scripts/verify/current.ts';
import { defaultReportPath, findResult, findResults, ReportSchema, type Result } from '../../scripts/verify/report.ts';

/** Whether a result verified its block as the registry defines it now (its fingerprint), as the site decides. */
const isCurrent = currentIn(new URL('../..', import.meta.url).pathname);

const page = '/persistence/where-is-my-data/';
const snippetId = 'config-data-location';

/** The report the site was built from (`npm run verify` writes it before `npm run build`). */
function report() {
  return ReportSchema.parse(JSON.parse(readFileSync(defaultReportPath, 'utf8')));
}

const capitalised = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);

/** What the badge of results that all passed says: each product with its versions (`Redis 7.0.15 · 8.0.2 · Valkey 8.1.1`), and the day of the latest run. */
function passedBadgeText(results: readonly Result[]): string {
  const day = results
    .map((result) => result.verifiedAt)
    .sort()
    .at(-1)
    ?.slice(0, 10);
  const products = [...new Set(results.map((result) => result.engine))];
  const engines = products
    .map(
      (product) =>
        `${capitalised(product)} ${[...new Set(results.filter((result) => result.engine === product).map((result) => result.version))].sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).join(' · ')}`,
    )
    .join(' · ');
  const origins = [
    ...new Set(results.flatMap((result) => (result.flavor === 'docker' && result.imageOrigin ? [result.imageOrigin] : []))),
  ].sort();
  const words: Record<string, string> = {
    official: 'the official images',
    'local-build': 'local image builds',
    override: 'the REDIS_PLAYBOOK_IMAGE image',
  };
  const images = origins.length > 0 ? ` in ${origins.map((origin) => words[origin]).join(' and ')}` : '';
  return `Verified on ${engines}${images} · ${day}`;
}

/** The status a block's badge sums its results of the current command up to: a failure anywhere, else a pass anywhere, else skipped. */
function overallStatus(results: readonly Result[]): Result['status'] {
  return (['failed', 'passed', 'skipped'] as const).find((status) => results.some((result) => result.status === status)) ?? 'skipped';
}

/** Shows a flavor's tab: tabs are synced under one key, so one click switches every block of the page. */
async function showFlavor(tab: import('@playwright/test').Page, flavor: FlavorId): Promise<void> {
  const button = tab.getByRole('tab', { name: flavorLabels[flavor] }).first();
  if ((await button.count()) > 0 && (await button.getAttribute('aria-selected')) !== 'true') await button.click();
}

test.describe('where-is-my-data page', () => {
  test.beforeEach(async ({ page: tab }) => {
    await tab.goto(page);
  });

  test('renders its title', async ({ page: tab }) => {
    await expect(tab.locator('main h1')).toHaveText('Where is my data?');
    await expect(tab).toHaveTitle(/^Where is my data\? \| Redis Playbook$/);
  });

  test('the snippet badge counts the engines that verified it and when, as the report records', async ({ page: tab }) => {
    const results = findResults(report(), snippetId, 'host');
    expect(results.length, `report/verify.json must hold results for ${snippetId} (run npm run verify)`).toBeGreaterThan(0);
    expect(results.map((result) => result.status)).toEqual(results.map(() => 'passed'));
    const badge = tab.locator(`[data-snippet-id="${snippetId}"][data-flavor="host"] [data-verify-status]`);
    await expect(badge).toHaveAttribute('data-verify-status', 'passed');
    // One short line naming the versions: "Verified on Redis 7.0.15 · 8.0.2 · Valkey 8.0.1 · 8.1.1 · <day>".
    await expect(badge).toHaveText(passedBadgeText(results));
  });

  test('"Where it ran" opens from the keyboard and lists each engine\'s version, result, time and duration, and links to the status page', async ({
    page: tab,
  }) => {
    const results = findResults(report(), snippetId, 'host');
    expect(results.length, `report/verify.json must hold results for ${snippetId} (run npm run verify)`).toBeGreaterThan(0);
    await showFlavor(tab, 'host');
    const details = tab.locator(`[data-snippet-id="${snippetId}"][data-flavor="host"] [data-verify-details]`);
    const rows = details.locator('tr[data-engine-id]');
    await expect(details.locator('summary')).toContainText('Where it ran');
    await expect(rows.first()).toBeHidden();
    await details.locator('summary').focus();
    await tab.keyboard.press('Enter');
    await expect(rows).toHaveCount(results.length);
    for (const result of results) {
      const row = details.locator(`tr[data-engine-id="${result.engineId}"]`);
      await expect(row, result.engineId).toBeVisible();
      await expect(row, result.engineId).toHaveAttribute('data-engine-status', result.status);
      await expect(row.locator('th'), result.engineId).toHaveText(`${capitalised(result.engine)} ${result.version}`);
      // The result, and for an engine that ran its own variant of the command, which one (scripts/snippets/variants.ts).
      await expect(row.locator('td').nth(0), result.engineId).toHaveText(
        `${capitalised(result.status)}${result.variant ? `ran the command for ${result.variant}` : ''}`,
      );
      await expect(row.locator('time'), result.engineId).toHaveAttribute('datetime', result.verifiedAt);
      await expect(row.locator('time'), result.engineId).toHaveText(`${result.verifiedAt.slice(0, 16).replace('T', ' ')} UTC`);
      await expect(row.locator('td').nth(2), result.engineId).toHaveText(/^\d+(\.\d)? (ms|s)$|^\d+ min \d+ s$/);
    }
    const link = details.getByRole('link', { name: "This block's rows on the status page" });
    await expect(link).toHaveAttribute('href', `/status/#status-${snippetId}-host`);
    await link.click();
    await expect(tab).toHaveURL(`/status/#status-${snippetId}-host`);
    const row = tab.locator(`#status-${snippetId}-host`);
    await expect(row).toHaveAttribute('data-result-id', snippetId);
    await expect(row).toHaveAttribute('data-result-flavor', 'host');
    await expect(row).toBeInViewport();
  });

  test('every block on the page shows only the badge and output its report result backs', async ({ page: tab }) => {
    expect(await tab.locator('[data-snippet-id]').count()).toBeGreaterThan(0);
    const verification = report();
    for (const flavorId of Object.keys(flavorLabels) as FlavorId[]) {
      await showFlavor(tab, flavorId);
      const blocks = tab.locator(`[data-snippet-id][data-flavor="${flavorId}"]`);
      const count = await blocks.count();
      for (let i = 0; i < count; i++) {
        const block = blocks.nth(i);
        const id = (await block.getAttribute('data-snippet-id')) as string;
        const flavor = (await block.getAttribute('data-flavor')) as string;
        const result = findResult(verification, id, flavor);
        const badge = block.locator('[data-verify-status]');
        const all = findResults(verification, id, flavor);
        const current = all.filter(isCurrent);
        const engines = await block
          .locator('[data-verify-details] tr[data-engine-id]')
          .evaluateAll((rows) => rows.map((row) => `${row.getAttribute('data-engine-id')} ${row.getAttribute('data-engine-status')}`));
        // "Where it ran" lists each engine's result of the current command, whatever their number.
        expect(engines.sort(), id).toEqual(current.map((each) => `${each.engineId} ${each.status}`).sort());
        if (all.length === 0) {
          await expect(badge, id).toHaveText('Not verified');
          continue;
        }
        if (current.length === 0) {
          await expect(badge, id).toHaveText('Not verified (changed since the last run)');
          continue;
        }
        const status = overallStatus(current);
        await expect(badge, id).toHaveAttribute('data-verify-status', status);
        if (status === 'passed') await expect(badge, id).toHaveText(passedBadgeText(current.filter((each) => each.status === 'passed')));
        else await expect(badge, id).not.toContainText('Verified on');
        // A failure anywhere shows in the badge's own text, naming the engine when it is one.
        const failed = current.filter((each) => each.status === 'failed');
        if (failed.length > 0) await expect(badge, id).toContainText(/^Failed on /);
        if (failed.length === 1 && failed[0])
          await expect(badge, id).toContainText(`Failed on ${capitalised(failed[0].engine)} ${failed[0].version}`);
        if (result && isCurrent(result) && result.output.trim() && result.status !== 'skipped') {
          const output = block.locator('details', {
            hasText: 'Recorded output',
          });
          await output.locator('summary').click();
          await expect(output.locator('pre'), id).toHaveText(result.output.trimEnd());
        }
      }
    }
  });

  test('the copy button copies exactly the command the registry verifies', async ({ page: tab, context, baseURL }) => {
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], {
      origin: baseURL as string,
    });
    const expected = fillCommand(getSnippet(snippetId).flavors.host?.command ?? '');
    await showFlavor(tab, 'host');
    const block = tab.locator(`[data-snippet-id="${snippetId}"][data-flavor="host"]`);
    await expect(block).toHaveAttribute('data-command', expected);
    await block.locator('.expressive-code .copy button').first().click();
    await expect.poll(() => tab.evaluate(() => navigator.clipboard.readText())).toBe(expected);
  });

  test('command tabs are synced site-wide under the "flavor" key', async ({ page: tab }) => {
    const tabs = tab.locator(`[data-snippet="${snippetId}"] starlight-tabs`);
    await expect(tabs).toHaveAttribute('data-sync-key', 'flavor');
  });
});

test('the search dialog finds the page by a word of its title', async ({ page: tab }) => {
  await tab.goto('/');
  await tab.locator('site-search button[data-open-modal]').click();
  const dialog = tab.getByRole('dialog');
  await expect(dialog).toBeVisible();
  await dialog.getByRole('textbox', { name: 'Search' }).fill('data');
  await expect(dialog.locator('a.pagefind-ui__result-link[href="/persistence/where-is-my-data/"]')).toHaveText('Where is my data?');
});

test.describe('Docker Compose and Host install tabs', () => {
  const twoFlavors = 'config-data-location';
  const otherPage = '/persistence/snapshot-schedule/';

  /** Every block of the page that has a tab for `flavor` shows that tab, and only its panel. */
  async function expectEveryBlockOn(tab: import('@playwright/test').Page, flavor: FlavorId): Promise<number> {
    const other: FlavorId = flavor === 'docker' ? 'host' : 'docker';
    const blocks = tab
      .locator('[data-snippet]')
      .filter({ has: tab.getByRole('tab', { name: flavorLabels[other] }) })
      .filter({ has: tab.getByRole('tab', { name: flavorLabels[flavor] }) });
    const count = await blocks.count();
    for (let i = 0; i < count; i++) {
      const block = blocks.nth(i);
      const id = (await block.getAttribute('data-snippet')) as string;
      await expect(block.getByRole('tab', { name: flavorLabels[flavor] }), id).toHaveAttribute('aria-selected', 'true');
      await expect(block.getByRole('tab', { name: flavorLabels[other] }), id).toHaveAttribute('aria-selected', 'false');
      await expect(block.locator(`[data-flavor="${flavor}"]`), id).toBeVisible();
      await expect(block.locator(`[data-flavor="${other}"]`), id).toBeHidden();
    }
    return count;
  }

  test('a block with two flavors shows both tabs, each with its own badge from the report', async ({ page: tab }) => {
    await tab.goto(page);
    const snippet = getSnippet(twoFlavors);
    const block = tab.locator(`[data-snippet="${twoFlavors}"]`);
    const flavors = flavorsOf(snippet);
    expect(flavors.map(([id]) => id).sort()).toEqual(['docker', 'host']);
    await expect(block.getByRole('tab')).toHaveText(flavors.map(([id]) => flavorLabels[id]));
    const verification = report();
    for (const [flavorId] of flavors) {
      const result = findResult(verification, twoFlavors, flavorId);
      expect(result?.status, `report/verify.json must hold a passed ${flavorId} result for ${twoFlavors}`).toBe('passed');
      await block.getByRole('tab', { name: flavorLabels[flavorId] }).click();
      const panel = block.locator(`[data-flavor="${flavorId}"]`);
      await expect(panel).toBeVisible();
      const badge = panel.locator('[data-verify-status]');
      const results = findResults(verification, twoFlavors, flavorId).filter(isCurrent);
      await expect(badge).toHaveAttribute('data-verify-status', 'passed');
      await expect(badge).toHaveText(passedBadgeText(results));
      await expect(panel.locator('tr[data-engine-id]')).toHaveCount(results.length);
      const output = panel.locator('details', { hasText: 'Recorded output' });
      await output.locator('summary').click();
      await expect(output.locator('pre')).toHaveText(result?.output.trimEnd() ?? '');
    }
  });

  test('choosing Docker Compose on one block switches every block of the page, and the choice persists on another page', async ({
    page: tab,
  }) => {
    await tab.goto(page);
    // Start from the other tab, so that the switch is seen whatever the default tab is.
    await tab.locator(`[data-snippet="${twoFlavors}"]`).getByRole('tab', { name: flavorLabels.host }).click();
    expect(await expectEveryBlockOn(tab, 'host')).toBeGreaterThan(1);
    // Click it on another block than the first one.
    await tab.locator('[data-snippet="list-data-files"]').getByRole('tab', { name: flavorLabels.docker }).click();
    expect(await expectEveryBlockOn(tab, 'docker')).toBeGreaterThan(1);
    expect(await tab.evaluate(() => localStorage.getItem('starlight-synced-tabs__flavor'))).toBe(flavorLabels.docker);

    await tab.goto(otherPage);
    expect(await expectEveryBlockOn(tab, 'docker')).toBeGreaterThan(1);
    // And back: Host install chosen here is what the first page shows next.
    await tab.locator('[data-snippet="show-save-rules"]').getByRole('tab', { name: flavorLabels.host }).click();
    await tab.goto(page);
    expect(await expectEveryBlockOn(tab, 'host')).toBeGreaterThan(1);
  });

  test('the copy button of the Docker Compose tab copies exactly the Docker command the registry verifies', async ({
    page: tab,
    context,
    baseURL,
  }) => {
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseURL as string });
    await tab.goto(page);
    const command = getSnippet(twoFlavors).flavors.docker?.command;
    expect(command).toBeTruthy();
    const expected = fillCommand(command ?? '', {}, 'docker');
    expect(expected).toMatch(/^docker exec crawler-redis redis-cli /);
    await tab.locator(`[data-snippet="${twoFlavors}"]`).getByRole('tab', { name: flavorLabels.docker }).click();
    const block = tab.locator(`[data-snippet-id="${twoFlavors}"][data-flavor="docker"]`);
    await expect(block).toHaveAttribute('data-command', expected);
    await block.locator('.expressive-code .copy button').first().click();
    await expect.poll(() => tab.evaluate(() => navigator.clipboard.readText())).toBe(expected);
  });
});
