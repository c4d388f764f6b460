/**
 * What each command prints with `--json`: one zod schema per command (for `watch`, per line). The
 * commands print values of these types, the CLI tests parse what was printed with them, the package
 * ships them as JSON Schemas (`schemas/<command>.schema.json`) and the CLI reference page shows them.
 * Objects are strict: a key the schema does not name fails the tests. Fields say what they are in
 * `.describe()`, which the JSON Schemas and the reference page carry.
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
  path: z.string().describe('The new backup folder.'),
  manifest: BackupManifestSchema.describe('Its manifest.json.'),
  pruned: z.array(z.string()).describe('Older backups removed by --keep.'),
});

/** `backups --json`: each folder of the backup dir, oldest first. */
export const BackupsJsonSchema = z.strictObject({
  backups: z.array(
    z.strictObject({
      path: z.string().describe('The folder.'),
      name: z.string().describe('Its name (the backup\'s UTC time).'),
      createdAt: z.string().optional().describe('The snapshot time (ISO 8601, UTC); absent when the folder is not a backup.'),
      bytes: z.number().int().nonnegative().optional().describe('Bytes of its files.'),
      keys: z.number().int().nonnegative().optional().describe('Keys in all its databases.'),
      aof: z.boolean().optional().describe('Whether it holds an AOF set.'),
      checked: z.string().optional().describe('`ok`, or the first check that failed when the backup was taken.'),
      problem: z.string().optional().describe('Why the folder is not a backup (no or invalid manifest, interrupted).'),
    }),
  ),
});

/** `check --json`. */
export const CheckJsonSchema = z.strictObject({
  ok: z.boolean().describe('True when every check passed.'),
  path: z.string().describe('The backup folder or RDB file checked.'),
  rdbVersion: z.number().int().optional().describe('Its RDB format version; absent when the snapshot could not be read.'),
  items: z.array(
    z.strictObject({
      what: z.string().describe('What was checked (`dump.rdb sha256`, `redis-check-rdb dump.rdb`, …).'),
      ok: z.boolean(),
      detail: z.string(),
    }),
  ).describe('Each check, in order.'),
});

/** `test-restore --json`. */
export const TestRestoreJsonSchema = z.strictObject({
  ok: z.boolean().describe('True when the loaded keys match the manifest.'),
  backup: z.string().describe('The backup loaded.'),
  version: z.string().describe('The scratch server\'s version.'),
  loadMs: z.number().nonnegative().describe('Time from its start to its first answer (the load), milliseconds.'),
  databases: z.array(
    z.strictObject({
      db: z.number().int().nonnegative(),
      expected: z.number().int().nonnegative().optional().describe('Keys the manifest recorded (absent for a bare RDB).'),
      loaded: z.number().int().nonnegative(),
      ok: z.boolean().describe('Equal, or short by no more than the keys with a TTL.'),
    }),
  ).describe('Keys per database, loaded against recorded.'),
  samples: z.array(
    z.strictObject({
      db: z.number().int().nonnegative(),
      key: z.string(),
      type: z.string(),
      ttlMs: z.number().int().describe('Milliseconds to live; -1 without a TTL.'),
    }),
  ).describe('A few keys seen in the scratch server.'),
  digest: z.string().describe('DEBUG DIGEST of the loaded dataset: equal datasets have equal digests.'),
});

/**
 * `restore --json`, one shape for both ways: a stopped server's data dir, and Redis in a container
 * (`container` is null for the first). Before, the host restore printed no `container` key.
 */
export const RestoreJsonSchema = z.strictObject({
  backup: z.string().describe('The backup installed.'),
  container: z.string().nullable().describe('The container restored (--container, --compose-service), or null for a data dir on this machine.'),
  dataDir: z.string().describe('The data dir restored (inside the container for a container).'),
  appendonly: z.boolean().describe('Whether the server starts with appendonly yes.'),
  installed: z.array(z.string()).describe('What was installed, relative to the data dir.'),
  movedAside: z.string().nullable().describe('The folder holding the previous files (the undo), or null when the dir held none.'),
  moved: z.array(z.string()).describe('What was moved aside, relative to the data dir.'),
});

/** `rewind --json`. */
export const RewindJsonSchema = z.strictObject({
  dataDir: z.string().describe('The data dir (inside the container for a container).'),
  aofDir: z.string().describe('The AOF dir rewound.'),
  to: z.string().describe('The time rewound to (ISO 8601, UTC): every write up to the end of that second is kept.'),
  earliest: z.string().nullable().describe('The earliest time this AOF could be rewound to (null: none).'),
  latest: z.string().nullable().describe('Its last write before the rewind (null: none).'),
  changed: z.boolean().describe('False when nothing was written after `to`: nothing was touched.'),
  container: z.string().optional().describe('The container, with --container or --compose-service.'),
  removedBytes: z.number().int().nonnegative().describe('Bytes of logged writes cut from the AOF.'),
  movedAside: z.string().nullable().describe('The copy of the AOF dir from before the rewind (the undo), or null.'),
});

/** `validate --json`. */
export const ValidateJsonSchema = z.strictObject({
  ok: z.boolean().describe('True when every expectation holds.'),
  findings: z.array(
    z.strictObject({
      subject: z.string().describe('`db0` or `db0 domains:ready`.'),
      expected: z.string(),
      actual: z.string(),
      ok: z.boolean(),
    }),
  ).describe('Each expectation and what was found.'),
});

/** `watch --json`: one such object per line. */
export const WatchJsonSchema = WatchEventSchema.strict();

/** `offsite … --json`: one object per action. */
export const OffsiteJsonSchema = z.strictObject({
  action: z.enum(['init', 'push', 'list', 'pull', 'forget']).describe('The action that ran.'),
  repository: z.string().describe('The repository, without user info.'),
  snapshot: z.string().optional().describe('push, pull: restic\'s short snapshot ID.'),
  path: z.string().optional().describe('push: the backup folder pushed; pull: the backup folder it became.'),
  createdAt: z.string().optional().describe('push, pull: the backup\'s snapshot time (ISO 8601, UTC).'),
  verifiedFiles: z.number().int().nonnegative().optional().describe('push, pull: files checked against the manifest after the transfer.'),
  bytes: z.number().int().nonnegative().optional().describe('push: bytes of the backup.'),
  addedBytes: z.number().int().nonnegative().optional().describe('push: bytes the repository grew by (deduplicated, compressed).'),
  snapshots: z.array(OffsiteEntrySchema).optional().describe('list: the redis-playbook snapshots, oldest first.'),
  kept: z.array(z.string()).optional().describe('forget: the snapshots kept.'),
  removed: z.array(z.string()).optional().describe('forget: the snapshots removed.'),
});
