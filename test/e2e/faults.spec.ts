import { expect, test } from '@playwright/test';
import { loadFaultRows } from '../../scripts/faults/results.ts';

test('the Faults tried page lists every recorded fault case, none with data lost', async ({ page: tab }) => {
  const rows = loadFaultRows();
  await tab.goto('/reference/faults-tried/');
  if (rows.length === 0) {
    await expect(tab.locator('[data-faults-empty]')).toBeVisible();
    return;
  }
  await expect(tab.locator('tr[data-fault-id]')).toHaveCount(rows.length);
  await expect(tab.locator('[data-faults-summary]')).toContainText(`${rows.length} faults tried, data lost in none`);
  for (const row of rows) {
    const cells = tab.locator(`tr[data-fault-id="${row.id}"] td`);
    await expect(cells.nth(0)).toHaveText(row.fault);
    await expect(cells.nth(1)).toHaveText(row.outcome);
    await expect(cells.nth(2)).toHaveText(row.exitCode === null ? '—' : String(row.exitCode));
    await expect(cells.nth(3)).toHaveText('none');
  }
  await expect(tab.locator('tr[data-fault-stale="true"]')).toHaveCount(rows.filter((row) => row.stale).length);
});
