import { loadReportSync, type Report } from '../../scripts/verify/report.ts';

/** The verification report the site is built from (`undefined` when `npm run verify` has not run). */
export function siteReport(): Report | undefined {
  return loadReportSync(__VERIFY_REPORT_PATH__);
}
