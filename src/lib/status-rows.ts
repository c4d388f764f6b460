import type { Report, Result } from '../../scripts/data/report.ts';

/** The order of results on the status page: what needs attention first. */
export const statusOrder: Record<Result['status'], number> = { failed: 0, skipped: 1, passed: 2 };

/** Labels of the result column. */
export const statusLabels: Record<Result['status'], string> = { failed: 'Failed', skipped: 'Skipped', passed: 'Passed' };

/** One row of the status page: a report result, and whether the registry still shows the command it verified. */
export interface StatusRow {
  result: Result;
  /** The block changed since this result (its fingerprint is not the registry's), or is gone. */
  stale: boolean;
}

/**
 * The report's results as status rows: failed first, then skipped, then passed; within a status in
 * registry (page) order, then by flavor and engine. `registryOrder` lists snippet ids in page order; `current`
 * says whether a result verified the block as it is now (src/lib/site-report.ts: isCurrent).
 */
export function statusRows(report: Report, registryOrder: readonly string[], current: (result: Result) => boolean): StatusRow[] {
  const position = new Map(registryOrder.map((id, index) => [id, index]));
  const positionOf = (id: string) => position.get(id) ?? registryOrder.length;
  return report.results
    .map((result) => ({ result, stale: !current(result) }))
    .sort(
      (a, b) =>
        statusOrder[a.result.status] - statusOrder[b.result.status] ||
        positionOf(a.result.id) - positionOf(b.result.id) ||
        a.result.id.localeCompare(b.result.id) ||
        a.result.flavor.localeCompare(b.result.flavor) ||
        a.result.engineId.localeCompare(b.result.engineId),
    );
}

/** How many results have each status. */
export function countByStatus(results: readonly Result[]): Record<Result['status'], number> {
  const counts = { failed: 0, skipped: 0, passed: 0 };
  for (const result of results) counts[result.status]++;
  return counts;
}

/**
 * The id of a snippet flavor's first row on the status page (its worst result, as rows put failures
 * first), which each block's "Where it ran" links to: `status-config-data-location-host`.
 */
export function statusAnchor(id: string, flavor: string): string {
  return `status-${id}-${flavor}`;
}

/** The first line of an error, at most 200 characters: enough to say why, short enough for a cell. */
export function firstLine(text: string): string {
  const line = text.trim().split('\n')[0] ?? '';
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

/** A duration for people: `480 ms`, `12.3 s`, `2 min 5 s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}
