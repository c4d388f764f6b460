import type { Result } from '../../scripts/data/report.ts';
import { engineName } from './verify-badge.ts';

/** Units a measurement is shown in: bytes as MB (one decimal), or the number as it is. */
export type MeasuredUnit = 'MB' | 'count';

function format(value: number, unit: MeasuredUnit): string {
  return unit === 'MB' ? `${(value / 1e6).toFixed(1)} MB` : value.toLocaleString('en-US');
}

/**
 * A number the verification measured (ctx.measure), as a page shows it, from the passed results of
 * the block as it is now (`current`): one value when every engine measured the same once shown,
 * else the range with the engine of each end ("0.5 MB (Valkey 8.1.1) to 0.8 MB (Redis 7.0.15)").
 * Undefined when no current passed result measured it: the page then says so instead of a number.
 */
export function measuredText(
  results: readonly Result[],
  name: string,
  unit: MeasuredUnit,
  current: (result: Result) => boolean,
): string | undefined {
  const measured = results
    .filter((result) => result.status === 'passed' && current(result) && result.measurements?.[name] !== undefined)
    .map((result) => ({ result, value: result.measurements?.[name] as number }))
    .sort((a, b) => a.value - b.value);
  const low = measured[0];
  const high = measured.at(-1);
  if (!low || !high) return undefined;
  const [lowText, highText] = [format(low.value, unit), format(high.value, unit)];
  if (lowText === highText) return lowText;
  return `${lowText} (${engineName(low.result)}) to ${highText} (${engineName(high.result)})`;
}
