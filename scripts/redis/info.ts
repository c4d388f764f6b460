import { z } from 'zod';

/** INFO output, parsed: section name (lower case) → field → raw string value. */
export type InfoSections = Record<string, Record<string, string>>;

/**
 * Parses the text of `INFO [section]`: `# Section` headers, `field:value` lines, CRLF or LF.
 * Fields before any header land in section `default`.
 */
export function parseInfo(text: string): InfoSections {
  const sections: InfoSections = {};
  let current = 'default';
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      current = line.slice(1).trim().toLowerCase();
      sections[current] ??= {};
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    (sections[current] ??= {})[line.slice(0, colon)] = line.slice(colon + 1);
  }
  return sections;
}

/** All fields of every section in one flat record (field names are unique across INFO sections). */
export function flattenInfo(sections: InfoSections): Record<string, string> {
  return Object.assign({}, ...Object.values(sections)) as Record<string, string>;
}

const int = z.coerce.number().int();
const flag = z.enum(['0', '1']).transform((v) => v === '1');

/** The INFO persistence fields the playbook reads (names identical on Redis 7.0/8.0 and Valkey 8.x). */
export const InfoPersistenceSchema = z.object({
  /** 1 while the server loads its data files at start. */
  loading: flag,
  /** Writes since the last completed RDB save. */
  rdb_changes_since_last_save: int,
  /** 1 while a BGSAVE child runs. */
  rdb_bgsave_in_progress: flag,
  /** Unix time of the last completed RDB save (or server start). */
  rdb_last_save_time: int,
  /** Result of the last BGSAVE: `ok` or `err`. */
  rdb_last_bgsave_status: z.string(),
  /** Duration of the last BGSAVE in seconds, -1 if none. */
  rdb_last_bgsave_time_sec: int,
  /** 1 when AOF is on. */
  aof_enabled: flag,
  /** 1 while an AOF rewrite child runs. */
  aof_rewrite_in_progress: flag,
  /** 1 when a rewrite waits for a running save to end. */
  aof_rewrite_scheduled: flag,
  /** Result of the last AOF rewrite: `ok` or `err`. */
  aof_last_bgrewrite_status: z.string(),
  /** Result of the last AOF write: `ok` or `err`. */
  aof_last_write_status: z.string(),
});
export type InfoPersistence = z.infer<typeof InfoPersistenceSchema>;

/** The INFO server fields the playbook reads. */
export const InfoServerSchema = z.object({
  /** Version reported as Redis compatibility (Valkey 8.1 reports 7.2.4 here). */
  redis_version: z.string(),
  /** `valkey` on Valkey; absent on Redis. */
  server_name: z.string().optional(),
  /** Valkey's own version; absent on Redis. */
  valkey_version: z.string().optional(),
  /** The server's TCP port. */
  tcp_port: int,
  /** Process id of the server. */
  process_id: int,
});
export type InfoServer = z.infer<typeof InfoServerSchema>;

/** One `save` rule: snapshot when at least `changes` writes happened within `seconds`. */
export const SaveRuleSchema = z.object({
  /** The window in seconds. */
  seconds: z.number().int().positive(),
  /** The minimum number of changed keys (writes) in the window. */
  changes: z.number().int().positive(),
});
export type SaveRule = z.infer<typeof SaveRuleSchema>;

/**
 * Parses the value of `CONFIG GET save` ("900 1 300 10", or "" for no snapshots) into rules.
 * Throws on an odd number of fields or a non-numeric field.
 */
export function parseSaveRules(value: string): SaveRule[] {
  const fields = value.trim().split(/\s+/).filter(Boolean);
  if (fields.length % 2 !== 0) {
    throw new Error(`Expected pairs of "seconds changes" in the save setting, got "${value}"`);
  }
  const rules: SaveRule[] = [];
  for (let i = 0; i < fields.length; i += 2) {
    rules.push(SaveRuleSchema.parse({ seconds: Number(fields[i]), changes: Number(fields[i + 1]) }));
  }
  return rules;
}

/** Key counts of one database from INFO keyspace (`db0:keys=2003,expires=1,avg_ttl=0`). */
export const KeyspaceEntrySchema = z.object({
  keys: z.number().int().nonnegative(),
  expires: z.number().int().nonnegative(),
});
export type KeyspaceEntry = z.infer<typeof KeyspaceEntrySchema>;

/** Parses INFO keyspace fields into `{ 0: { keys, expires }, … }` keyed by db number. */
export function parseKeyspace(fields: Record<string, string>): Record<number, KeyspaceEntry> {
  const result: Record<number, KeyspaceEntry> = {};
  for (const [name, value] of Object.entries(fields)) {
    const db = /^db(\d+)$/.exec(name);
    if (!db?.[1]) continue;
    const pairs = Object.fromEntries(value.split(',').map((pair) => pair.split('=') as [string, string]));
    result[Number(db[1])] = KeyspaceEntrySchema.parse({ keys: Number(pairs.keys), expires: Number(pairs.expires) });
  }
  return result;
}
