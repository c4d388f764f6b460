import { expect, test } from '@playwright/test';
import { flavorLabels } from '../../scripts/snippets/schema.ts';
import { verifyReport } from './support/built-site.ts';

const capitalised = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);
const rank = { failed: 0, skipped: 1, passed: 2 } as const;

test.describe('verification status page', () => {
  test.beforeEach(async ({ page: tab }) => {
    await tab.goto('/status/');
    const built = await tab.locator('[data-status-counts] time').getAttribute('datetime');
    expect(built, 'report/verify.json changed after the site was built: run npm run build again').toBe(verifyReport().generatedAt);
  });

  test("its counts equal the report's", async ({ page: tab }) => {
    const { results } = verifyReport();
    const count = (status: string) => results.filter((result) => result.status === status).length;
    const counts = tab.locator('[data-status-counts]');
    await expect(counts).toHaveAttribute('data-total', String(results.length));
    await expect(counts).toHaveAttribute('data-passed', String(count('passed')));
    await expect(counts).toHaveAttribute('data-failed', String(count('failed')));
    await expect(counts).toHaveAttribute('data-skipped', String(count('skipped')));
    await expect(counts).toContainText(
      `${results.length} results, ${count('passed')} passed, ${count('failed')} failed, ${count('skipped')} skipped.`,
    );
    await expect(tab.locator('tr[data-status-row]')).toHaveCount(results.length);
    for (const status of ['passed', 'failed', 'skipped'])
      await expect(tab.locator(`tr[data-status-row="${status}"]`)).toHaveCount(count(status));
  });

  test('lists failures first, then skipped checks, then passed ones', async ({ page: tab }) => {
    const statuses = (await tab
      .locator('tr[data-status-row]')
      .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-status-row')))) as (keyof typeof rank)[];
    const sorted = [...statuses].sort((a, b) => rank[a] - rank[b]);
    expect(statuses).toEqual(sorted);
  });

  test('each row shows the id, page link, flavor, engine and version, result, duration and time of its result', async ({ page: tab }) => {
    const rows = await tab.locator('tr[data-status-row]').evaluateAll((elements) =>
      elements.map((row) => {
        const cells = [...row.querySelectorAll('td')];
        const text = (index: number) => cells[index]?.textContent.replace(/\s+/g, ' ').trim() ?? '';
        return {
          key: `${row.getAttribute('data-result-id')} ${row.getAttribute('data-result-flavor')} ${row.getAttribute('data-result-engine')}`,
          cells: [0, 1, 2, 3, 4, 5].map(text),
          href: cells[1]?.querySelector('a')?.getAttribute('href') ?? null,
          time: cells[6]?.querySelector('time')?.getAttribute('datetime') ?? null,
        };
      }),
    );
    const byKey = new Map(rows.map((row) => [row.key, row]));
    for (const result of verifyReport().results) {
      const row = byKey.get(`${result.id} ${result.flavor} ${result.engineId}`);
      const what = `${result.id} (${result.flavor}, ${result.engineId})`;
      expect(row, what).toBeDefined();
      if (!row) continue;
      const [id, page, flavor, engine, status, duration] = row.cells;
      expect(id, what).toBe(result.id);
      expect(page, what).toBe(result.page);
      expect(row.href, what).toMatch(new RegExp(`^/${result.page}/(#snippet-${result.id})?$`));
      expect(flavor, what).toBe(flavorLabels[result.flavor]);
      expect(engine, what).toMatch(new RegExp(`^${capitalised(result.engine)} ${result.version.replace(/\./g, '\\.')}(\\s|$)`));
      // A Docker result names its image (official or a local build, of what), its image ID and the Compose version.
      if (result.image) expect(engine, what).toContain(result.image);
      if (result.imageOrigin)
        expect(engine, what).toContain(
          result.imageOrigin === 'official'
            ? `official ${result.image}`
            : result.imageOrigin === 'local-build'
              ? 'local build'
              : (result.image ?? ''),
        );
      if (result.imageId) expect(engine, what).toContain(`image ID ${result.imageId.replace(/^sha256:/, '').slice(0, 12)}`);
      if (result.compose) expect(engine, what).toContain(`Compose ${result.compose}`);
      if (result.flavor === 'docker')
        expect(result.image, what).toMatch(/^(redis-playbook\/redis:(\d|valkey-\d)|redis:\d|valkey\/valkey:\d)/);
      expect(status, what).toContain(capitalised(result.status));
      expect(duration, what).toMatch(/^\d+(\.\d)? (ms|s)$|^\d+ min \d+ s$/);
      expect(row.time, what).toBe(result.verifiedAt);
    }
  });

  test('the first row of each block flavor, its worst result, carries the anchor its "Where it ran" links to', async ({ page: tab }) => {
    const rows = await tab.locator('tr[data-status-row]').evaluateAll((elements) =>
      elements.map((row) => ({
        anchor: row.id,
        block: `${row.getAttribute('data-result-id')}-${row.getAttribute('data-result-flavor')}`,
        status: row.getAttribute('data-status-row') as keyof typeof rank,
      })),
    );
    const results = verifyReport().results;
    const blocks = new Set(results.map((result) => `${result.id}-${result.flavor}`));
    expect(
      rows
        .filter((row) => row.anchor)
        .map((row) => row.anchor)
        .sort(),
    ).toEqual([...blocks].map((block) => `status-${block}`).sort());
    for (const block of blocks) {
      const first = rows.find((row) => row.block === block);
      expect(first?.anchor, block).toBe(`status-${block}`);
      const worst = Math.min(...results.filter((result) => `${result.id}-${result.flavor}` === block).map((result) => rank[result.status]));
      expect(first && rank[first.status], block).toBe(worst);
    }
  });

  test("a row's page link leads to its command block", async ({ page: tab }) => {
    const link = tab.locator('tr[data-status-row] td:nth-child(2) a[href*="#snippet-"]').first();
    const href = (await link.getAttribute('href')) as string;
    await link.click();
    await expect(tab).toHaveURL(href);
    await expect(tab.locator(`#${href.split('#')[1]}`)).toBeInViewport();
  });
});
