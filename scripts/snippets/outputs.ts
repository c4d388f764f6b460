/**
 * Readers of what commands print, shared by verifications. Each one parses text exactly as the
 * page shows it, so a change in a tool's output fails verification instead of passing silently.
 */

/** Pairs of lines (`name`, `value`) printed by `redis-cli CONFIG GET a b c`, as a record. */
export function configPairs(output: string): Record<string, string> {
  const lines = output.replace(/\r/g, '').split('\n');
  // A trailing newline leaves one empty line too many (an empty value is an empty line of its own).
  if (lines.length % 2 !== 0 && lines.at(-1) === '') lines.pop();
  if (lines.length % 2 !== 0) throw new Error(`Expected name/value line pairs from CONFIG GET, got:\n${output}`);
  const pairs: Record<string, string> = {};
  for (let i = 0; i < lines.length; i += 2) pairs[lines[i] as string] = lines[i + 1] as string;
  return pairs;
}

/** `field:value` lines (INFO output, or a grep of it) as a record. */
export function infoFields(output: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of output.replace(/\r/g, '').split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields[line.slice(0, colon)] = line.slice(colon + 1);
  }
  return fields;
}

/** The closing line of `redis-cli --pipe`: `errors: N, replies: M`. */
export function pipeSummary(output: string): { errors: number; replies: number } {
  const match = /errors: (\d+), replies: (\d+)/.exec(output);
  if (!match) throw new Error(`No "errors: N, replies: M" line from redis-cli --pipe in:\n${output}`);
  return { errors: Number(match[1]), replies: Number(match[2]) };
}

/** The number after a `label:` in the output (`keys after restart: 42`). */
export function labelledNumber(output: string, label: string): number {
  const match = new RegExp(`${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\s*(\\d+)`).exec(output);
  if (!match) throw new Error(`No "${label}: N" line in:\n${output}`);
  return Number(match[1]);
}
