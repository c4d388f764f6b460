import { fingerprint } from '../../scripts/snippets/fingerprint.ts';
import { registry } from '../../scripts/snippets/registry.ts';
import { loadReportSync, type Report, type Result } from '../../scripts/verify/report.ts';

/** The verification report the site is built from (`undefined` when `npm run verify` has not run). */
export function siteReport(): Report | undefined {
  return loadReportSync(__VERIFY_REPORT_PATH__);
}

const fingerprints = new Map<string, string | undefined>();

/**
 * Whether a report result verified its block as the registry defines it now: same fingerprint (command,
 * config, placeholder values, setup/verify code and the modules it uses, engine). A result without one
 * (a report written before fingerprints) is not current.
 */
export function isCurrent(result: Result): boolean {
  const key = `${result.id}\u0000${result.flavor}\u0000${result.engineId}`;
  if (!fingerprints.has(key)) {
    const snippet = registry.get(result.id);
    const flavor = snippet?.flavors[result.flavor];
    fingerprints.set(key, snippet && flavor ? fingerprint(snippet, result.flavor, flavor, result.engineId, __PROJECT_ROOT__) : undefined);
  }
  const now = fingerprints.get(key);
  return now !== undefined && result.fingerprint === now;
}
