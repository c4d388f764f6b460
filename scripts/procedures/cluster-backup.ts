import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClusterNode } from '../redis/cluster.ts';
import { flattenInfo, parseInfo } from '../redis/info.ts';
import { backup, renameUnique, type BackupOptions, type BackupProgress } from './backup.ts';
import type { RedisCommands } from './commands.ts';
import { hostDataDir, type DataDirReader } from './data-dir.ts';
import { connectNode, nodesConfPath, openHealthyCluster, readCluster, slotMapKey } from './cluster-topology.ts';
import { PlaybookError } from './errors.ts';
import { digestFile, folderStamp, fsyncPath } from './files.ts';
import { ClusterManifestSchema, MANIFEST_FILE, type ClusterManifest, type ClusterShard } from './manifest.ts';
import type { RedisTarget } from './target.ts';

/** Progress of a cluster backup: a shard's own backup progress, tagged with the shard, or a shard done. */
export type ClusterBackupProgress =
  { shard: number; node: string; event: BackupProgress } | { shard: number; node: string; done: { keys: number; seconds: number } };

export interface ClusterBackupOptions {
  /** Any node of the cluster (its credentials and TLS reach every node). */
  target: RedisTarget;
  /** The backup root: the cluster backup becomes one folder inside it. */
  to: string;
  /** The checkers of each shard's copy, or how to choose them from its `INFO server` (as for one server). */
  engine: BackupOptions['engine'];
  /** Seconds between the starts of two shards' backups (their forks); 0 starts them all at once. */
  staggerSeconds?: number;
  onProgress?: (event: ClusterBackupProgress) => void;
  /**
   * How a node's server and its data dir are reached (its container's, for a cluster in containers:
   * cluster-containers.ts); default over TCP ({@link connectNode}) and this machine's file system.
   */
  access?: (node: ClusterNode) => Promise<NodeAccess>;
}

/** One node as the backup reaches it: its commands, its data dir, and the container it runs in. */
export interface NodeAccess {
  client: RedisCommands;
  /** Its data dir (default this machine's file system). */
  files?: DataDirReader;
  /** The container it runs in, recorded in the shard's manifest. */
  container?: string;
  /** The checkers of its shard's copy (default the options' `engine`). */
  engine?: BackupOptions['engine'];
  /** Closes what was opened to reach it. */
  close(): void;
}

/** A node over TCP (the URL's credentials and TLS) and its files on this machine. */
async function tcpAccess(target: RedisTarget, node: ClusterNode): Promise<NodeAccess> {
  const client = await connectNode(target, node);
  return {
    client,
    close: () => {
      client.disconnect();
    },
  };
}

export interface ClusterBackupResult {
  path: string;
  manifest: ClusterManifest;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Backs up a Redis Cluster: every primary that serves slots is backed up by the one-server backup
 * (a fresh snapshot on that primary, copied, checked, with its manifest) into `shard-N/`, all shards
 * at once or `staggerSeconds` apart; each node's `nodes.conf` readable here is kept under `nodes/`;
 * a `manifest.json` of kind `cluster` records the slot map, node IDs, each shard's keys, checksums
 * and the times its backup started, its snapshot completed and it ended. The snapshots are not one
 * instant: the manifest's `span` says over how long they were taken. The folder appears complete or
 * not at all. Refuses a node that is not in cluster mode, a cluster with a failed node or uncovered
 * slots, and a slot map that changed during the backup (a failover or resharding).
 *
 * Primaries, not replicas: a replica may lag its primary, and the snapshot should hold every write
 * the shard acknowledged before it began. The price is one fork on each primary (stagger them with
 * `staggerSeconds` when memory is short).
 */
export async function clusterBackup(options: ClusterBackupOptions): Promise<ClusterBackupResult> {
  const { target, to, onProgress } = options;
  const access = options.access ?? ((node: ClusterNode) => tcpAccess(target, node));
  const stagger = options.staggerSeconds ?? 0;
  const { client, view } = await openHealthyCluster(target);
  let server: Record<string, string>;
  try {
    server = flattenInfo(parseInfo(await client.info('server')));
  } finally {
    client.disconnect();
  }
  await mkdir(to, { recursive: true }).catch((error: unknown) => {
    throw new PlaybookError('io', `Cannot create the backup dir ${to}: ${(error as Error).message}`, { cause: error });
  });
  const temp = join(to, `.incomplete-${folderStamp()}-cluster-${process.pid}-${randomBytes(3).toString('hex')}`);
  await mkdir(temp);
  try {
    const settled = await Promise.allSettled(
      view.primaries.map(async (node, index): Promise<ClusterShard> => {
        if (stagger > 0) await sleep(index * stagger * 1000);
        const dir = `shard-${index}`;
        const staging = join(temp, `.${dir}`);
        const startedAt = new Date();
        const reach = await access(node);
        let result;
        try {
          result = await backup({
            client: reach.client,
            ...(reach.files ? { files: reach.files } : {}),
            source: { host: node.host, port: node.port, ...(reach.container ? { container: reach.container } : {}) },
            engine: reach.engine ?? options.engine,
            to: staging,
            onProgress: (event) => onProgress?.({ shard: index, node: `${node.host}:${node.port}`, event }),
          });
        } finally {
          reach.close();
        }
        await rename(result.path, join(temp, dir));
        await rm(staging, { recursive: true, force: true });
        const endedAt = new Date();
        const db0 = result.manifest.keyspace['0'] ?? { keys: 0, expires: 0 };
        const extra = Object.keys(result.manifest.keyspace).filter((db) => db !== '0' && (result.manifest.keyspace[db]?.keys ?? 0) > 0);
        if (extra.length > 0)
          throw new PlaybookError(
            'cluster',
            `${node.host}:${node.port} holds keys in database ${extra.join(', ')}: a cluster node has only database 0`,
          );
        onProgress?.({
          shard: index,
          node: `${node.host}:${node.port}`,
          done: { keys: db0.keys, seconds: (endedAt.getTime() - startedAt.getTime()) / 1000 },
        });
        return {
          dir,
          nodeId: node.id,
          host: node.host,
          port: node.port,
          slots: node.slots,
          ...(reach.container ? { container: reach.container } : {}),
          replicas: view.nodes.filter((other) => other.primaryId === node.id).map((other) => other.id),
          keys: db0.keys,
          expires: db0.expires,
          startedAt: startedAt.toISOString(),
          snapshotAt: result.manifest.createdAt,
          endedAt: endedAt.toISOString(),
          manifestSha256: (await digestFile(join(temp, dir, MANIFEST_FILE))).sha256,
        };
      }),
    );
    // Every shard settles before anything is removed; the first failure is the one reported.
    const failed = settled.find((outcome) => outcome.status === 'rejected');
    if (failed) throw failed.reason;
    const shards = settled.map((outcome) => (outcome as PromiseFulfilledResult<ClusterShard>).value);

    // The slot map must be the one the shards were taken under: a failover or a resharding meanwhile
    // leaves a backup whose shards do not match any one state of the cluster.
    const after = await openHealthyCluster(target);
    try {
      const now = await readCluster(after.client, target.url);
      if (slotMapKey(now) !== slotMapKey(view)) {
        throw new PlaybookError(
          'cluster',
          `The slot map of ${target.url} changed during the backup (a failover or a resharding): nothing was kept; run the backup again`,
        );
      }
    } finally {
      after.client.disconnect();
    }

    const files = [];
    await writeFile(join(temp, 'cluster-nodes.txt'), view.text);
    files.push({ path: 'cluster-nodes.txt', role: 'topology' as const, ...(await digestFile(join(temp, 'cluster-nodes.txt'))) });
    await mkdir(join(temp, 'nodes'));
    for (const node of view.nodes) {
      const dest = join(temp, 'nodes', `${node.id}.conf`);
      // A node on another machine, in no container named, or a file this user may not read: not kept (the manifest lists what is).
      const digest = await copyNodesConf(access, node, dest).catch(() => undefined);
      if (digest) files.push({ path: `nodes/${node.id}.conf`, role: 'nodes-conf' as const, nodeId: node.id, ...digest });
    }

    const first = Math.min(...shards.map((shard) => Date.parse(shard.startedAt)));
    const lastSnapshot = Math.max(...shards.map((shard) => Date.parse(shard.snapshotAt)));
    const last = Math.max(...shards.map((shard) => Date.parse(shard.endedAt)));
    const manifest = ClusterManifestSchema.parse({
      format: 'redis-playbook-backup/2',
      kind: 'cluster',
      createdAt: new Date(last).toISOString(),
      source: {
        host: target.host,
        port: target.port,
        engine: server.server_name ?? 'redis',
        version: server.valkey_version ?? server.redis_version ?? 'unknown',
        ...(server.executable ? { executable: server.executable } : {}),
      },
      topology: { nodes: view.nodes },
      span: {
        startedAt: new Date(first).toISOString(),
        lastSnapshotAt: new Date(lastSnapshot).toISOString(),
        seconds: (last - first) / 1000,
        staggerSeconds: stagger,
      },
      shards,
      files,
    });
    await writeFile(join(temp, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`, { flag: 'wx' });
    await fsyncPath(join(temp, MANIFEST_FILE));
    await fsyncPath(temp);
    const path = await renameUnique(temp, to, `${folderStamp(new Date(last))}-cluster`);
    await fsyncPath(to);
    return { path, manifest };
  } catch (error) {
    // Only our own incomplete folder is removed: nothing in it existed before this run.
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
}

/** Copies a node's `nodes.conf` (`CONFIG GET dir` and `cluster-config-file`, else `nodes.conf`) to `dest`; its digest. */
async function copyNodesConf(access: (node: ClusterNode) => Promise<NodeAccess>, node: ClusterNode, dest: string) {
  const reach = await access(node);
  try {
    return await (reach.files ?? hostDataDir).copyOut(await nodesConfPath(reach.client), dest);
  } finally {
    reach.close();
  }
}
