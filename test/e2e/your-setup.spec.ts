import { expect, test, type Locator, type Page } from '@playwright/test';
import { fillCommand, placeholderNames, placeholders } from '../../scripts/snippets/placeholders.ts';
import { getSnippet } from '../../scripts/snippets/registry.ts';
import { builtPages, flavorIds, showFlavor } from './support/built-site.ts';

/** A reader's values with dashes, dots, spaces and a quote, so that quoting shows. */
const mine: Record<string, string> = {
  host: 'redis-01.internal.example',
  port: '6380',
  dataDir: '/srv/redis data/v7.0',
  backupDir: '/mnt/nightly backups/redis-7',
  backup: '/mnt/nightly backups/redis-7/2026-12-01T03-00-00Z',
  checkout: '/opt/redis playbook',
  backupLog: '/var/log/redis-backup.v2.log',
  configFile: '/etc/redis/my redis.conf',
  logFile: "/var/log/redis/o'brien server.log",
  scratchPort: '7001',
  scratchDir: '/tmp/drill dir-1.2',
  container: 'shop-cache.redis-1',
  service: 'cache-primary',
  volume: 'shop_cache-data.v2',
  project: 'shop-2.prod',
  image: 'redis:7.2-alpine',
};
/** Every placeholder gets a value, including ones added after this test was written. */
const values = Object.fromEntries(placeholderNames.map((name) => [name, mine[name] ?? `${placeholders[name].default}-mine 1.0`]));

// The quick reference shows the pages' blocks again: quick-reference.spec.ts copies each of them with a reader's values.
const snippetPages = builtPages().filter((page) => page.hasSnippets && page.path !== '/reference/quick-reference/');

async function openSetup(tab: Page): Promise<Locator> {
  await tab.locator('header .setup-open').click();
  const dialog = tab.getByRole('dialog', { name: 'Your setup' });
  await expect(dialog).toBeVisible();
  return dialog;
}

async function enter(tab: Page, entered: Record<string, string>): Promise<void> {
  const dialog = await openSetup(tab);
  for (const [name, value] of Object.entries(entered)) await dialog.locator(`input[name="${name}"]`).fill(value);
  await dialog.getByRole('button', { name: 'Done' }).click();
  await expect(dialog).toBeHidden();
}

/** The command a block shows: its lines, joined (a file's final line break is not shown as an empty line). */
const shownCommand = (block: Locator) =>
  block
    .locator('.expressive-code pre > code')
    .first()
    .evaluate((code) => [...code.querySelectorAll('.ec-line')].map((line) => line.textContent).join('\n'));

async function copied(tab: Page, block: Locator): Promise<string> {
  await tab.evaluate(() => navigator.clipboard.writeText(''));
  await block.locator('.expressive-code .copy button').first().click();
  let text = '';
  await expect
    .poll(async () => {
      text = await tab.evaluate(() => navigator.clipboard.readText());
      return text;
    })
    .not.toBe('');
  return text;
}

/** Checks what every block of the page shows and copies, in every flavor, against `fillCommand(command, entered, flavor)`. */
async function expectCommands(tab: Page, entered: Record<string, string>): Promise<number> {
  let checked = 0;
  for (const flavorId of flavorIds) {
    await showFlavor(tab, flavorId);
    for (const block of await tab.locator(`[data-snippet-id][data-flavor="${flavorId}"]`).all()) {
      if (!(await block.isVisible())) continue;
      const id = (await block.getAttribute('data-snippet-id')) as string;
      const expected = fillCommand(getSnippet(id).flavors[flavorId]?.command ?? '', entered, flavorId);
      expect(await shownCommand(block), `${id} (${flavorId}) shows`).toBe(expected.replace(/\n+$/, ''));
      expect(await copied(tab, block), `${id} (${flavorId}) copies`).toBe(expected);
      checked++;
    }
  }
  return checked;
}

test.describe('Your setup', () => {
  test.describe.configure({ timeout: 120_000 });

  test.beforeEach(async ({ context, baseURL }) => {
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseURL as string });
  });

  test("every command on the site shows and copies the reader's values, shell-quoted, after each page load", async ({ page: tab }) => {
    test.setTimeout(300_000);
    const first = snippetPages[0];
    expect(first, 'the site has pages with command blocks').toBeDefined();
    await tab.goto(first?.path ?? '/');
    await enter(tab, values);
    let checked = 0;
    let blocks = 0;
    for (const page of snippetPages) {
      await tab.goto(page.path);
      blocks += await tab.locator('[data-snippet-id][data-flavor]').count();
      checked += await expectCommands(tab, values);
    }
    expect(checked, 'every block of every page was checked').toBe(blocks);
  });

  test('values persist across a page load, in the commands and in the form', async ({ page: tab }) => {
    const page = snippetPages.find((candidate) => candidate.path.includes('where-is-my-data')) ?? snippetPages[0];
    await tab.goto(page?.path ?? '/');
    const entered = { container: 'my-app.redis 2', port: '6390', dataDir: '/srv/redis data' };
    await enter(tab, entered);
    await tab.reload();
    await expectCommands(tab, entered);
    const dialog = await openSetup(tab);
    for (const [name, value] of Object.entries(entered)) await expect(dialog.locator(`input[name="${name}"]`)).toHaveValue(value);
    await expect(dialog.locator('input[name="host"]')).toHaveValue('');
    await expect(tab.locator('header .setup-open')).toHaveText(`Your setup (${Object.keys(entered).length})`);
  });

  test('reset returns every command to the documented defaults, and they stay after a reload', async ({ page: tab }) => {
    const page = snippetPages[0];
    await tab.goto(page?.path ?? '/');
    await enter(tab, { container: 'my-app.redis 2', host: 'cache.example', dataDir: '/srv/redis data' });
    const dialog = await openSetup(tab);
    await dialog.getByRole('button', { name: 'Reset to defaults' }).click();
    for (const input of await dialog.locator('input[name]').all()) await expect(input).toHaveValue('');
    await dialog.getByRole('button', { name: 'Done' }).click();
    await expectCommands(tab, {});
    expect(await tab.evaluate(() => localStorage.getItem('redis-playbook:setup'))).toBeNull();
    await tab.reload();
    await expectCommands(tab, {});
    await expect(tab.locator('header .setup-open')).toHaveText('Your setup');
  });

  test('a block\'s "Your values" button opens the form at the block\'s first placeholder', async ({ page: tab }) => {
    await tab.goto(snippetPages[0]?.path ?? '/');
    const button = tab.locator('[data-snippet-id] .snippet-setup:visible').first();
    const first = ((await button.getAttribute('data-open-setup')) ?? '').split(' ')[0];
    await button.click();
    const dialog = tab.getByRole('dialog', { name: 'Your setup' });
    await expect(dialog).toBeVisible();
    await expect(dialog.locator(`input[name="${first}"]`)).toBeFocused();
    await tab.keyboard.press('Escape');
    await expect(dialog).toBeHidden();
  });
});
