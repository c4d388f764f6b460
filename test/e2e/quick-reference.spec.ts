import { expect, test } from '@playwright/test';
import { fillCommand } from '../../scripts/snippets/placeholders.ts';
import { flavorsOf, registry } from '../../scripts/snippets/registry.ts';

test('the quick-reference card has a row for every command block, linked to its page, with the registry text', async ({ page }) => {
  await page.goto('/reference/quick-reference/');
  const rows = page.locator('[data-quick-reference-row]');
  await expect(rows).toHaveCount(registry.size);
  for (const snippet of registry.values()) {
    const row = page.locator(`[data-quick-reference-row="${snippet.id}"]`);
    await expect(row.locator('th a')).toHaveAttribute('href', `/${snippet.page}/`);
    await expect(row.locator('th a')).toHaveText(snippet.title);
    for (const [flavorId, flavor] of flavorsOf(snippet)) {
      const command = fillCommand(flavor.command, {}, flavorId);
      if (!command.includes('\n')) await expect(row.locator('code', { hasText: command }).first()).toHaveText(command);
    }
  }
});
