import { currentIn } from '../../scripts/verify/current.ts';
import { loadReportSync, type Report } from '../../scripts/verify/report.ts';

/** The verification report the site is built from (`undefined` when `npm run verify` has not run). */
export function siteReport(): Report | undefined {
  return loadReportSync(__VERIFY_REPORT_PATH__);
}

/** Whether a report result verified its block as the registry defines it now (scripts/verify/current.ts). */
export const isCurrent = currentIn(__PROJECT_ROOT__);
