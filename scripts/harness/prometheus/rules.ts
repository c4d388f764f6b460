import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { z } from 'zod';

/** The shipped alerting rules (Prometheus format) and their promtool unit tests. */
export const rulesFile = fileURLToPath(new URL('../../../deploy/prometheus/redis-persistence-rules.yml', import.meta.url));
export const rulesTestFile = fileURLToPath(new URL('../../../deploy/prometheus/redis-persistence-rules.test.yml', import.meta.url));

/** One alerting rule of a Prometheus rules file. */
export const AlertRuleSchema = z.object({
  /** The alert's name (`ALERTS{alertname=…}`). */
  alert: z.string().min(1),
  /** The PromQL expression: every series it returns is an alert. */
  expr: z.string().min(1),
  /** How long the expression must hold before the alert fires (pending until then). */
  for: z.string().optional(),
  /** Labels added to the alert (`severity`). */
  labels: z.record(z.string(), z.string()).optional(),
  /** Text for the receiver (`summary`, `description`). */
  annotations: z.record(z.string(), z.string()).optional(),
});
export type AlertRule = z.infer<typeof AlertRuleSchema>;

/** A Prometheus rules file: groups of alerting rules. */
export const RulesFileSchema = z.object({
  groups: z.array(z.object({ name: z.string().min(1), rules: z.array(AlertRuleSchema).min(1) })).min(1),
});

/** The shipped rules file's text, as the page shows it. */
export const rulesText = readFileSync(rulesFile, 'utf8');

/** The shipped rules, parsed. */
export function shippedRules(): z.infer<typeof RulesFileSchema> {
  return RulesFileSchema.parse(parse(rulesText));
}

/** The rule named `alert` of the shipped file. */
export function shippedRule(alert: string): AlertRule {
  const rule = shippedRules()
    .groups.flatMap((group) => group.rules)
    .find((candidate) => candidate.alert === alert);
  if (!rule) throw new Error(`No alert ${alert} in ${rulesFile}`);
  return rule;
}

/**
 * The shipped rules on redis_exporter's metrics (those on the backup's metric are left out: a drill
 * scrapes no node_exporter) with every `for:` set to `forSeconds`: the same expressions, for a drill of seconds.
 */
export function drillRulesText(forSeconds: number): string {
  const rules = shippedRules();
  for (const group of rules.groups) {
    group.rules = group.rules.filter((rule) => !rule.expr.includes('redis_playbook_'));
    for (const rule of group.rules) rule.for = `${forSeconds}s`;
  }
  return stringify(rules);
}
