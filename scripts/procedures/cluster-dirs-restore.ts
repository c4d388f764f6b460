import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Engine } from '../engines/engine.ts';
import { formatRanges, parseClusterNodes, sameSlots, type ClusterNode } from '../redis/cluster.ts';
import { checkClusterBackup, clusterCheckFailure, describeShard } from './cluster-check.ts';
import { shortId } from './cluster-topology.ts';
import { PlaybookError } from './errors.ts';
import type { ClusterShard } from './manifest.ts';
import { restore, type RestoreResult } from './restore.ts';
import { serversUsingDir } from './running-server.ts';

export interface ClusterDirsOptions {
  /** The cluster backup folder. */
  backup: string;
  /** The data dir of every node of the stopped cluster (primaries and replicas), in any order. */
  dataDirs: string[];
  engine: Engine;
  /** The name of each node's cluster config file in its data dir (`cluster-config-file`, default `nodes.conf`). */
  nodesConf?: string;
  /** Run the checkers again instead of trusting the verdicts recorded for the same bytes (see restore). */
  recheck?: boolean;
}

/** One data dir as its own `nodes.conf` describes its node, and the shard it receives. */
export interface NodeDirPlan {
  dataDir: string;
  nodeId: string;
  role: ClusterNode['role'];
  shard: ClusterShard;
  /** `node ID`: the node the shard was taken on (or one of its replicas) by ID; `slots`: another cluster of the same shape, matched by the slots it serves. */
  matchedBy: 'node ID' | 'slots';
}

export interface ClusterDirsResult {
  backup: string;
  nodes: (NodeDirPlan & { restore: RestoreResult })[];
}

/** A node's own view from its `nodes.conf` (the `CLUSTER NODES` format, and a `vars` line): itself, and the slots of its shard's primary. */
async function readNodeDir(dataDir: string, nodesConf: string): Promise<{ myself: ClusterNode; slots: ClusterNode['slots'] }> {
  const path = join(dataDir, nodesConf);
  const text = await readFile(path, 'utf8').catch((caught: unknown) => {
    const error = caught as NodeJS.ErrnoException;
    if (error.code === 'ENOENT') {
      throw new PlaybookError(
        'cluster',
        `${dataDir} has no ${nodesConf}: it is not the data dir of a cluster node (create the cluster first, or restore with --into-cluster)`,
        { cause: error },
      );
    }
    throw new PlaybookError('io', `Cannot read ${path}: ${error.message}`, { cause: error });
  });
  let nodes: ClusterNode[];
  try {
    nodes = parseClusterNodes(
      text
        .split('\n')
        .filter((line) => !line.startsWith('vars '))
        .join('\n'),
    );
  } catch (error) {
    throw new PlaybookError('cluster', `${path} is not a cluster config file: ${(error as Error).message}`, { cause: error });
  }
  const myself = nodes.find((node) => node.flags.includes('myself'));
  if (!myself) throw new PlaybookError('cluster', `${path} has no "myself" line: not a cluster config file`);
  const primary = myself.role === 'primary' ? myself : nodes.find((node) => node.id === myself.primaryId);
  return { myself, slots: primary?.slots ?? [] };
}

/**
 * The offline restore of a cluster of the same shape: with every node STOPPED, installs each shard's
 * snapshot into the data dir of every node of that shard (its primary and its replicas, so that
 * whichever starts first serves the backup), with the one-server restore (the current files moved
 * aside into `pre-restore-<time>/`, each switch atomic). Each node keeps its own `nodes.conf` (its
 * node ID, epochs and peers): a dir's shard is the one whose slots its node, or its primary, serves
 * in that file; the node IDs of the backup match when it is the same cluster rolled back.
 * Everything is checked before any dir is touched: the backup, that every dir belongs to a shard
 * and every shard has a primary's dir, and that no server runs on any dir.
 */
export async function restoreClusterDirs(options: ClusterDirsOptions): Promise<ClusterDirsResult> {
  const { backup, dataDirs, engine, nodesConf = 'nodes.conf' } = options;
  const check = await checkClusterBackup(backup, engine, { trustRecorded: !options.recheck });
  if (!check.ok) throw new PlaybookError('backup', `Refusing to restore ${backup}: ${clusterCheckFailure(check)}`);
  const shards = check.manifest.shards;
  const plans: NodeDirPlan[] = [];
  for (const dataDir of dataDirs) {
    const { myself, slots } = await readNodeDir(dataDir, nodesConf);
    const shard = shards.find((item) => sameSlots(item.slots, slots));
    if (!shard) {
      throw new PlaybookError(
        'cluster',
        `${dataDir} (node ${shortId(myself.id)}, ${myself.role}) serves slots ${formatRanges(slots) || 'none'}, which no shard of the backup has: the cluster's shape differs; restore with --into-cluster instead`,
      );
    }
    const ids = new Set([shard.nodeId, ...shard.replicas]);
    plans.push({ dataDir, nodeId: myself.id, role: myself.role, shard, matchedBy: ids.has(myself.id) ? 'node ID' : 'slots' });
  }
  for (const shard of shards) {
    if (!plans.some((plan) => plan.shard === shard && plan.role === 'primary')) {
      throw new PlaybookError(
        'cluster',
        `No data dir given is of the primary serving ${describeShard(shard)}: name every node's data dir (--cluster-dirs DIR,DIR,…)`,
      );
    }
  }
  const seen = new Set<string>();
  for (const plan of plans) {
    if (seen.has(plan.nodeId))
      throw new PlaybookError('usage', `Two data dirs are of node ${shortId(plan.nodeId)}: name each node's data dir once`);
    seen.add(plan.nodeId);
    const running = await serversUsingDir(plan.dataDir);
    if (running.length > 0) {
      throw new PlaybookError(
        'state',
        `A server is running on ${plan.dataDir} (pid ${running[0]?.pid}): stop every node of the cluster first, then restore`,
      );
    }
  }
  const nodes: ClusterDirsResult['nodes'] = [];
  for (const plan of plans) {
    const shardDir = join(backup, plan.shard.dir);
    nodes.push({ ...plan, restore: await restore({ backup: shardDir, dataDir: plan.dataDir, engine, recheck: options.recheck }) });
  }
  return { backup, nodes };
}
