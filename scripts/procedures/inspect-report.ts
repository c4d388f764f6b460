import { z } from 'zod';
import { SaveRuleSchema } from '../redis/info.ts';
import { ReplicationInfoSchema } from '../redis/replication.ts';

/** One data file as seen from where the CLI runs. */
export const FileEntrySchema = z.object({
  /** File name inside its directory (`dump.rdb`, `appendonly.aof.1.incr.aof`). */
  name: z.string(),
  /** Absolute path (inside the container when the server runs in one). */
  path: z.string(),
  /** Size in bytes. */
  size: z.number().int().nonnegative(),
  /** Last modification time, ISO 8601 in UTC. */
  mtime: z.string(),
  /**
   * For a snapshot (`dump.rdb`, an AOF's `.base.rdb`): the RDB format version in its header
   * (`REDIS0012` → 12), null when the header is not an RDB's. Absent for other files.
   */
  rdbVersion: z.number().int().nullable().optional(),
});
export type FileEntry = z.infer<typeof FileEntrySchema>;

/** The data files, listed when the server's `dir` can be read from where the CLI runs. */
export const DataFilesSchema = z.discriminatedUnion('readable', [
  z.object({
    /** The server's data dir is on this machine and readable by this process, or listed inside its container. */
    readable: z.literal(true),
    /** `<dir>/<dbfilename>`, or null when that file does not exist (no snapshot yet). */
    rdb: FileEntrySchema.nullable(),
    /** The AOF directory `<dir>/<appenddirname>` (Redis 7+); `<dir>` itself on servers without `appenddirname`. */
    aofDir: z.string(),
    /** The AOF files (manifest, base, incr) sorted by name, or null when there is no AOF there. */
    aofFiles: z.array(FileEntrySchema).nullable(),
  }),
  z.object({
    /** The data dir cannot be read from here. */
    readable: z.literal(false),
    /** Why, e.g. the server runs on another host or in a container. Not an error. */
    reason: z.string(),
  }),
]);
export type DataFiles = z.infer<typeof DataFilesSchema>;

/** What one kind of failure costs. */
export const LossSchema = z.object({
  /** The answer in words, for an operator. */
  words: z.string(),
  /**
   * Worst case, in seconds of acknowledged writes: 0 = nothing is lost; null = no bound (writes
   * may never be saved, or everything is lost). For snapshots, the time the snapshot itself takes
   * to write comes on top.
   */
  worstCaseSeconds: z.number().nonnegative().nullable(),
  /**
   * How this is known: `documented` by Redis or the OS (what this server's config implies; the CLI
   * measures nothing it states), or `configuration`: it follows from the running config and INFO
   * counters. `measured` is kept in the schema for older output; the CLI no longer gives it, as a
   * measurement of the project's own tests says nothing of the operator's server.
   */
  basis: z.enum(['measured', 'documented', 'configuration']),
  /** The Redis Playbook page (path under the site) with a drill that shows it, to run on your own machine. */
  see: z.string().optional(),
});
export type Loss = z.infer<typeof LossSchema>;

/** Which mechanism a restarted server loads its data from. */
export const PersistenceModeSchema = z.enum([
  /** `appendonly yes`: the AOF, and only the AOF. */
  'aof',
  /** `appendonly no` with save rules: the last completed snapshot (dump.rdb). */
  'rdb',
  /** Neither: only what a manual SAVE/BGSAVE left in dump.rdb, if anything. */
  'none',
]);
export type PersistenceMode = z.infer<typeof PersistenceModeSchema>;

/** The verdict: what a crash can cost with the running configuration. */
export const VerdictSchema = z.object({
  /** What a restart loads. */
  mode: PersistenceModeSchema,
  /** A process crash (kill -9, OOM killer, segfault) while the machine keeps running. */
  processCrash: LossSchema,
  /** An OS crash or power loss: what the kernel had not written to disk is gone too. */
  powerLoss: LossSchema,
  /**
   * Writes a crash right now would lose (everything since the last completed save) and over how
   * many seconds they were made; null with AOF, where acknowledged writes are already in the log.
   */
  atRiskNow: z
    .object({
      /** Writes (changed keys) since the last completed save: INFO `rdb_changes_since_last_save`. */
      writes: z.number().int().nonnegative(),
      /** Seconds since the last completed save (or the server start). */
      seconds: z.number().int().nonnegative(),
    })
    .nullable(),
  /** Things that need attention now (a failing save, a failing AOF write, a slow disk). */
  warnings: z.array(z.string()),
  /** Good to know, nothing wrong (snapshots beside an AOF are only backups). */
  notes: z.array(z.string()),
});
export type Verdict = z.infer<typeof VerdictSchema>;

/** `maxmemory` and what the policy does when it is reached. */
export const MemorySchema = z.object({
  /** `maxmemory` in bytes; 0 = no limit. */
  maxmemory: z.number().int().nonnegative(),
  /** `maxmemory-policy` (noeviction, allkeys-lru, volatile-ttl, …). */
  policy: z.string(),
  /** What happens when memory is full, in words. */
  note: z.string(),
  /** Whether reaching the limit deletes keys (an eviction policy with a limit set). */
  evicts: z.boolean(),
});
export type Memory = z.infer<typeof MemorySchema>;

/** Everything `redis-playbook inspect` finds out; `--json` prints exactly this object. */
export const InspectReportSchema = z.object({
  /** The server inspected, as a URL without the password (as seen inside `container` when set). */
  url: z.string(),
  /** The container the server was inspected through (`--container`, `--compose-service`); absent over TCP. */
  container: z.string().optional(),
  /** Which engine and version answered. */
  server: z.object({
    /** `redis`, or the INFO `server_name` (`valkey`). */
    name: z.string(),
    /** The engine's own version: `valkey_version` on Valkey, else `redis_version`. */
    version: z.string(),
    /** INFO `redis_version` (Valkey reports its Redis compatibility level here). */
    redisVersion: z.string(),
    /** Process id of the server on its host. */
    processId: z.number().int(),
    /** The config file the server was started with, null when started without one. */
    configFile: z.string().nullable(),
  }),
  /** `CONFIG GET dir`: the data dir, where snapshots and the AOF dir live. */
  dir: z.string(),
  /** `CONFIG GET dbfilename`: the snapshot file name inside `dir`. */
  dbfilename: z.string(),
  /** `CONFIG GET appenddirname` (Redis 7+): the AOF dir inside `dir`; null on older servers. */
  appenddirname: z.string().nullable(),
  /** `CONFIG GET appendfilename`: the base name of the AOF files. */
  appendfilename: z.string(),
  /** `CONFIG GET appendonly`: whether the AOF is on (a restart then loads only the AOF). */
  appendonly: z.boolean(),
  /** `CONFIG GET appendfsync`: when the AOF is fsynced. */
  appendfsync: z.enum(['always', 'everysec', 'no']),
  /** `CONFIG GET save`: the snapshot rules, [] for none (`save ""`). */
  save: z.array(SaveRuleSchema),
  /** INFO `rdb_last_save_time`: unix seconds of the last completed snapshot (or of the server start). */
  lastSaveTime: z.number().int(),
  /** Seconds from `lastSaveTime` to now, by the server's clock. */
  lastSaveAgeSeconds: z.number().int().nonnegative(),
  /** INFO `rdb_changes_since_last_save`: writes since the last completed snapshot. */
  changesSinceLastSave: z.number().int().nonnegative(),
  /** Keys in all databases (INFO keyspace). */
  keys: z.number().int().nonnegative(),
  /** The last background snapshot. */
  lastBgsave: z.object({
    /** INFO `rdb_last_bgsave_status`: `ok`, or `err` when it failed. */
    status: z.string(),
    /** INFO `rdb_bgsave_in_progress`. */
    inProgress: z.boolean(),
    /** INFO `rdb_last_bgsave_time_sec`: how long it took; null when none ran since the start. */
    durationSeconds: z.number().int().nonnegative().nullable(),
  }),
  /** AOF status from INFO persistence. */
  aof: z.object({
    /** INFO `aof_last_bgrewrite_status`: `ok` or `err`. */
    lastRewriteStatus: z.string(),
    /** INFO `aof_rewrite_in_progress`. */
    rewriteInProgress: z.boolean(),
    /** INFO `aof_rewrite_scheduled`: a rewrite waits for a running snapshot to end. */
    rewriteScheduled: z.boolean(),
    /** INFO `aof_last_write_status`: `ok`, or `err` when the last write to the AOF failed. */
    lastWriteStatus: z.string(),
    /** INFO `aof_delayed_fsync`: times a slow fsync held AOF writes back; null when AOF is off. */
    delayedFsync: z.number().int().nonnegative().nullable(),
  }),
  /** Point-in-time rollback (`redis-playbook rewind`): whether the AOF carries timestamps and how far back it reaches. */
  rewind: z.object({
    /** `CONFIG GET aof-timestamp-enabled` (Redis 7+, Valkey); null where the server has no such setting. */
    timestamps: z.boolean().nullable(),
    /** The earliest time a rewind reaches (ISO 8601, UTC: the first timestamped write after the last AOF rewrite), read from its files; null when none. */
    earliest: z.string().nullable(),
    /** Why a rewind can or cannot be done, in words. */
    words: z.string(),
  }),
  /** `maxmemory` and its policy. */
  memory: MemorySchema,
  /** The data files, or why they cannot be listed from here. */
  files: DataFilesSchema,
  /** Where the server stands in replication, and what that adds to fault tolerance (INFO replication). */
  replication: ReplicationInfoSchema.extend({
    /** What replication adds to fault tolerance here, in words. */
    adds: z.array(z.string()),
    /** What it does not protect against (a replica on the same host, deletes copied, asynchronous writes). */
    doesNot: z.array(z.string()),
    /** Things that need attention now (a link down, a primary without persistence that its replicas would copy empty). */
    warnings: z.array(z.string()),
  }),
  /** What a crash can cost. */
  verdict: VerdictSchema,
  /** Remarks about the inspection itself (e.g. a password was given that the server does not need). */
  notes: z.array(z.string()),
});
export type InspectReport = z.infer<typeof InspectReportSchema>;
