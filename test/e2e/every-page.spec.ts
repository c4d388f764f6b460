import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { fillCommand } from '../../scripts/snippets/placeholders.ts';
import { getSnippet } from '../../scripts/snippets/registry.ts';
import { builtPages, collectErrors, flavorIds, showFlavor, verifyReport } from './support/built-site.ts';

/** Picks a theme with Starlight's theme select (in the header at desktop widths). */
async function pickTheme(tab: Page, theme: 'light' | 'dark'): Promise<void> {
  await tab.locator('header starlight-theme-select select').selectOption(theme);
  await expect(tab.locator('html')).toHaveAttribute('data-theme', theme);
}

/** Serious and critical axe violations of what the page shows now, one readable line each. */
async function seriousViolations(tab: Page): Promise<string[]> {
  const { violations } = await new AxeBuilder({ page: tab }).analyze();
  return violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map(
      (violation) =>
        `${violation.impact} ${violation.id}: ${violation.help} — ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`,
    );
}

// Generous: a page has up to a few dozen blocks to click through, and CI machines are busy.
test.describe.configure({ timeout: 120_000 });

for (const page of builtPages()) {
  test.describe(`page ${page.path}`, () => {
    test('renders without console errors, including after the idle-loaded search UI', async ({ page: tab }) => {
      const errors = collectErrors(tab);
      await tab.goto(page.path);
      await tab.waitForLoadState('networkidle');
      await expect(tab.locator('main h1, [data-page-title]').first()).toHaveText(page.title);
      expect(errors).toEqual([]);
    });

    test('the footer links to the verification status and says when the report was made', async ({ page: tab }) => {
      await tab.goto(page.path);
      const stamp = tab.locator('.verify-stamp');
      const report = verifyReport();
      const built = await stamp.locator('time').getAttribute('datetime');
      expect(built, 'report/verify.json changed after the site was built: run npm run build again').toBe(report.generatedAt);
      await expect(stamp.locator('time')).toHaveText(`${report.generatedAt.slice(0, 16).replace('T', ' ')} UTC`);
      await stamp.getByRole('link', { name: 'Verification status' }).click();
      await expect(tab).toHaveURL(/\/status\/$/);
    });

    test('every command block carries a verification badge', async ({ page: tab }) => {
      await tab.goto(page.path);
      const codeBlocks = await tab.locator('main .expressive-code').count();
      const blocks = await tab.locator('main [data-snippet-id][data-flavor]').evaluateAll((elements) =>
        elements.map((block) => ({
          id: `${block.getAttribute('data-snippet-id')} (${block.getAttribute('data-flavor')})`,
          code: block.querySelectorAll('.expressive-code').length,
          badges: [...block.querySelectorAll('[data-verify-status]')].map((badge) => badge.textContent?.trim() ?? ''),
        })),
      );
      expect(codeBlocks, 'code blocks outside <Snippet/> (they would carry no badge)').toBe(blocks.length);
      for (const block of blocks) {
        expect(block.code, block.id).toBe(1);
        expect(block.badges, block.id).toHaveLength(1);
        expect(block.badges[0], block.id).toMatch(
          /^(Verified on .+ · \d{4}-\d{2}-\d{2}|Failed on .+ · \d{4}-\d{2}-\d{2}|Not verified.*)$/,
        );
      }
    });

    if (page.hasSnippets) {
      test('each copy button copies exactly the registry command of the selected flavor', async ({ page: tab, context, baseURL }) => {
        await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseURL as string });
        await tab.goto(page.path);
        let copied = 0;
        for (const flavorId of flavorIds) {
          await showFlavor(tab, flavorId);
          for (const block of await tab.locator(`[data-snippet-id][data-flavor="${flavorId}"]`).all()) {
            if (!(await block.isVisible())) continue;
            const id = (await block.getAttribute('data-snippet-id')) as string;
            const command = getSnippet(id).flavors[flavorId]?.command;
            expect(command, `${id} has a ${flavorId} flavor in the registry`).toBeDefined();
            const expected = fillCommand(command ?? '', {}, flavorId);
            await tab.evaluate(() => navigator.clipboard.writeText(''));
            await block.locator('.expressive-code .copy button').click();
            await expect.poll(() => tab.evaluate(() => navigator.clipboard.readText()), { message: `${id} (${flavorId})` }).toBe(expected);
            copied++;
          }
        }
        expect(copied).toBe(await tab.locator('[data-snippet-id][data-flavor]').count());
      });
    }

    test('the search dialog finds the page by the words of its title', async ({ page: tab }) => {
      await tab.goto(page.path);
      await tab.locator('site-search button[data-open-modal]').click();
      const dialog = tab.getByRole('dialog', { name: 'Search' });
      await expect(dialog).toBeVisible();
      await dialog.getByRole('textbox', { name: 'Search' }).fill(page.title);
      const result = dialog.locator(`a.pagefind-ui__result-link[href="${page.path}"]`);
      const more = dialog.getByRole('button', { name: 'Load more results' });
      // Pagefind loads its index on the first query, then shows the first results with "Load more
      // results" below: the page may rank below them for a common title.
      await expect(async () => {
        if ((await result.count()) === 0 && (await more.isVisible())) await more.click();
        await expect(result).toHaveText(page.title, { timeout: 1_000 });
      }).toPass({ timeout: 30_000 });
    });

    test('the theme select switches between light and dark, and the choice persists', async ({ page: tab }) => {
      await tab.goto(page.path);
      const background = () => tab.evaluate(() => getComputedStyle(document.body).backgroundColor);
      await pickTheme(tab, 'dark');
      const dark = await background();
      await pickTheme(tab, 'light');
      const light = await background();
      expect(light).not.toBe(dark);
      await tab.reload();
      await expect(tab.locator('html')).toHaveAttribute('data-theme', 'light');
      expect(await background()).toBe(light);
    });

    test('no serious or critical accessibility violation (axe) in the light and the dark theme', async ({ page: tab }) => {
      test.setTimeout(240_000); // axe takes tens of seconds on a long page of a busy machine
      await tab.goto(page.path);
      const found: string[] = [];
      for (const [theme, flavor] of [
        ['light', 'host'],
        ['dark', 'docker'],
      ] as const) {
        await pickTheme(tab, theme);
        await showFlavor(tab, flavor);
        // Recorded outputs open, so their text is checked too.
        const closed = tab.locator('main details:not([open]) > summary:visible');
        while ((await closed.count()) > 0) await closed.first().click();
        found.push(...(await seriousViolations(tab)).map((line) => `${theme}, ${flavor}: ${line}`));
      }
      expect(found).toEqual([]);
    });

    test.describe('on a phone', () => {
      test.use({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });

      test('the page does not scroll sideways; long commands scroll or wrap inside their block', async ({ page: tab }) => {
        await tab.goto(page.path);
        for (const flavorId of flavorIds) {
          await showFlavor(tab, flavorId);
          const overflow = await tab.evaluate(() => ({
            scrollWidth: document.scrollingElement?.scrollWidth ?? 0,
            innerWidth: window.innerWidth,
          }));
          expect(overflow.scrollWidth, `document width at ${overflow.innerWidth}px (${flavorId} tabs)`).toBeLessThanOrEqual(
            overflow.innerWidth,
          );
          for (const pre of await tab.locator('main .expressive-code pre').all()) {
            if (!(await pre.isVisible())) continue;
            const box = await pre.evaluate((element) => {
              const rect = element.getBoundingClientRect();
              const style = getComputedStyle(element);
              const code = element.querySelector('code');
              return {
                left: rect.left,
                right: rect.right,
                scrolls: element.scrollWidth > element.clientWidth,
                overflowX: style.overflowX,
                fontSize: Number.parseFloat(getComputedStyle(code ?? element).fontSize),
              };
            });
            expect(box.left).toBeGreaterThanOrEqual(0);
            expect(box.right).toBeLessThanOrEqual(360);
            if (box.scrolls) expect(['auto', 'scroll']).toContain(box.overflowX);
            expect(box.fontSize, 'code stays readable').toBeGreaterThanOrEqual(12);
          }
        }
      });
    });
  });
}
