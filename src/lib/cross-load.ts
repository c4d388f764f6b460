import { parseCrossLoad, type CrossLoadTable } from '../../scripts/data/cross-load.ts';
import { HOST_ENGINE_ID, findResults, type Report, type Result } from '../../scripts/data/report.ts';

/** The snippet whose verification measures which server loads which RDB. */
export const CROSS_LOAD_SNIPPET = 'versions-rdb-check';

/** What the cross-load table shows: the measured table and the run it comes from, or why there is none. */
export type CrossLoadView = { kind: 'table'; table: CrossLoadTable; result: Result } | { kind: 'unverified'; reason: string };

/**
 * The cross-load table from a verification report: parsed from the recorded output of a passed run
 * of the snippet as it is now (`current`: its fingerprint is the registry's), the host engine's run first.
 * Never typed by hand: without such a run the view says why.
 */
export function crossLoadView(report: Report | undefined, current: (result: Result) => boolean, id = CROSS_LOAD_SNIPPET): CrossLoadView {
  if (!report) return { kind: 'unverified', reason: 'no verification report yet (npm run verify)' };
  const results = findResults(report, id, 'host');
  if (results.length === 0) return { kind: 'unverified', reason: `the report has no result for ${id}` };
  const fresh = results.filter(current);
  if (fresh.length === 0) return { kind: 'unverified', reason: `the report verified an older definition of ${id}` };
  const passed = fresh
    .filter((result) => result.status === 'passed')
    .sort((a, b) => Number(b.engineId === HOST_ENGINE_ID) - Number(a.engineId === HOST_ENGINE_ID));
  const [result] = passed;
  if (!result) return { kind: 'unverified', reason: `the last verification of ${id} did not pass` };
  const table = parseCrossLoad(result.output);
  if (!table) return { kind: 'unverified', reason: `the recorded output of ${id} has no complete table` };
  return { kind: 'table', table, result };
}
