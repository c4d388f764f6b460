/**
 * What each command prints with `--json`: one zod schema per command (for `watch`, per line). The
 * commands print values of these types, the CLI tests parse what was printed with them, the package
 * ships them as JSON Schemas (`schemas/<command>.schema.json`) and the CLI reference page shows them.
 * Objects are strict: a key the schema does not name fails the tests. Fields say what they are in
 * `.describe()`, which the JSON Schemas and the reference page carry.
 */
import { z } from 'zod';
import { InspectReportSchema } from '../procedures/inspect-report.ts';
import { BackupManifestSchema, ClusterManifestSchema } from '../procedures/manifest.ts';
import { OffsiteEntrySchema } from '../procedures/offsite.ts';
import { WatchEventSchema } from '../procedures/watch.ts';

/** `inspect --json`: the InspectReport. */
export const InspectJsonSchema = InspectReportSchema;

/** `backup --json`: one server's backup, or with --cluster the cluster's. */
export const BackupJsonSchema = z.union([
  z.strictObject({
    path: z.string().describe('The new backup folder.'),
    manifest: BackupManifestSchema.describe('Its manifest.json.'),
    pruned: z.array(z.string()).describe('Older backups removed by --keep.'),
  }),
  z.strictObject({
    path: z.string().describe('The new cluster backup folder (one shard-N folder per primary inside).'),
    manifest: ClusterManifestSchema.describe('Its manifest.json: shards, slot map, node IDs and the span they were taken over.'),
    pruned: z.array(z.string()).describe('Older cluster backups removed by --keep.'),
  }),
]);

/** `backups --json`: each folder of the backup dir, oldest first. */
export const BackupsJsonSchema = z.strictObject({
  backups: z.array(
    z.strictObject({
      path: z.string().describe('The folder.'),
      name: z.string().describe("Its name (the backup's UTC time)."),
      createdAt: z.string().optional().describe('The snapshot time (ISO 8601, UTC); absent when the folder is not a backup.'),
      bytes: z.number().int().nonnegative().optional().describe('Bytes of its files.'),
      keys: z.number().int().nonnegative().optional().describe('Keys in all its databases.'),
      aof: z.boolean().optional().describe('Whether it holds an AOF set.'),
      checked: z.string().optional().describe('`ok`, or the first check that failed when the backup was taken.'),
      problem: z.string().optional().describe('Why the folder is not a backup (no or invalid manifest, interrupted).'),
      kind: z.enum(['server', 'cluster']).optional().describe("`cluster` for a backup --cluster folder, `server` for one server's backup."),
      shards: z.number().int().positive().optional().describe("A cluster backup's shards (one per primary)."),
      spanSeconds: z
        .number()
        .nonnegative()
        .optional()
        .describe("Seconds over which a cluster backup's shards were taken (they are not one instant)."),
    }),
  ),
});

/** `check --json` of one server's backup. */
const ServerCheckJsonSchema = z.strictObject({
  ok: z.boolean().describe('True when every check passed.'),
  path: z.string().describe('The backup folder or RDB file checked.'),
  rdbVersion: z.number().int().optional().describe('Its RDB format version; absent when the snapshot could not be read.'),
  items: z
    .array(
      z.strictObject({
        what: z.string().describe('What was checked (`dump.rdb sha256`, `redis-check-rdb dump.rdb`, …).'),
        ok: z.boolean(),
        detail: z.string(),
      }),
    )
    .describe('Each check, in order.'),
});

/** `check --json`: one server's backup, or a cluster backup. */
export const CheckJsonSchema = z.union([
  ServerCheckJsonSchema,
  z.strictObject({
    ok: z.boolean().describe('True when every check of every shard passed.'),
    path: z.string().describe('The cluster backup folder.'),
    kind: z.literal('cluster'),
    shards: z.number().int().positive().describe('Its shards.'),
    items: z
      .array(
        z.strictObject({
          what: z.string().describe("What was checked, shard items prefixed with the shard's folder."),
          ok: z.boolean(),
          detail: z.string(),
        }),
      )
      .describe('Each check, in order.'),
  }),
]);

/** `test-restore --json` of one server's backup. */
const ServerTestRestoreJsonSchema = z.strictObject({
  ok: z.boolean().describe('True when the loaded keys match the manifest.'),
  backup: z.string().describe('The backup loaded.'),
  version: z.string().describe("The scratch server's version."),
  loadMs: z.number().nonnegative().describe('Time from its start to its first answer (the load), milliseconds.'),
  databases: z
    .array(
      z.strictObject({
        db: z.number().int().nonnegative(),
        expected: z.number().int().nonnegative().optional().describe('Keys the manifest recorded (absent for a bare RDB).'),
        loaded: z.number().int().nonnegative(),
        ok: z.boolean().describe('Equal, or short by no more than the keys with a TTL.'),
      }),
    )
    .describe('Keys per database, loaded against recorded.'),
  samples: z
    .array(
      z.strictObject({
        db: z.number().int().nonnegative(),
        key: z.string(),
        type: z.string(),
        ttlMs: z.number().int().describe('Milliseconds to live; -1 without a TTL.'),
      }),
    )
    .describe('A few keys seen in the scratch server.'),
  digest: z.string().describe('DEBUG DIGEST of the loaded dataset: equal datasets have equal digests.'),
});

/** `test-restore --json`: one server's backup, or a cluster backup loaded into a scratch cluster of its shape. */
export const TestRestoreJsonSchema = z.union([
  ServerTestRestoreJsonSchema,
  z.strictObject({
    ok: z.boolean().describe("True when every shard loaded its keys, none of them in another shard's slots."),
    backup: z.string().describe('The cluster backup loaded.'),
    version: z.string().describe("The scratch nodes' version."),
    loadMs: z.number().nonnegative().describe('Milliseconds from the start of the nodes to a cluster with cluster_state:ok.'),
    shards: z.array(
      z.strictObject({
        dir: z.string().describe("The shard's folder."),
        slots: z.string().describe('Its slot ranges.'),
        expected: z.number().int().nonnegative().describe('Keys its manifest recorded.'),
        loaded: z.number().int().nonnegative().describe('Keys its scratch node loaded.'),
        foreign: z.number().int().nonnegative().describe("Keys in slots outside the shard's ranges."),
        ok: z.boolean(),
      }),
    ),
  }),
]);

/**
 * `restore --json`, one shape for both ways: a stopped server's data dir, and Redis in a container
 * (`container` is null for the first). Before, the host restore printed no `container` key.
 */
const ServerRestoreJsonSchema = z.strictObject({
  backup: z.string().describe('The backup installed.'),
  container: z
    .string()
    .nullable()
    .describe('The container restored (--container, --compose-service), or null for a data dir on this machine.'),
  dataDir: z.string().describe('The data dir restored (inside the container for a container).'),
  appendonly: z.boolean().describe('Whether the server starts with appendonly yes.'),
  installed: z.array(z.string()).describe('What was installed, relative to the data dir.'),
  movedAside: z.string().nullable().describe('The folder holding the previous files (the undo), or null when the dir held none.'),
  moved: z.array(z.string()).describe('What was moved aside, relative to the data dir.'),
});

/** `restore --json`: one server's data dir, or a cluster backup --into-cluster or --cluster-dirs. */
export const RestoreJsonSchema = z.union([
  ServerRestoreJsonSchema,
  z.strictObject({
    backup: z.string().describe('The cluster backup restored.'),
    target: z.string().describe('The target node asked (--into-cluster).'),
    keys: z.number().int().nonnegative().describe('Keys written in all.'),
    expired: z.number().int().nonnegative().describe('Keys whose TTL ran out before they could be restored (not written).'),
    seconds: z.number().nonnegative(),
    shards: z.array(
      z.strictObject({
        dir: z.string(),
        expected: z.number().int().nonnegative(),
        restored: z.number().int().nonnegative(),
        expired: z.number().int().nonnegative(),
      }),
    ),
    nodes: z
      .array(z.strictObject({ id: z.string(), address: z.string(), slots: z.string(), keys: z.number().int().nonnegative() }))
      .describe("The target's primaries and the keys each received."),
  }),
  z.strictObject({
    backup: z.string().describe('The cluster backup restored (--cluster-dirs).'),
    nodes: z.array(
      z.strictObject({
        dataDir: z.string(),
        nodeId: z.string(),
        role: z.string().describe("The node's role in its nodes.conf."),
        shard: z.string().describe('The shard folder installed there.'),
        slots: z.string(),
        matchedBy: z.enum(['node ID', 'slots']).describe('How the node was matched to its shard.'),
        installed: z.array(z.string()),
        movedAside: z.string().nullable().describe('The folder holding its previous files (the undo), or null.'),
      }),
    ),
  }),
]);

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
  findings: z
    .array(
      z.strictObject({
        subject: z.string().describe('`db0` or `db0 domains:ready`.'),
        expected: z.string(),
        actual: z.string(),
        ok: z.boolean(),
      }),
    )
    .describe('Each expectation and what was found.'),
});

/** `watch --json`: one such object per line. */
export const WatchJsonSchema = WatchEventSchema.strict();

/** `offsite … --json`: one object per action. */
export const OffsiteJsonSchema = z.strictObject({
  action: z.enum(['init', 'push', 'list', 'pull', 'forget']).describe('The action that ran.'),
  repository: z.string().describe('The repository, without user info.'),
  snapshot: z.string().optional().describe("push, pull: restic's short snapshot ID."),
  path: z.string().optional().describe('push: the backup folder pushed; pull: the backup folder it became.'),
  createdAt: z.string().optional().describe("push, pull: the backup's snapshot time (ISO 8601, UTC)."),
  verifiedFiles: z.number().int().nonnegative().optional().describe('push, pull: files checked against the manifest after the transfer.'),
  bytes: z.number().int().nonnegative().optional().describe('push: bytes of the backup.'),
  addedBytes: z.number().int().nonnegative().optional().describe('push: bytes the repository grew by (deduplicated, compressed).'),
  snapshots: z.array(OffsiteEntrySchema).optional().describe('list: the redis-playbook snapshots, oldest first.'),
  kept: z.array(z.string()).optional().describe('forget: the snapshots kept.'),
  removed: z.array(z.string()).optional().describe('forget: the snapshots removed.'),
});
