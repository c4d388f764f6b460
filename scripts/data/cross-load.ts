import { z } from 'zod';

/**
 * One measured load: a server of one engine started on the dump.rdb another engine wrote. The
 * verification of the `versions-rdb-check` snippet records one line per pair in its output
 * ({@link formatLoadLine}); the site's cross-load table is parsed back from that recorded output
 * ({@link parseCrossLoad}), so the table is never typed by hand.
 */
export const LoadSchema = z.object({
  /** The server started on the file (`Redis 7.0.15`). */
  loader: z.string().regex(/^(Redis|Valkey) \d+\.\d+\.\d+$/),
  /** The server that wrote the file. */
  writer: z.string().regex(/^(Redis|Valkey) \d+\.\d+\.\d+$/),
  /** RDB format version of the file (its header `REDIS0012` → 12). */
  rdb: z.number().int().positive(),
  loaded: z.boolean(),
  /** What was seen: `52 of 52 keys equal`, or the log line of the refusal. */
  detail: z.string(),
});
export type Load = z.infer<typeof LoadSchema>;

/** `Redis 7.0.15 refuses the RDB 12 of Redis 8.0.2: Can't handle RDB format version 12` / `… loads … : 52 of 52 keys equal`. */
export function formatLoadLine(load: Load): string {
  return `${load.loader} ${load.loaded ? 'loads' : 'refuses'} the RDB ${load.rdb} of ${load.writer}: ${load.detail}`;
}

const LINE = /^((?:Redis|Valkey) \d+\.\d+\.\d+) (loads|refuses) the RDB (\d+) of ((?:Redis|Valkey) \d+\.\d+\.\d+): (.*)$/;

/** The cross-load table: rows are loaders, columns writers (each in order of first appearance). */
export interface CrossLoadTable {
  loaders: string[];
  /** Writers with the RDB format version of their file. */
  writers: { name: string; rdb: number }[];
  /** `cell(loader, writer)`: the load, or undefined when the output has no line for that pair. */
  loads: Load[];
}

/** The load of one pair in a table. */
export function cell(table: CrossLoadTable, loader: string, writer: string): Load | undefined {
  return table.loads.find((load) => load.loader === loader && load.writer === writer);
}

/**
 * Parses the load lines of a recorded output (other lines are ignored). Undefined when the output has
 * none, or does not have one line for every loader × writer pair (a partial run cannot make a table).
 * Throws when a pair appears twice with different outcomes.
 */
export function parseCrossLoad(output: string): CrossLoadTable | undefined {
  const loads: Load[] = [];
  for (const raw of output.split('\n')) {
    const match = LINE.exec(raw.trim());
    if (!match) continue;
    const load = LoadSchema.parse({
      loader: match[1],
      loaded: match[2] === 'loads',
      rdb: Number(match[3]),
      writer: match[4],
      detail: match[5],
    });
    const seen = loads.find((other) => other.loader === load.loader && other.writer === load.writer);
    if (seen) {
      if (seen.loaded !== load.loaded) throw new Error(`${load.loader} and the RDB of ${load.writer} appear twice with different outcomes`);
      continue;
    }
    loads.push(load);
  }
  if (loads.length === 0) return undefined;
  const loaders = [...new Set(loads.map((load) => load.loader))];
  const writers: CrossLoadTable['writers'] = [];
  for (const load of loads) if (!writers.some((writer) => writer.name === load.writer)) writers.push({ name: load.writer, rdb: load.rdb });
  const table = { loaders, writers, loads };
  for (const loader of loaders) for (const writer of writers) if (!cell(table, loader, writer.name)) return undefined;
  return table;
}
