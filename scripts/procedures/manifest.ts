import { lstat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ClusterNodeSchema, SlotRangeSchema } from '../redis/cluster.ts';
import { PlaybookError } from './errors.ts';

/** The file name of a backup's manifest inside its folder. */
export const MANIFEST_FILE = 'manifest.json';

/**
 * The newest manifest format this version reads: `redis-playbook-backup/1` (one server's backup, still
 * written as 1) and `redis-playbook-backup/2` (a cluster backup, `kind: cluster`): a redis-playbook that
 * knows only 1 says a cluster backup was written by a newer one, rather than misreading it.
 */
const MANIFEST_VERSION = 2;

/** A manifest larger than this is refused unread (a real one is a few kB). */
const MANIFEST_MAX_BYTES = 1 << 20;

/** One file of a backup. */
export const BackupFileSchema = z.object({
  /** Path inside the backup folder (`dump.rdb`, `appendonlydir/appendonly.aof.1.base.rdb`, …). */
  path: z
    .string()
    .min(1)
    .refine((path) => !path.startsWith('/') && !path.split('/').includes('..'), 'a relative path inside the backup'),
  /** `rdb`: the snapshot a restore installs; `aof`: a file of the AOF set, kept as it was. */
  role: z.enum(['rdb', 'aof']),
  /** Size in bytes. */
  size: z.number().int().nonnegative(),
  /** SHA-256 of the content, hex. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type BackupFile = z.infer<typeof BackupFileSchema>;

/** Keys per database. */
export const DbCountSchema = z.object({
  /** Keys in the database. */
  keys: z.number().int().nonnegative(),
  /** Keys with a TTL among them. */
  expires: z.number().int().nonnegative(),
});

/** `manifest.json`: what a backup holds and what a restore needs. Never holds a secret. */
export const BackupManifestSchema = z.object({
  /** Format of this manifest. */
  format: z.literal('redis-playbook-backup/1'),
  /** When the snapshot completed (ISO 8601, UTC). */
  createdAt: z.iso.datetime(),
  /** The server that was backed up. */
  source: z.object({
    /** Host as given in the URL (no user, no password); with `container`, as seen inside the container. */
    host: z.string(),
    /** TCP port; with `container`, as seen inside the container. */
    port: z.number().int(),
    /**
     * The container's name when the backup was taken through it (`--container`, `--compose-service`):
     * Redis was reached with `docker exec` and the files copied with `docker cp`. Absent for a server
     * reached over TCP.
     */
    container: z.string().min(1).optional(),
    /** The Unix socket the server was reached through (`--socket`); `host` and `port` are then the URL's. */
    socket: z.string().min(1).optional(),
    /** Engine name (`redis` or `valkey`). */
    engine: z.string(),
    /** Server version. */
    version: z.string(),
    /** RDB format version of the snapshot (10 for Redis 7.0, 80 for Valkey 9's `VALKEY080`). */
    rdbVersion: z.number().int().positive(),
    /**
     * The server's program (`INFO server` `executable`), when it
     * reported one: check, test-restore and restore find the same engine's checkers from it.
     */
    executable: z.string().min(1).optional(),
  }),
  /** The server's persistence config at backup time: a restore installs the files under these names. */
  config: z.object({
    /** `CONFIG GET dir`. */
    dir: z.string(),
    /** `CONFIG GET dbfilename`. */
    dbfilename: z.string(),
    /** Whether the AOF was on. */
    appendonly: z.boolean(),
    /**
     * `CONFIG GET appenddirname`: the AOF dir (its files are under `appendonlydir/` in the backup).
     * Absent for a server without it (Redis 6): its AOF is the single file `appendfilename` in `dir`,
     * kept under that name in the backup.
     */
    appenddirname: z.string().optional(),
    /** `CONFIG GET appendfilename`. */
    appendfilename: z.string(),
  }),
  /**
   * Where the server stood in replication when the snapshot was taken (absent in backups made before
   * redis-playbook recorded it). A replica's backup forks the replica, never its primary.
   */
  replication: z
    .object({
      /** `primary`, or `replica`: the backup was taken on a replica (INFO replication `role`). */
      role: z.enum(['primary', 'replica']),
      /** A replica's primary as the replica names it (`master_host`, `master_port`); absent for a primary. */
      primary: z.object({ host: z.string(), port: z.number().int() }).optional(),
      /** Replicas connected to the backed-up server when the backup began (absent in older manifests). */
      replicas: z.number().int().nonnegative().optional(),
      /** A replica's link to its primary when the backup began: `down` means the replica may lag behind it. */
      link: z.enum(['up', 'down']).optional(),
      /** The replication id the snapshot carries (its RDB `repl-id`), else INFO `master_replid`. */
      replicationId: z.string(),
      /** The replication offset the snapshot was taken at (its RDB `repl-offset`), else INFO's at the start of the backup. */
      offset: z.number().int(),
    })
    .optional(),
  /** Keys per database in the snapshot, keyed by database number. */
  keyspace: z.record(z.string().regex(/^\d+$/), DbCountSchema),
  /** Every file of the backup with its checksum. */
  files: z.array(BackupFileSchema).min(1),
  /** What the checkers said when the backup was taken. */
  checks: z.object({
    /** redis-check-rdb on the snapshot. */
    rdb: z.object({ ok: z.boolean(), message: z.string() }),
    /** redis-check-aof on the copied AOF manifest, when an AOF set was copied. */
    aof: z.object({ ok: z.boolean(), message: z.string() }).optional(),
  }),
});
export type BackupManifest = z.infer<typeof BackupManifestSchema>;

/** A file of a cluster backup outside its shard folders. */
export const ClusterFileSchema = z.object({
  /** Path inside the backup folder (`nodes/<node id>.conf`, `cluster-nodes.txt`). */
  path: BackupFileSchema.shape.path,
  /** `nodes-conf`: a node's `nodes.conf` as it was at backup time; `topology`: the `CLUSTER NODES` answer the backup worked from. */
  role: z.enum(['nodes-conf', 'topology']),
  /** The node a `nodes.conf` belongs to. */
  nodeId: z.string().optional(),
  /** Size in bytes. */
  size: z.number().int().nonnegative(),
  /** SHA-256 of the content, hex. */
  sha256: BackupFileSchema.shape.sha256,
});

/** One shard of a cluster backup: a complete one-server backup (its own manifest) in a folder of the cluster backup. */
export const ClusterShardSchema = z.object({
  /** The shard's folder inside the cluster backup (`shard-0`…): a backup `check`, `test-restore` and `restore` take alone too. */
  dir: z.string().regex(/^shard-\d+$/),
  /** The node the snapshot was taken on (the shard's primary). */
  nodeId: z.string(),
  /** Its address as the cluster announced it. */
  host: z.string(),
  port: z.number().int(),
  /** The container the primary ran in, when the backup went through it (`backup --cluster --container`). */
  container: z.string().min(1).optional(),
  /** Slot ranges the shard served when its snapshot was taken. */
  slots: z.array(SlotRangeSchema).min(1),
  /** Node IDs of its replicas at backup time. */
  replicas: z.array(z.string()),
  /** Keys in the snapshot (database 0: a cluster has no other). */
  keys: z.number().int().nonnegative(),
  /** Keys with a TTL among them. */
  expires: z.number().int().nonnegative(),
  /** When this shard's backup began (before its BGSAVE was asked for). */
  startedAt: z.iso.datetime(),
  /** When its snapshot completed (the RDB's `ctime`, 1 s resolution). */
  snapshotAt: z.iso.datetime(),
  /** When its copy was checked and complete. */
  endedAt: z.iso.datetime(),
  /** SHA-256 of the shard's `manifest.json`: binds the shard's own checksums to this manifest. */
  manifestSha256: BackupFileSchema.shape.sha256,
});
export type ClusterShard = z.infer<typeof ClusterShardSchema>;

/** `manifest.json` of a cluster backup: every primary's snapshot, the slot map and node IDs, and when each shard was taken. */
export const ClusterManifestSchema = z.object({
  /** Format of this manifest. */
  format: z.literal('redis-playbook-backup/2'),
  /** A cluster backup (the only kind of format 2). */
  kind: z.literal('cluster'),
  /** When the last shard's backup completed (ISO 8601, UTC). */
  createdAt: z.iso.datetime(),
  /** The node the backup was asked of (`--url`; no user, no password), and the engine the cluster runs. */
  source: z.object({
    host: z.string(),
    port: z.number().int(),
    /** Engine name (`redis` or `valkey`). */
    engine: z.string(),
    /** Server version. */
    version: z.string(),
    /** The server program (`INFO server` `executable`), when reported. */
    executable: z.string().min(1).optional(),
  }),
  /** The cluster as `CLUSTER NODES` described it when the backup began (every engine has that command). */
  topology: z.object({
    /** Every node: ID, address, role, a replica's primary, a primary's slots. */
    nodes: z.array(ClusterNodeSchema).min(1),
  }),
  /**
   * The snapshots are not one instant: each shard's was taken on its own primary, in parallel
   * (staggered by `staggerSeconds` when asked). Writes between the first and the last may be in
   * some shards and not in others.
   */
  span: z.object({
    /** The first shard's start. */
    startedAt: z.iso.datetime(),
    /** The last shard's snapshot completion. */
    lastSnapshotAt: z.iso.datetime(),
    /** Seconds from the first start to the last completed copy. */
    seconds: z.number().nonnegative(),
    /** Seconds between the starts of two shards' backups (0: all at once). */
    staggerSeconds: z.number().nonnegative(),
  }),
  /** One entry per primary that served slots, in slot order. */
  shards: z.array(ClusterShardSchema).min(1),
  /** The cluster-level files (the nodes' `nodes.conf`, the `CLUSTER NODES` text) with their checksums. */
  files: z.array(ClusterFileSchema),
});
export type ClusterManifest = z.infer<typeof ClusterManifestSchema>;

/** A backup's manifest: one server's, or a cluster's. */
export type AnyManifest = { kind: 'server'; manifest: BackupManifest } | { kind: 'cluster'; manifest: ClusterManifest };

/** Reads and validates `<backup>/manifest.json` of a one-server backup; a cluster backup is refused, saying what takes it. */
export async function readManifest(backupDir: string): Promise<BackupManifest> {
  const read = await readAnyManifest(backupDir);
  if (read.kind === 'cluster') {
    throw new PlaybookError(
      'backup',
      `${backupDir} is a cluster backup (${read.manifest.shards.length} shards): restore it with --into-cluster URL or --cluster-dirs DIR,…, or name one of its shard folders`,
    );
  }
  return read.manifest;
}

/** Reads and validates `<backup>/manifest.json`, of either kind; a clear error for a folder that is not a backup. */
export async function readAnyManifest(backupDir: string): Promise<AnyManifest> {
  const path = join(backupDir, MANIFEST_FILE);
  let text: string;
  try {
    // Looked at before it is read: a hostile backup's manifest may be a link elsewhere, or gigabytes.
    const info = await lstat(path);
    if (!info.isFile())
      throw new PlaybookError(
        'backup',
        `${path} is not a plain file${info.isSymbolicLink() ? ' (a symbolic link)' : ''}: a backup holds plain files only`,
      );
    if (info.size > MANIFEST_MAX_BYTES)
      throw new PlaybookError('backup', `${path} is ${info.size} bytes: not a redis-playbook manifest (they are a few kB)`);
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof PlaybookError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new PlaybookError('backup', `${backupDir} is not a redis-playbook backup: it has no ${MANIFEST_FILE}`, { cause: error });
    throw new PlaybookError('io', `Cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new PlaybookError('backup', `${path} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  const format = typeof json === 'object' && json !== null && 'format' in json ? String(json.format) : undefined;
  const version = /^redis-playbook-backup\/(\d+)$/.exec(format ?? '')?.[1];
  if (version !== undefined && Number(version) > MANIFEST_VERSION) {
    throw new PlaybookError(
      'backup',
      `${path} was written by a newer redis-playbook (format ${format}); this one reads up to redis-playbook-backup/${MANIFEST_VERSION}: update it`,
    );
  }
  if (version === undefined) {
    throw new PlaybookError(
      'backup',
      `${path} is not a redis-playbook manifest: ${format === undefined ? 'it has no "format"' : `its format is "${format.slice(0, 60)}"`}`,
    );
  }
  const parsed = version === '1' ? BackupManifestSchema.safeParse(json) : ClusterManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new PlaybookError('backup', `${path} is not a redis-playbook manifest: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`, {
      cause: parsed.error,
    });
  }
  return version === '1'
    ? { kind: 'server', manifest: parsed.data as BackupManifest }
    : { kind: 'cluster', manifest: parsed.data as ClusterManifest };
}
