import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Engine } from '../engines/engine.ts';
import { waitFor } from '../core/wait.ts';
import { flattenInfo, parseInfo } from '../redis/info.ts';
import { parseClusterNodes, SLOT_COUNT, type SlotRange } from '../redis/cluster.ts';
import { startRedis, type DisposableRedis, type RedisServerOptions } from './scratch-server.ts';

/** A cluster node's bus listens on its port + 10000 (Redis 6.0 has no `cluster-port`): both must be free. */
const BUS_OFFSET = 10_000;

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => {
      resolve(false);
    });
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () =>
      server.close(() => {
        resolve(true);
      }),
    );
  });
}

/** Ports {@link freeClusterPort} gave this process. */
const handedOut = new Set<number>();

/** The lowest port the kernel hands out to outgoing connections (Linux's default when it cannot be read). */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 1024 + BUS_OFFSET ? low : 32_768;
  } catch {
    return 32_768;
  }
}

/**
 * A free port whose bus port (+10000) is free too, both below the kernel's ephemeral range: a port
 * from that range (what binding port 0 gives) can be taken by any outgoing connection between the
 * pick and the node's start, and a node that cannot bind its port or its bus never comes up. A
 * harness can pick again; a page's command, run once, cannot.
 */
export async function freeClusterPort(): Promise<number> {
  const highest = ephemeralLow() - BUS_OFFSET - 1;
  const lowest = Math.max(1025, Math.min(10_000, highest - 4_999));
  // Two clusters started at once in this process never get the same port, though neither has bound it yet.
  if (handedOut.size > (highest - lowest) / 2) handedOut.clear();
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = lowest + Math.floor(Math.random() * (highest - lowest + 1));
    if (handedOut.has(port)) continue;
    if ((await portFree(port)) && (await portFree(port + BUS_OFFSET))) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('No free port with a free cluster bus port (+10000) was found on 127.0.0.1');
}

/** `count` ports as {@link freeClusterPort} finds them (never the same one twice). */
export async function freeClusterPorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) ports.push(await freeClusterPort());
  return ports;
}

/** One primary of a scratch cluster: its slots, and the snapshot it starts from. */
export interface ScratchShard {
  slots: SlotRange[];
  /** An RDB to load at the first start (a shard's backup): the node then owns the slots of its keys. */
  rdb?: string;
}

export interface ScratchClusterOptions {
  /** The engine every node runs. */
  engine: Engine;
  shards: ScratchShard[];
  /** Replicas of each primary (default 0). */
  replicasPerShard?: number;
  /** More redis.conf directives for every node (over `appendonly no`, `save ""`). */
  config?: RedisServerOptions['config'];
  /** Milliseconds each node may take to load its snapshot and answer. */
  readyTimeoutMs?: number;
}

/**
 * A real cluster of `--cluster-enabled` nodes of one engine on 127.0.0.1, each a scratch server
 * (own temp dir, free port and bus port); disposing it (also `await using`, also at process exit)
 * kills every node and removes its dir.
 */
export class ScratchCluster {
  readonly primaries: DisposableRedis[];
  readonly replicas: DisposableRedis[];

  constructor(primaries: DisposableRedis[], replicas: DisposableRedis[]) {
    this.primaries = primaries;
    this.replicas = replicas;
  }

  get nodes(): DisposableRedis[] {
    return [...this.primaries, ...this.replicas];
  }

  /** The URL of its first primary (no password). */
  get url(): string {
    return (this.primaries[0] as DisposableRedis).url;
  }

  async dispose(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.dispose()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}

/** What forming a cluster needs of a node: its address and a client (a scratch server, or a container on the host's network). */
export type ClusterMember = Pick<DisposableRedis, 'host' | 'port' | 'withClient' | 'info'>;

async function clusterInfo(node: ClusterMember): Promise<Record<string, string>> {
  return node.withClient(async (client) => flattenInfo(parseInfo(`# Cluster\r\n${String(await client.call('CLUSTER', 'INFO'))}`)));
}

/**
 * Starts a cluster of `shards.length` primaries (and their replicas) and waits until every node
 * knows every other, each replica is in sync and `cluster_state` is ok. A primary started from a
 * shard's RDB takes the slots of the keys it loaded (Redis does so for keys in slots no node owns);
 * the rest of its ranges are added with `CLUSTER ADDSLOTS`. The nodes meet with `CLUSTER MEET`,
 * replicas follow with `CLUSTER REPLICATE`: the commands `redis-cli --cluster create` sends.
 */
export async function startScratchCluster(options: ScratchClusterOptions): Promise<ScratchCluster> {
  const { engine, shards, replicasPerShard = 0 } = options;
  const config = {
    appendonly: 'no',
    save: '""',
    'cluster-enabled': 'yes',
    'cluster-config-file': 'nodes.conf',
    'cluster-node-timeout': 3000,
    ...options.config,
  };
  const start = (rdb?: string) =>
    startRedis(
      {
        config: { ...config, dbfilename: 'dump.rdb' },
        ...(rdb ? { initialFiles: { 'dump.rdb': rdb } } : {}),
        readyTimeoutMs: options.readyTimeoutMs ?? 120_000,
      },
      engine,
      {
        pick: freeClusterPort,
      },
    );
  const started = await Promise.allSettled([
    ...shards.map((shard) => start(shard.rdb)),
    ...Array.from({ length: shards.length * replicasPerShard }, () => start()),
  ]);
  const nodes = started.filter((outcome) => outcome.status === 'fulfilled').map((outcome) => outcome.value);
  const failed = started.find((outcome) => outcome.status === 'rejected');
  const cluster = new ScratchCluster(nodes.slice(0, shards.length), nodes.slice(shards.length));
  if (failed) {
    await Promise.all(nodes.map((node) => node.dispose()));
    throw failed.reason;
  }
  try {
    await formCluster(cluster, shards);
    return cluster;
  } catch (error) {
    await cluster.dispose();
    throw error;
  }
}

/**
 * Makes running, empty `--cluster-enabled` nodes one cluster: each primary gets its shard's slots
 * (`CLUSTER ADDSLOTS`), the nodes meet (`CLUSTER MEET`), replicas follow their primary (`CLUSTER
 * REPLICATE`), then it waits until every node is ok and every replica in sync.
 */
export async function formCluster(
  cluster: { primaries: readonly ClusterMember[]; replicas: readonly ClusterMember[] },
  shards: readonly ScratchShard[],
): Promise<void> {
  const nodes = [...cluster.primaries, ...cluster.replicas];
  const ids: string[] = [];
  for (const [index, node] of cluster.primaries.entries()) {
    await node.withClient(async (client) => {
      const myself = parseClusterNodes(String(await client.call('CLUSTER', 'NODES'))).find((item) => item.flags.includes('myself'));
      if (!myself) throw new Error(`CLUSTER NODES of port ${node.port} has no myself line`);
      ids.push(myself.id);
      const owned = new Uint8Array(SLOT_COUNT);
      for (const [from, to] of myself.slots) owned.fill(1, from, to + 1);
      const missing: number[] = [];
      for (const [from, to] of shards[index]?.slots ?? []) for (let slot = from; slot <= to; slot++) if (!owned[slot]) missing.push(slot);
      for (let i = 0; i < missing.length; i += 2000) await client.call('CLUSTER', 'ADDSLOTS', ...missing.slice(i, i + 2000));
    });
  }
  // Distinct epochs up front, as redis-cli --cluster create sets them (refused once a node has one: then the cluster sorts it out).
  for (const [index, node] of nodes.entries()) {
    await node.withClient((client) => client.call('CLUSTER', 'SET-CONFIG-EPOCH', index + 1)).catch(() => undefined);
  }
  const first = cluster.primaries[0] as ClusterMember;
  for (const node of nodes.slice(1)) await node.withClient((client) => client.call('CLUSTER', 'MEET', first.host, first.port));
  const count = nodes.length;
  await waitFor(async () => (await Promise.all(nodes.map(clusterInfo))).every((info) => Number(info.cluster_known_nodes) === count), {
    what: `${count} cluster nodes to know each other`,
    timeoutMs: 60_000,
    intervalMs: 50,
  });
  const perShard = cluster.replicas.length / Math.max(1, cluster.primaries.length);
  for (const [index, replica] of cluster.replicas.entries()) {
    const primaryId = ids[Math.floor(index / perShard)] as string;
    await waitFor(() => replica.withClient((client) => client.call('CLUSTER', 'REPLICATE', primaryId)).then(() => true), {
      what: `port ${replica.port} to replicate ${primaryId.slice(0, 8)}`,
      timeoutMs: 30_000,
      intervalMs: 50,
    });
  }
  await waitFor(
    async () => {
      const infos = await Promise.all(nodes.map(clusterInfo));
      if (!infos.every((info) => info.cluster_state === 'ok')) return false;
      const links = await Promise.all(
        cluster.replicas.map(async (replica) => (await replica.info('replication')).replication?.master_link_status),
      );
      return links.every((link) => link === 'up');
    },
    { what: 'the scratch cluster to be ok (every slot served, every replica in sync)', timeoutMs: 60_000, intervalMs: 50 },
  );
}
