import { expect, test, type Locator, type Page } from '@playwright/test';
import { builtPages } from './support/built-site.ts';

/**
 * What works the same on every page, proven once (every-page.spec.ts checks each page's own content
 * and layout): the theme select, the footer's link, search, and the ways in from the home page, at a
 * phone's width too.
 */

const phone = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true } as const;

/** Opens the search dialog and returns it. */
async function openSearch(tab: Page): Promise<Locator> {
  await tab.locator('site-search button[data-open-modal]').click();
  const dialog = tab.getByRole('dialog', { name: 'Search' });
  await expect(dialog).toBeVisible();
  return dialog;
}

/**
 * Searches and returns the result links' paths and the excerpts' text, once every result is shown:
 * Pagefind says how many there are, shows the first few, loads each one's page data, and adds more
 * on "Load more results".
 */
async function search(dialog: Locator, query: string): Promise<{ paths: string[]; excerpts: string }> {
  await dialog.getByRole('textbox', { name: 'Search' }).fill(query);
  const message = dialog.locator('.pagefind-ui__message');
  const escaped = query.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  await expect(message).toHaveText(new RegExp(`^(\\d+ results?|No results) for:? .*${escaped}`), { timeout: 30_000 });
  const total = Number(/^(\d+)/.exec((await message.textContent()) ?? '')?.[1] ?? 0);
  const links = dialog.locator('a.pagefind-ui__result-link');
  // A result shows its link once its data is loaded; its sections' links are inside it.
  const loaded = dialog.locator('li.pagefind-ui__result:has(a.pagefind-ui__result-link)');
  const more = dialog.getByRole('button', { name: 'Load more results' });
  await expect(async () => {
    if (await more.isVisible()) await more.click();
    expect(await loaded.count()).toBe(total);
  }).toPass({ timeout: 30_000 });
  const paths = await links.evaluateAll((all) => all.map((link) => new URL((link as HTMLAnchorElement).href).pathname));
  const excerpts = (await dialog.locator('.pagefind-ui__result-excerpt').allTextContents()).join('\n');
  return { paths, excerpts };
}

test('the theme select switches between light and dark, and the choice persists', async ({ page: tab }) => {
  await tab.goto('/persistence/where-is-my-data/');
  const background = () => tab.evaluate(() => getComputedStyle(document.body).backgroundColor);
  const pick = async (theme: 'light' | 'dark') => {
    await tab.locator('header starlight-theme-select select').selectOption(theme);
    await expect(tab.locator('html')).toHaveAttribute('data-theme', theme);
  };
  await pick('dark');
  const dark = await background();
  await pick('light');
  const light = await background();
  expect(light).not.toBe(dark);
  await tab.reload();
  await expect(tab.locator('html')).toHaveAttribute('data-theme', 'light');
  expect(await background()).toBe(light);
});

test("the footer's link leads to the verification status", async ({ page: tab }) => {
  await tab.goto('/recovery/rollback/');
  await tab.locator('.verify-stamp').getByRole('link', { name: 'Verification status' }).click();
  await expect(tab).toHaveURL(/\/status\/$/);
});

test.describe('search', () => {
  test.describe.configure({ timeout: 120_000 });

  test('finds every page by its title, except the status page', async ({ page: tab }) => {
    await tab.goto('/');
    const dialog = await openSearch(tab);
    for (const page of builtPages()) {
      const { paths } = await search(dialog, page.title);
      if (page.path === '/status/') expect(paths, 'the status page is not indexed').not.toContain(page.path);
      else expect(paths, page.title).toContain(page.path);
    }
  });

  test('finds a command by its text, and quotes the command, not the frame, the badge or the output label', async ({ page: tab }) => {
    await tab.goto('/');
    const dialog = await openSearch(tab);
    const { paths, excerpts } = await search(dialog, 'redis-check-aof');
    expect(paths).toContain('/operations/integrity/');
    expect(excerpts).toContain('redis-check-aof');
    for (const chrome of ['Terminal window', 'Where it ran', 'Recorded output', 'Verified on', 'Your values'])
      expect(excerpts).not.toContain(chrome);
  });

  test('finds no UI chrome and no status row', async ({ page: tab }) => {
    await tab.goto('/');
    const dialog = await openSearch(tab);
    expect((await search(dialog, 'Terminal window')).paths, 'the frame caption of a code block').toEqual([]);
    // A block's id and the engines' versions are the status page's rows: not one result of it.
    for (const query of ['config-data-location', 'Passed 7.0.15'])
      expect((await search(dialog, query)).paths, 'status rows').not.toContain('/status/');
  });
});

for (const [name, use] of [
  ['on a phone', phone],
  ['at desktop width', { viewport: { width: 1400, height: 900 } }],
] as const) {
  test.describe(name, () => {
    test.use(use);

    test('the home page reaches the rollback procedure for an AOF server in two clicks', async ({ page: tab }) => {
      await tab.goto('/');
      await tab
        .locator('main')
        .getByRole('link', { name: /^Roll back to a backup/ })
        .click();
      await expect(tab).toHaveURL(/\/recovery\/rollback\/$/);
      // The fork is on the first screen, before any procedure.
      const fork = tab.locator('main').getByRole('link', { name: 'A server with appendonly yes', exact: true });
      await expect(fork).toBeInViewport();
      await fork.click();
      await expect(tab).toHaveURL(/\/recovery\/rollback\/#a-server-with-appendonly-yes$/);
      await expect(tab.getByRole('heading', { name: 'A server with appendonly yes' })).toBeInViewport();
      await expect(tab.locator('[data-snippet="rollback-cli-aof"]')).toBeAttached();
    });
  });
}

test.describe('on a phone', () => {
  test.use(phone);

  test("the home page's first screen offers the tasks, and its menu reaches every section", async ({ page: tab }) => {
    await tab.goto('/');
    await expect(tab.locator('main').getByRole('link', { name: /^Back up now/ })).toBeInViewport();
    await tab.getByRole('button', { name: 'Menu' }).click();
    const sidebar = tab.locator('#starlight__sidebar');
    for (const section of ['Persistence', 'Recovery', 'Operations', 'Reference'])
      await expect(sidebar.getByText(section, { exact: true }).first()).toBeVisible();
    await expect(sidebar.getByRole('link', { name: 'Verification status' })).toBeVisible();
  });

  test('the "Your setup" button stays in the header and opens the form', async ({ page: tab }) => {
    await tab.goto('/recovery/rollback/');
    const button = tab.locator('header [data-open-setup]:visible');
    await expect(button).toHaveCount(1);
    await expect(button).toBeInViewport();
    await button.click();
    await expect(tab.getByRole('dialog', { name: 'Your setup' })).toBeVisible();
  });
});
