import { resolve } from 'node:path';
import { z } from 'zod';
import { backup } from '../../procedures/backup.ts';
import { clusterBackup } from '../../procedures/cluster-backup.ts';
import { containerAccess, matchClusterContainers } from '../../procedures/cluster-containers.ts';
import { openHealthyCluster, shortId } from '../../procedures/cluster-topology.ts';
import type { ContainerRef } from '../../procedures/container.ts';
import type { Engine } from '../../engines/engine.ts';
import { PlaybookError } from '../../procedures/errors.ts';
import { DEFAULT_TIMEOUT_MS, withConnection } from '../../procedures/connect.ts';
import { writeBackupMetric } from '../../procedures/metrics-file.ts';
import { containerDataDir } from '../../procedures/container-files.ts';
import { connectContainer } from '../../procedures/container-redis.ts';
import { aclHelp } from '../../procedures/server-refusal.ts';
import type { RedisTarget } from '../../procedures/target.ts';
import { formatRanges } from '../../redis/cluster.ts';
import { defineCommand, jsonText, type CliIo } from '../command.ts';
import { assertNoConnectionOptionsWithContainer, ConnectionOptionsShape, targetFromOptions, urlOption } from '../connection-options.ts';
import { containerFromOptions, containerOptions } from '../container-options.ts';
import { BackupJsonSchema } from '../json-schemas.ts';
import { metricsFileOption } from '../metrics-option.ts';
import { progressPrinter } from '../progress.ts';
import { engineForServerInfo, engineFromServerOption, ServerOptionShape } from '../server-option.ts';

/** The options of `redis-playbook backup`. */
export const BackupOptionsSchema = z.object({
  to: z
    .string({ error: 'the backup dir is required (--to DIR)' })
    .min(1, { error: 'expected a directory' })
    .meta({ value: 'DIR', help: 'The backup dir (created if missing)' }),
  url: urlOption(),
  ...ConnectionOptionsShape,
  ...containerOptions(
    'Back up Redis in this container (docker exec NAME redis-cli, docker cp);\nwith --cluster, the containers of its nodes: A,B,C',
  ),
  keep: z.coerce
    .number({ error: 'expected a number of backups' })
    .int({ error: 'expected a whole number' })
    .min(1, { error: 'expected at least 1' })
    .optional()
    .meta({ value: 'N', help: 'Afterwards, remove complete backups older than the N newest (nothing else)' }),
  'metrics-file': metricsFileOption(
    'Afterwards',
    'DIR',
    "= the new backup's snapshot time in unix seconds (written only when\nits checks passed)",
  ),
  server: ServerOptionShape.server.meta({
    help: [
      'The server program whose checkers check the copy (default: this',
      "machine's redis-server when it is the server's version, else the",
      "server's own programs found from its INFO executable, else",
      'redis-server; name it, e.g. /usr/bin/valkey-server, when not found).',
      "With --container, default the container's own: its image's",
      'redis-check-rdb and redis-check-aof run (docker run --rm, no network),',
      "or this machine's when they are the same version",
    ].join('\n'),
  }),
  cluster: z.boolean().default(false).meta({ help: 'Back up the whole cluster of the --url node (see above)' }),
  stagger: z.coerce
    .number({ error: 'expected a number of seconds' })
    .min(0, { error: 'expected 0 or more seconds' })
    .max(3600, { error: 'expected at most 3600 seconds' })
    .optional()
    .meta({ value: 'SECONDS', help: "With --cluster: start the shards' backups (their forks) this far apart" }),
  json: z.boolean().default(false).meta({ help: 'Print one JSON object: { "path": …, "manifest": … }' }),
});

export const backupCommand = defineCommand({
  name: 'backup',
  summary: 'Take a fresh snapshot (of every primary with --cluster) and copy it, with checksums and a manifest, into a dated folder',
  usage: `Usage: redis-playbook backup --to DIR [--url redis://host:port] [--container NAME | --compose-service SERVICE]
                             [--keep N] [--metrics-file PATH] [--server PROGRAM] [--json]
       redis-playbook backup --cluster --url redis://node:port --to DIR [--container A,B,C | --compose-service S1,S2,S3]
                             [--stagger SECONDS] [--server PROGRAM] [--json]`,
  description: `Asks the server for a snapshot that starts now (BGSAVE SCHEDULE; a save or AOF rewrite already
running is waited for, never copied stale), waits until it is complete, copies the RDB and, when
AOF is on, the AOF set, checks the copy with redis-check-rdb (and redis-check-aof), and writes
DIR/<UTC time>/ with manifest.json (sizes, SHA-256, key counts per database, the config a restore
needs; never a password). The folder appears only when complete: an interrupted backup leaves a
.incomplete-* folder, never one that looks finished. Progress goes to stderr.

It reads the data dir directly: run it on the server's machine as root or the redis user. With
--container (or --compose-service) it talks to Redis with docker exec NAME redis-cli and copies the
files out with docker cp; the manifest records the container's name.

On a replica, the replica forks and writes the snapshot, never its primary; the manifest records
the role, the primary's host:port and the replication offset the snapshot was taken at.

With --cluster, the --url node's whole Redis Cluster: every primary that serves slots is backed up
as above (its own snapshot, checked, with its manifest) into DIR/<UTC time>-cluster/shard-N/, all
at once or --stagger SECONDS apart; the slot map, node IDs, each node's nodes.conf (those this
machine can read), each shard's keys and checksums go into its manifest.json. The snapshots are
NOT one instant: each shard records when its backup started, its snapshot completed and it ended,
and the output says over how many seconds they were taken. Primaries, not replicas: a replica may
lag its primary. Run it where every primary's data dir can be read. Refuses (exit 11) a node not in
cluster mode, a cluster with a failed node or unserved slots, or a slot map that changed meanwhile.

A cluster in containers (Docker, host networking: the nodes answer on this machine's loopback, their
data dirs are in the containers): --cluster --container A,B,C (or --compose-service S1,S2,S3) names
the containers, in any order. Each is matched to its node by the node ID its own nodes.conf names
myself, confirmed with CLUSTER MYID through it (docker exec NAME redis-cli -p PORT); each shard is then
backed up through its container (docker exec, docker cp, its image's checkers) and the manifest
records which. A primary in none of them is refused (exit 11) before anything is written; replicas
need not be named (their nodes.conf is then not kept).`,
  options: BackupOptionsSchema,
  json: BackupJsonSchema,
  notes: `The password comes from the URL or from REDISCLI_AUTH; it is never printed nor recorded.
${aclHelp('backup')}.`,
  async run(options, io) {
    const target = targetFromOptions(options, io.env);
    if (options.cluster) return runClusterBackup(options, target, io);
    if (options.stagger !== undefined) throw new PlaybookError('usage', "--stagger is for --cluster: it spaces the shards' forks");
    const to = resolve(options.to);
    const container = await containerFromOptions(options, io);
    assertNoConnectionOptionsWithContainer(target, container);
    // A container's backup is checked by its own engine (its image's checkers, or the same version here);
    // a server's, without --server, by this machine's programs when they are its version, else by the
    // server's own found from its INFO executable.
    const engine =
      options.server !== undefined || container
        ? await engineFromServerOption(options.server, container)
        : async (server: Record<string, string | undefined>) => {
            const chosen = await engineForServerInfo(server);
            if (chosen.own) io.stderr(`checking with ${chosen.engine.checkRdb}: ${chosen.how}\n`);
            return chosen.engine;
          };
    const common = { engine, to, keep: options.keep, onProgress: progressPrinter(io) };
    const result = container
      ? await connectContainer(container, target, { timeoutMs: DEFAULT_TIMEOUT_MS }).then(({ commands }) =>
          backup({
            ...common,
            client: commands,
            files: containerDataDir(container),
            source: { host: target.host, port: target.port, container: container.name },
          }),
        )
      : await withConnection(target, { timeoutMs: DEFAULT_TIMEOUT_MS }, (client) =>
          backup({
            ...common,
            client,
            source: { host: target.host, port: target.port, ...(target.socket ? { socket: target.socket } : {}) },
          }),
        );
    const checked = result.manifest.checks.rdb.ok && (result.manifest.checks.aof?.ok ?? true);
    if (options['metrics-file'] && checked)
      await writeBackupMetric(resolve(options['metrics-file']), to, new Date(result.manifest.createdAt));
    if (options.json) {
      io.stdout(jsonText(BackupJsonSchema, { path: result.path, manifest: result.manifest, pruned: result.pruned }));
    } else {
      const keys = Object.values(result.manifest.keyspace).reduce((sum, db) => sum + db.keys, 0);
      const bytes = result.manifest.files.reduce((sum, file) => sum + file.size, 0);
      io.stdout(
        `Backup complete: ${result.path}\n  ${keys} keys, ${result.manifest.files.length} files, ${bytes} bytes, snapshot of ${result.manifest.createdAt}\n`,
      );
      const replication = result.manifest.replication;
      if (replication?.primary) {
        io.stdout(
          `  taken on a replica of ${replication.primary.host}:${replication.primary.port} (link ${replication.link}), replication offset ${replication.offset}: its primary did not fork\n`,
        );
      }
      for (const path of result.pruned) io.stdout(`  removed old backup ${path}\n`);
    }
    return 0;
  },
});

/** `backup --cluster`: every primary's shard, the slot map and the time span, into one dated folder. */
async function runClusterBackup(options: z.infer<typeof BackupOptionsSchema>, target: RedisTarget, io: CliIo): Promise<number> {
  const alone = (['keep', 'metrics-file', 'socket'] as const).find((name) => options[name] !== undefined);
  if (alone) throw new PlaybookError('usage', `--${alone} does not go with --cluster`);
  const access = await clusterContainerAccess(options, target, io);
  const printers = new Map<number, ReturnType<typeof progressPrinter>>();
  const result = await clusterBackup({
    target,
    to: resolve(options.to),
    staggerSeconds: options.stagger,
    ...(access ? { access } : {}),
    engine:
      options.server !== undefined
        ? await engineFromServerOption(options.server)
        : async (server) => (await engineForServerInfo(server)).engine,
    onProgress: (progress) => {
      const prefix = `shard ${progress.shard} (${progress.node})`;
      if ('done' in progress) {
        io.stderr(`${prefix}: done, ${progress.done.keys} keys in ${progress.done.seconds.toFixed(1)} s\n`);
        return;
      }
      if (!printers.has(progress.shard))
        printers.set(
          progress.shard,
          progressPrinter({
            ...io,
            stderr: (text) => {
              io.stderr(`${prefix}: ${text}`);
            },
          }),
        );
      printers.get(progress.shard)?.(progress.event);
    },
  });
  const { manifest } = result;
  if (options.json) {
    io.stdout(jsonText(BackupJsonSchema, { path: result.path, manifest }));
    return 0;
  }
  const keys = manifest.shards.reduce((sum, shard) => sum + shard.keys, 0);
  io.stdout(
    `Cluster backup complete: ${result.path}\n  ${manifest.shards.length} shards, ${keys} keys, ${manifest.topology.nodes.length} nodes (${manifest.files.filter((file) => file.role === 'nodes-conf').length} nodes.conf kept)\n`,
  );
  for (const shard of manifest.shards) {
    io.stdout(
      `  ${shard.dir}: slots ${formatRanges(shard.slots)} from ${shard.host}:${shard.port} (${shortId(shard.nodeId)}), ${shard.keys} keys, snapshot of ${shard.snapshotAt}\n`,
    );
  }
  io.stdout(
    `  The shards were taken over ${manifest.span.seconds.toFixed(1)} s (${manifest.span.startedAt} to ${manifest.createdAt}), not at one instant: a write in that span may be in one shard and not in another.\n`,
  );
  return 0;
}

/**
 * With --cluster, `--container a,b,c` (or `--compose-service s1,s2,s3`): the containers the nodes run
 * in (host networking), each matched to its node (cluster-containers.ts); undefined without them.
 */
async function clusterContainerAccess(options: z.infer<typeof BackupOptionsSchema>, target: RedisTarget, io: CliIo) {
  const names = (list: string | undefined) =>
    (list ?? '')
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean);
  const containers = await Promise.all([
    ...names(options.container).map((container) => containerFromOptions({ container }, io)),
    ...names(options['compose-service']).map((service) => containerFromOptions({ 'compose-service': service }, io)),
  ]);
  if (containers.length === 0) return undefined;
  const { client, view } = await openHealthyCluster(target);
  client.disconnect();
  const matched = await matchClusterContainers(target, view, containers as ContainerRef[]);
  const engines = new Map<string, Promise<Engine>>();
  for (const node of view.primaries) {
    const container = matched.get(node.id) as ContainerRef;
    io.stderr(`${node.host}:${node.port} (${shortId(node.id)}, slots ${formatRanges(node.slots)}) runs in container ${container.name}\n`);
  }
  return containerAccess(target, matched, (container) => {
    if (!engines.has(container.image)) engines.set(container.image, engineFromServerOption(options.server, container));
    return engines.get(container.image) as Promise<Engine>;
  });
}
