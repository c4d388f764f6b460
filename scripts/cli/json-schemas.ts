/**
 * What each command prints with `--json`: one zod schema per command (for `watch`, per line). The
 * commands print values of these types, the CLI tests parse what was printed with them, the package
 * ships them as JSON Schemas (`schemas/<command>.schema.json`) and the CLI reference page shows them.
 * Objects are strict: a key the schema does not name fails the tests.
 */
import { z } from 'zod';
import { InspectReportSchema } from '../procedures/inspect-report.ts';
import { BackupManifestSchema } from '../procedures/manifest.ts';
import { OffsiteEntrySchema } from '../procedures/offsite.ts';
import { WatchEventSchema } from '../procedures/watch.ts';

/** `inspect --json`: the InspectReport. */
export const InspectJsonSchema = InspectReportSchema;

/** `backup --json`. */
export const BackupJsonSchema = z.strictObject({
  /** The new backup folder. */
  path: z.string(),
  /** Its manifest.json. */
  manifest: BackupManifestSchema,
  /** Older backups removed by --keep. */
  pruned: z.array(z.string()),
});

/** `backups --json`: each folder of the backup dir, oldest first. */
export const BackupsJsonSchema = z.strictObject({
  backups: z.array(
    z.strictObject({
      /** The folder. */
      path: z.string(),
      /** Its name (the backup's UTC time). */
      name: z.string(),
      /** The snapshot time (ISO 8601, UTC); absent when the folder is not a backup. */
      createdAt: z.string().optional(),
      /** Bytes of its files. */
      bytes: z.number().int().nonnegative().optional(),
      /** Keys in all its databases. */
      keys: z.number().int().nonnegative().optional(),
      /** Whether it holds an AOF set. */
      aof: z.boolean().optional(),
      /** `ok`, or the first check that failed when the backup was taken. */
      checked: z.string().optional(),
      /** Why the folder is not a backup (no or invalid manifest, interrupted). */
      problem: z.string().optional(),
    }),
  ),
});

/** `check --json`. */
export const CheckJsonSchema = z.strictObject({
  /** True when every check passed. */
  ok: z.boolean(),
  /** The backup folder or RDB file checked. */
  path: z.string(),
  /** Its RDB format version; absent when the snapshot could not be read. */
  rdbVersion: z.number().int().optional(),
  /** Each check, in order. */
  items: z.array(
    z.strictObject({
      /** What was checked (`dump.rdb sha256`, `redis-check-rdb dump.rdb`, …). */
      what: z.string(),
      ok: z.boolean(),
      detail: z.string(),
    }),
  ),
});

/** `test-restore --json`. */
export const TestRestoreJsonSchema = z.strictObject({
  /** True when the loaded keys match the manifest. */
  ok: z.boolean(),
  /** The backup loaded. */
  backup: z.string(),
  /** The scratch server's version. */
  version: z.string(),
  /** Time from its start to its first answer (the load), milliseconds. */
  loadMs: z.number().nonnegative(),
  /** Keys per database, loaded against recorded. */
  databases: z.array(
    z.strictObject({
      db: z.number().int().nonnegative(),
      /** Keys the manifest recorded (absent for a bare RDB). */
      expected: z.number().int().nonnegative().optional(),
      loaded: z.number().int().nonnegative(),
      /** Equal, or short by no more than the keys with a TTL. */
      ok: z.boolean(),
    }),
  ),
  /** A few keys seen in the scratch server. */
  samples: z.array(
    z.strictObject({
      db: z.number().int().nonnegative(),
      key: z.string(),
      type: z.string(),
      /** Milliseconds to live; -1 without a TTL. */
      ttlMs: z.number().int(),
    }),
  ),
  /** DEBUG DIGEST of the loaded dataset: equal datasets have equal digests. */
  digest: z.string(),
});

/**
 * `restore --json`, one shape for both ways: a stopped server's data dir, and Redis in a container
 * (`container` is null for the first). Before, the host restore printed no `container` key.
 */
export const RestoreJsonSchema = z.strictObject({
  /** The backup installed. */
  backup: z.string(),
  /** The container restored (--container, --compose-service), or null for a data dir on this machine. */
  container: z.string().nullable(),
  /** The data dir restored (inside the container for a container). */
  dataDir: z.string(),
  /** Whether the server starts with appendonly yes. */
  appendonly: z.boolean(),
  /** What was installed, relative to the data dir. */
  installed: z.array(z.string()),
  /** The folder holding the previous files (the undo), or null when the dir held none. */
  movedAside: z.string().nullable(),
  /** What was moved aside, relative to the data dir. */
  moved: z.array(z.string()),
});

/** `rewind --json`. */
export const RewindJsonSchema = z.strictObject({
  dataDir: z.string(),
  aofDir: z.string(),
  /** The time rewound to (ISO 8601, UTC): every write up to the end of that second is kept. */
  to: z.string(),
  /** The earliest time this AOF could be rewound to, and its last write before the rewind (null: none). */
  earliest: z.string().nullable(),
  latest: z.string().nullable(),
  /** False when nothing was written after `to`: nothing was touched. */
  changed: z.boolean(),
  /** The container, with --container or --compose-service. */
  container: z.string().optional(),
  /** Bytes of logged writes cut from the AOF. */
  removedBytes: z.number().int().nonnegative(),
  /** The copy of the AOF dir from before the rewind (the undo), or null. */
  movedAside: z.string().nullable(),
});

/** `validate --json`. */
export const ValidateJsonSchema = z.strictObject({
  /** True when every expectation holds. */
  ok: z.boolean(),
  /** Each expectation and what was found. */
  findings: z.array(
    z.strictObject({
      /** `db0` or `db0 domains:ready`. */
      subject: z.string(),
      expected: z.string(),
      actual: z.string(),
      ok: z.boolean(),
    }),
  ),
});

/** `watch --json`: one such object per line. */
export const WatchJsonSchema = WatchEventSchema.strict();

/** `offsite … --json`: one object per action. */
export const OffsiteJsonSchema = z.strictObject({
  /** The action that ran. */
  action: z.enum(['init', 'push', 'list', 'pull', 'forget']),
  /** The repository, without user info. */
  repository: z.string(),
  /** push, pull: restic's short snapshot ID. */
  snapshot: z.string().optional(),
  /** push: the backup folder pushed; pull: the backup folder it became. */
  path: z.string().optional(),
  /** push, pull: the backup's snapshot time (ISO 8601, UTC). */
  createdAt: z.string().optional(),
  /** push, pull: files checked against the manifest after the transfer. */
  verifiedFiles: z.number().int().nonnegative().optional(),
  /** push: bytes of the backup. */
  bytes: z.number().int().nonnegative().optional(),
  /** push: bytes the repository grew by (deduplicated, compressed). */
  addedBytes: z.number().int().nonnegative().optional(),
  /** list: the redis-playbook snapshots, oldest first. */
  snapshots: z.array(OffsiteEntrySchema).optional(),
  /** forget: the snapshots kept. */
  kept: z.array(z.string()).optional(),
  /** forget: the snapshots removed. */
  removed: z.array(z.string()).optional(),
});
