import { lstat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { PlaybookError } from './errors.ts';

/** The file name of a backup's manifest inside its folder. */
export const MANIFEST_FILE = 'manifest.json';

/** The manifest format this version writes and reads (`redis-playbook-backup/1`). */
const MANIFEST_VERSION = 1;

/** A manifest larger than this is refused unread (a real one is a few kB). */
const MANIFEST_MAX_BYTES = 1 << 20;

/** One file of a backup. */
export const BackupFileSchema = z.object({
  /** Path inside the backup folder (`dump.rdb`, `appendonlydir/appendonly.aof.1.base.rdb`, …). */
  path: z.string().min(1).refine((path) => !path.startsWith('/') && !path.split('/').includes('..'), 'a relative path inside the backup'),
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

/** Reads and validates `<backup>/manifest.json`; a clear error for a folder that is not a backup. */
export async function readManifest(backupDir: string): Promise<BackupManifest> {
  const path = join(backupDir, MANIFEST_FILE);
  let text: string;
  try {
    // Looked at before it is read: a hostile backup's manifest may be a link elsewhere, or gigabytes.
    const info = await lstat(path);
    if (!info.isFile()) throw new PlaybookError('backup', `${path} is not a plain file${info.isSymbolicLink() ? ' (a symbolic link)' : ''}: a backup holds plain files only`);
    if (info.size > MANIFEST_MAX_BYTES) throw new PlaybookError('backup', `${path} is ${info.size} bytes: not a redis-playbook manifest (they are a few kB)`);
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof PlaybookError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new PlaybookError('backup', `${backupDir} is not a redis-playbook backup: it has no ${MANIFEST_FILE}`, { cause: error });
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
    throw new PlaybookError('backup', `${path} was written by a newer redis-playbook (format ${format}); this one reads redis-playbook-backup/${MANIFEST_VERSION}: update it`);
  }
  if (version === undefined) {
    throw new PlaybookError('backup', `${path} is not a redis-playbook manifest: ${format === undefined ? 'it has no "format"' : `its format is "${format.slice(0, 60)}"`}`);
  }
  const parsed = BackupManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new PlaybookError('backup', `${path} is not a redis-playbook manifest: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`, { cause: parsed.error });
  }
  return parsed.data;
}
