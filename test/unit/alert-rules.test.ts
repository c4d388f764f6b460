import assert from 'node:assert/strict';
import { dirname } from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { requireAll, REQUIRE_ALL_ENV } from '../../scripts/harness/require-all.ts';
import { rulesFile, rulesTestFile, shippedRules } from '../../scripts/harness/prometheus/rules.ts';
import { monitoringUnavailableReason } from '../../scripts/harness/prometheus/stack.ts';

// Without promtool the tests are skipped with the reason, and fail when everything is required (CI).
const missing = monitoringUnavailableReason(['promtool']);
if (missing && requireAll()) throw new Error(`promtool is required (${REQUIRE_ALL_ENV}=1): ${missing}`);
const skip = missing ?? false;

test('promtool check rules accepts the shipped rules file', { skip }, async () => {
  const checked = await execa('promtool', ['check', 'rules', rulesFile], { reject: false });
  assert.equal(checked.exitCode, 0, `${checked.stdout}\n${checked.stderr}`);
  const count = shippedRules().groups.reduce((sum, group) => sum + group.rules.length, 0);
  assert.match(checked.stdout, new RegExp(`SUCCESS: ${count} rules found`));
});

test('promtool test rules: each alert fires after its for: on synthetic series and clears', { skip }, async () => {
  const tested = await execa('promtool', ['test', 'rules', rulesTestFile], { cwd: dirname(rulesTestFile), reject: false });
  assert.equal(tested.exitCode, 0, `${tested.stdout}\n${tested.stderr}`);
  assert.match(tested.stdout, /SUCCESS/);
});

test('every shipped alert is exercised by the promtool tests', async () => {
  const { readFile } = await import('node:fs/promises');
  const tests = await readFile(rulesTestFile, 'utf8');
  for (const rule of shippedRules().groups.flatMap((group) => group.rules)) {
    assert.match(
      tests,
      new RegExp(`alertname: ${rule.alert}\\n\\s+exp_alerts:\\n\\s+- exp_labels`),
      `${rule.alert} has a case where it fires`,
    );
    assert.ok(rule.labels?.severity, `${rule.alert} has a severity`);
  }
});

test("the backup rule reads the CLI's metric by its fixed name", () => {
  const rules = shippedRules().groups.flatMap((group) => group.rules);
  assert.ok(rules.some((rule) => rule.expr.includes('redis_playbook_backup_last_verified_timestamp_seconds')));
});
