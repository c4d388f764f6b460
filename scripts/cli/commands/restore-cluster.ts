import { resolve } from 'node:path';
import { z } from 'zod';
import { restoreClusterDirs } from '../../procedures/cluster-dirs-restore.ts';
import { restoreIntoCluster } from '../../procedures/cluster-restore.ts';
import { shortId } from '../../procedures/cluster-topology.ts';
import { PlaybookError } from '../../procedures/errors.ts';
import { parseRedisUrl } from '../../procedures/target.ts';
import { formatRanges } from '../../redis/cluster.ts';
import { jsonText, type CliIo } from '../command.ts';
import { RestoreJsonSchema } from '../json-schemas.ts';
import { engineForBackup, engineFromServerOption } from '../server-option.ts';

/** `restore`'s options for a cluster backup (one group, spread into its schema). */
export const ClusterRestoreOptionsShape = {
  'into-cluster': z
    .string()
    .min(1, { error: 'expected the URL of a node of the target cluster' })
    .optional()
    .meta({ value: 'URL', help: 'A node of the running, empty target cluster (redis://[[user]:password@]host:port)' }),
  replace: z.boolean().default(false).meta({
    help: 'With --into-cluster: write into a cluster that holds keys (keys of the same\nname are overwritten, other keys stay)',
  }),
  'cluster-dirs': z
    .string()
    .min(1, { error: 'expected data dirs, comma-separated' })
    .transform((value) => value.split(',').filter(Boolean))
    .optional()
    .meta({ value: 'D,D,…', help: "Every node's data dir of the stopped cluster (comma-separated)" }),
  'nodes-conf': z
    .string()
    .min(1)
    .regex(/^[^/]+$/, { error: 'expected a file name in the data dir' })
    .default('nodes.conf')
    .meta({ value: 'NAME', help: 'With --cluster-dirs: the cluster-config-file name (default nodes.conf)' }),
};

/** Their paragraph in `restore --help`. */
export const CLUSTER_RESTORE_HELP = `A cluster backup (backup --cluster) is restored one of two ways:
  --into-cluster URL   into a RUNNING, EMPTY cluster of any shape (any number of primaries): each
                       shard's snapshot is loaded into a scratch server here (never a node of the
                       target), its keys are read with DUMP and written with RESTORE … ABSTTL to the
                       primary that owns their slot now, pipelined; TTLs keep their absolute expiry
                       time. Refuses (exit 11) a target that holds any key unless --replace, or that
                       has a failed node or unserved slots; nothing is written then. Progress on stderr.
  --cluster-dirs D,D…  OFFLINE into a STOPPED cluster of the same shape (as many primaries, the same
                       slot ranges): name every node's data dir. Each node keeps its own nodes.conf
                       (node ID, epochs, peers); its shard is the one whose slots it (or its primary)
                       serves there, so the same cluster rolled back and a new one created with the
                       same slot ranges both work. The shard's snapshot is installed into the primary's
                       and its replicas' data dirs as "restore --data-dir" does (current files moved
                       aside into pre-restore-<UTC time>/). Everything is checked before any dir is
                       touched; a dir of another shape is refused (exit 11). Then start every node.`;

type Values = {
  backup: string;
  json: boolean;
  recheck: boolean;
  server?: string;
  'data-dir'?: string;
  container?: string;
  'compose-service'?: string;
} & { [K in keyof typeof ClusterRestoreOptionsShape]?: z.infer<(typeof ClusterRestoreOptionsShape)[K]> };

/** `restore <cluster backup> --into-cluster URL | --cluster-dirs …`. */
export async function runClusterRestore(options: Values, io: CliIo): Promise<number> {
  if (options['into-cluster'] === undefined && options.replace) throw new PlaybookError('usage', '--replace is for --into-cluster');
  if (options['into-cluster'] !== undefined && options['cluster-dirs'] !== undefined)
    throw new PlaybookError('usage', '--into-cluster and --cluster-dirs are two ways to restore: give one');
  const alone = (['data-dir', 'container', 'compose-service'] as const).find((name) => options[name] !== undefined);
  if (alone)
    throw new PlaybookError('usage', `--${alone} is for one server's backup: a cluster backup takes --into-cluster or --cluster-dirs`);
  const backup = resolve(options.backup);
  let engine;
  if (options.server !== undefined) engine = await engineFromServerOption(options.server);
  else {
    const chosen = await engineForBackup(backup);
    if (chosen.own) io.stderr(`loading with ${chosen.engine.server}: ${chosen.how}\n`);
    engine = chosen.engine;
  }
  if (options['into-cluster'] !== undefined) {
    const target = parseRedisUrl(options['into-cluster'], io.env);
    const done = new Map<string, { restored: number; total: number }>();
    let lastLine = 0;
    const result = await restoreIntoCluster({
      backup,
      engine,
      target,
      replace: options.replace,
      recheck: options.recheck,
      onProgress: (event) => {
        done.set(event.dir, event);
        const now = Date.now();
        if (now - lastLine < 1000) return;
        lastLine = now;
        const restored = [...done.values()].reduce((sum, item) => sum + item.restored, 0);
        const total = [...done.values()].reduce((sum, item) => sum + item.total, 0);
        io.stderr(`restoring: ${restored} of ${total} keys (${total ? Math.floor((100 * restored) / total) : 100}%)\n`);
      },
    });
    if (options.json) {
      io.stdout(jsonText(RestoreJsonSchema, result));
      return 0;
    }
    io.stdout(
      `Restored ${result.backup} into the cluster of ${result.target}: ${result.keys} keys in ${result.seconds.toFixed(1)} s${result.expired ? ` (${result.expired} had expired)` : ''}\n`,
    );
    for (const node of result.nodes) io.stdout(`  ${shortId(node.id)} ${node.address} (slots ${node.slots}): ${node.keys} keys\n`);
    return 0;
  }
  const result = await restoreClusterDirs({
    backup,
    dataDirs: (options['cluster-dirs'] ?? []).map((dir) => resolve(dir)),
    engine,
    nodesConf: options['nodes-conf'],
    recheck: options.recheck,
  });
  const rows = result.nodes.map((node) => ({
    dataDir: node.dataDir,
    nodeId: node.nodeId,
    role: node.role,
    shard: node.shard.dir,
    slots: formatRanges(node.shard.slots),
    matchedBy: node.matchedBy,
    installed: node.restore.installed,
    movedAside: node.restore.movedAside ?? null,
  }));
  if (options.json) {
    io.stdout(jsonText(RestoreJsonSchema, { backup: result.backup, nodes: rows }));
    return 0;
  }
  io.stdout(`Restored ${result.backup} into ${rows.length} data dirs:\n`);
  for (const row of rows) {
    io.stdout(
      `  ${row.dataDir}: ${row.role} ${shortId(row.nodeId)} ← ${row.shard} (slots ${row.slots}, matched by ${row.matchedBy})${row.movedAside ? `; previous files in ${row.movedAside}` : ''}\n`,
    );
  }
  io.stdout('Each node kept its nodes.conf. Start every node now; the pre-restore-* folders are your undo.\n');
  return 0;
}
