import { expect, test } from '@playwright/test';
import { currentIn } from '../../scripts/verify/current.ts';
import { findResults, type Result } from '../../scripts/verify/report.ts';
import { builtPages, verifyReport } from './support/built-site.ts';

/** Whether a result verified its block as the registry defines it now (its fingerprint), as the site decides. */
const isCurrent = currentIn(new URL('../..', import.meta.url).pathname);

/** What a block flavor's badge must say of its current results: a failure anywhere, else a pass anywhere, else skipped; none: unverified. */
function expectedStatus(results: readonly Result[]): string {
  if (results.length === 0) return 'unverified';
  return (['failed', 'passed', 'skipped'] as const).find((status) => results.some((result) => result.status === status)) ?? 'skipped';
}

/** Claims no page may make: the command blocks are run, not every command named in the text. */
const OVERCLAIMS = [/\bevery command(?! block)[^.]*\b(was|were|is|are|has been|have been)\s+(run|verified|proven|tested)\b/i];

test.describe.configure({ timeout: 120_000 });

for (const page of builtPages()) {
  test(`${page.path}: every code block is a verified snippet or marked "not verified here", and the badges follow the report`, async ({
    page: tab,
  }) => {
    await tab.goto(page.path);
    // Every code block the page shows: inside a command block of the registry or a "not verified here" marker.
    const outside = await tab
      .locator('main .expressive-code')
      .evaluateAll((blocks) =>
        blocks
          .filter((block) => !block.closest('[data-snippet-id]') && !block.closest('[data-not-verified]'))
          .map((block) => block.textContent.slice(0, 80)),
      );
    expect(outside, 'code blocks that are neither a <Snippet/> nor marked not verified').toEqual([]);

    // Each command block against the report: its badge says what its current results (same fingerprint) say.
    const report = verifyReport();
    const blocks = await tab.locator('[data-snippet-id][data-flavor]').evaluateAll((elements) =>
      elements.map((element) => ({
        id: element.getAttribute('data-snippet-id') ?? '',
        flavor: element.getAttribute('data-flavor') ?? '',
        status: element.querySelector('[data-verify-status]')?.getAttribute('data-verify-status'),
        text: element.querySelector('[data-verify-status]')?.textContent.trim(),
      })),
    );
    for (const block of blocks) {
      const current = findResults(report, block.id, block.flavor).filter(isCurrent);
      const what = `${block.id} (${block.flavor})`;
      expect(block.status, what).toBe(expectedStatus(current));
      // A passed badge names the version of every engine that passed.
      if (block.status === 'passed')
        for (const result of current.filter((each) => each.status === 'passed')) expect(block.text, what).toContain(result.version);
    }

    // Each "not verified here" marker is visible and says why.
    const markers = await tab.locator('main [data-not-verified]').evaluateAll((elements) =>
      elements.map((element) => ({
        reason: element.getAttribute('data-not-verified') ?? '',
        text: (element as HTMLElement).innerText,
        code: element.querySelector('code')?.textContent,
      })),
    );
    for (const marker of markers) {
      expect(marker.reason.trim(), marker.code).not.toBe('');
      expect(marker.text.toLowerCase(), marker.code).toContain(`not verified here: ${marker.reason}`.toLowerCase());
      expect(marker.code, 'a marker holds the command it marks').not.toBe('');
    }

    // Numbers a verification measured are rendered from the report: present exactly when a current passed result recorded them.
    const numbers = await tab.locator('main [data-measured]').evaluateAll((elements) =>
      elements.map((element) => ({
        key: element.getAttribute('data-measured') ?? '',
        flavor: element.getAttribute('data-measured-flavor') === 'docker' ? ('docker' as const) : ('host' as const),
        missing: element.hasAttribute('data-measured-missing'),
        text: element.textContent,
      })),
    );
    for (const number of numbers) {
      const [id = '', ...name] = number.key.split(' ');
      const recorded = findResults(report, id, number.flavor).filter(
        (result) => result.status === 'passed' && isCurrent(result) && result.measurements?.[name.join(' ')] !== undefined,
      );
      expect(number.missing, number.key).toBe(recorded.length === 0);
      if (!number.missing) expect(number.text, number.key).toMatch(/\d/);
    }

    const text = await tab.locator('main').innerText();
    for (const claim of OVERCLAIMS) expect(text, `${page.path} claims more than was run`).not.toMatch(claim);
  });
}

// The quick reference renders each block as <Snippet reference />: the page test above checks its badges
// against the report like any page's.
