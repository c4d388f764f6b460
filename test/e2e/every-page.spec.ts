import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { fillCommand } from '../../scripts/snippets/placeholders.ts';
import { getSnippet } from '../../scripts/snippets/registry.ts';
import { builtPages, collectErrors, flavorIds, showFlavor, verifyReport } from './support/built-site.ts';

/**
 * Every page at a phone's width and a desktop's, one test each: it loads without errors, its layout
 * holds (from element geometry), every block carries a badge and copies the registry's command, a
 * full-page screenshot is kept (test-results/), and axe finds nothing serious. What works the same
 * on every page (the copy mechanism, the theme select, search, the footer link) is proven once, in
 * site-wide.spec.ts, instead of once per page.
 */

/** The two widths every page is checked at, with the theme and the flavor axe checks there. */
const widths = [
  { name: 'phone', width: 390, height: 844, theme: 'dark', flavor: 'docker', mobile: true },
  { name: 'desktop', width: 1400, height: 900, theme: 'light', flavor: 'host', mobile: false },
] as const;

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

/**
 * What is wrong with the layout as shown now, one line each, measured in the page:
 * - the page scrolls sideways;
 * - an element of the header or main sticks out of the viewport, unless it is inside something that
 *   scrolls (a wide table or code block scrolls in its own box; that box itself must fit);
 * - a table cell's content is cut (wider than the cell), or the cell is cut by a box that clips;
 * - a line of code wraps (a token split over two lines): code lines never wrap, they scroll;
 * - a block's controls: at desktop widths one line; on a phone "Your values" and "Recorded output"
 *   stay together, never one alone on a line (`open`: disclosures are open, each on lines of its own).
 */
/** How a block's controls are checked: one line (desktop), actions together (phone), not at all (open: disclosures open). */
type Controls = 'desktop' | 'phone' | 'open';

function layoutProblems(controls: Controls): string[] {
  const desktop = controls === 'desktop';
  const problems: string[] = [];
  const width = window.innerWidth;
  const name = (element: Element) => {
    const id = element.id ? `#${element.id}` : '';
    const cls = typeof element.className === 'string' && element.className ? `.${element.className.trim().split(/\s+/).join('.')}` : '';
    const text = element.textContent.trim().replace(/\s+/g, ' ').slice(0, 40);
    return `<${element.tagName.toLowerCase()}${id}${cls}> "${text}"`;
  };
  const scrolls = (element: Element) => ['auto', 'scroll'].includes(getComputedStyle(element).overflowX);
  const clips = (element: Element) => ['hidden', 'clip'].includes(getComputedStyle(element).overflowX);
  const shown = (element: Element) => {
    const rect = element.getBoundingClientRect();
    return rect.width > 1 && rect.height > 1 && getComputedStyle(element).visibility !== 'hidden';
  };
  const page = document.scrollingElement ?? document.documentElement;
  if (page.scrollWidth > width) problems.push(`the page is ${page.scrollWidth}px wide in a ${width}px viewport`);

  for (const element of document.querySelectorAll('header *, main *')) {
    if (!shown(element) || element.closest('.sr-only')) continue;
    let inScroller = false;
    for (let up = element.parentElement; up && up !== document.body; up = up.parentElement) if (scrolls(up)) inScroller = true;
    if (inScroller) continue;
    const rect = element.getBoundingClientRect();
    if (rect.left < -1 || rect.right > width + 1)
      problems.push(`${name(element)} spans ${Math.round(rect.left)}–${Math.round(rect.right)}px of a ${width}px viewport`);
  }

  for (const cell of document.querySelectorAll('main :is(th, td)')) {
    if (!shown(cell)) continue;
    if (cell.scrollWidth > cell.clientWidth + 1)
      problems.push(`table cell ${name(cell)}: its content is ${cell.scrollWidth}px in ${cell.clientWidth}px`);
    const rect = cell.getBoundingClientRect();
    for (let up = cell.parentElement; up && up !== document.body; up = up.parentElement) {
      if (scrolls(up)) break;
      if (!clips(up)) continue;
      const box = up.getBoundingClientRect();
      if (rect.left < box.left - 1 || rect.right > box.right + 1) problems.push(`table cell ${name(cell)} is cut by ${name(up)}`);
    }
  }

  for (const line of document.querySelectorAll('main .expressive-code .ec-line')) {
    if (!shown(line)) continue;
    const lineHeight = Number.parseFloat(getComputedStyle(line.querySelector('.code') ?? line).lineHeight);
    if (line.getBoundingClientRect().height > lineHeight * 1.5) problems.push(`code line wraps: ${name(line)}`);
  }

  for (const status of controls === 'open' ? [] : document.querySelectorAll('main .snippet-status')) {
    if (!shown(status)) continue;
    const tops = (elements: Iterable<Element>) => [...elements].filter(shown).map((element) => element.getBoundingClientRect().top);
    const oneLine = (values: number[]) => values.length === 0 || Math.max(...values) - Math.min(...values) < 12;
    const block = status.closest('[data-snippet-id]')?.getAttribute('data-snippet-id');
    const controls = tops(status.querySelectorAll(':scope > *, :scope > .snippet-actions > *'));
    if (desktop && !oneLine(controls)) problems.push(`${block}: the controls take more than one line`);
    if (!oneLine(tops(status.querySelectorAll(':scope > .snippet-actions > *'))))
      problems.push(`${block}: "Your values" and "Recorded output" are on separate lines`);
  }
  return problems;
}

// Generous: axe takes tens of seconds on a long page of a busy machine.
test.describe.configure({ timeout: 240_000 });

for (const page of builtPages()) {
  for (const view of widths) {
    test.describe(`${page.path} at ${view.width}px`, () => {
      test.use({
        viewport: { width: view.width, height: view.height },
        isMobile: view.mobile,
        hasTouch: view.mobile,
      });

      test('loads without errors, lays out without overflow or clipping, badges and copies every block, axe finds nothing serious', async ({
        page: tab,
      }, testInfo) => {
        await tab.addInitScript((theme) => {
          localStorage.setItem('starlight-theme', theme);
        }, view.theme);
        const errors = collectErrors(tab);
        await tab.goto(page.path);
        await tab.waitForLoadState('networkidle');
        await expect(tab.locator('html')).toHaveAttribute('data-theme', view.theme);
        await expect(tab.locator('main h1, [data-page-title]').first()).toHaveText(page.title);

        // The footer says which report the site was built from (its link is followed in site-wide.spec.ts).
        const report = verifyReport();
        const stamp = tab.locator('.verify-stamp time');
        expect(await stamp.getAttribute('datetime'), 'report/verify.json changed after the site was built: run npm run build again').toBe(
          report.generatedAt,
        );
        await expect(stamp).toHaveText(`${report.generatedAt.slice(0, 16).replace('T', ' ')} UTC`);

        // Every code block is a registry block with one badge, and its copy button holds exactly the registry's command.
        // (A command marked "not verified here" is a code block of its own, in its marker: provenance.spec.ts checks those.)
        const codeBlocks = await tab
          .locator('main .expressive-code')
          .evaluateAll((blocks) => blocks.filter((block) => !block.closest('[data-not-verified]')).length);
        const blocks = await tab.locator('main [data-snippet-id][data-flavor]').evaluateAll((elements) =>
          elements.map((block) => ({
            id: block.getAttribute('data-snippet-id') ?? '',
            flavor: block.getAttribute('data-flavor') ?? '',
            code: block.querySelectorAll('.expressive-code').length,
            badges: [...block.querySelectorAll('[data-verify-status]')].map((badge) => badge.textContent.trim()),
            copies: [...block.querySelectorAll('.expressive-code .copy button')].map((button) =>
              button.getAttribute('data-code')?.replaceAll('\u007f', '\n'),
            ),
          })),
        );
        expect(codeBlocks, 'code blocks outside <Snippet/> (they would carry no badge)').toBe(
          blocks.reduce((sum, block) => sum + block.code, 0),
        );
        for (const block of blocks) {
          const label = `${block.id} (${block.flavor})`;
          expect(block.badges, label).toHaveLength(1);
          expect(block.badges[0], label).toMatch(/^(Verified on .+ · \d{4}-\d{2}-\d{2}|Failed on .+ · \d{4}-\d{2}-\d{2}|Not verified.*)$/);
          const flavorId = block.flavor as (typeof flavorIds)[number];
          const flavor = getSnippet(block.id).flavors[flavorId];
          expect(flavor, `${label} is in the registry`).toBeDefined();
          // The main command, then each engine's variant (scripts/snippets/variants.ts): one code block each, copying exactly its text.
          const commands = [
            flavor?.command ?? '',
            ...(flavor?.variants ?? []).flatMap((variant) => (variant.command === undefined ? [] : [variant.command])),
          ];
          expect(block.code, label).toBe(commands.length);
          expect(block.copies, `${label} copies`).toEqual(commands.map((command) => fillCommand(command, {}, flavorId)));
        }

        // Layout in each flavor's tabs, closed; the screenshot shows the page as a reader first sees it.
        for (const flavor of [...flavorIds].reverse()) {
          await showFlavor(tab, flavor);
          expect(await tab.evaluate<string[], Controls>(layoutProblems, view.mobile ? 'phone' : 'desktop'), `${flavor} tabs`).toEqual([]);
        }
        await tab.screenshot({ path: testInfo.outputPath(`${view.name}-${view.width}.png`), fullPage: true });

        // Everything open (badge details, recorded outputs): the layout holds, and axe checks that text too.
        // (A fresh load: a full-page screenshot resizes the viewport, which Expressive Code's observers react to late.)
        await tab.reload();
        await showFlavor(tab, view.flavor);
        const closed = tab.locator('main details:not([open]) > summary:visible');
        while ((await closed.count()) > 0) await closed.first().click();
        expect(await tab.evaluate<string[], Controls>(layoutProblems, 'open'), 'details open').toEqual([]);
        // Expressive Code makes a code block that scrolls focusable once its resize observer has run (debounced, when idle).
        await expect
          .poll(
            () =>
              tab
                .locator('main .expressive-code pre:visible')
                .evaluateAll((pres) => pres.filter((pre) => pre.scrollWidth > pre.clientWidth && !pre.hasAttribute('tabindex')).length),
            { timeout: 20_000 },
          )
          .toBe(0);
        expect(await seriousViolations(tab), `${view.theme} theme, ${view.flavor} tabs`).toEqual([]);
        expect(errors).toEqual([]);
      });
    });
  }
}
