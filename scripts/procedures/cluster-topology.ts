import type { Redis } from 'ioredis';
import { flattenInfo, parseInfo } from '../redis/info.ts';
import { formatRanges, mergeRanges, parseClusterNodes, uncoveredSlots, type ClusterNode } from '../redis/cluster.ts';
import { configGet, type RedisCommands } from './commands.ts';
import { connect, DEFAULT_TIMEOUT_MS } from './connect.ts';
import { PlaybookError } from './errors.ts';
import type { RedisTarget } from './target.ts';

/** A cluster as one of its nodes describes it. */
export interface ClusterView {
  /** Every node of `CLUSTER NODES`. */
  nodes: ClusterNode[];
  /** The primaries that serve slots, in slot order. */
  primaries: ClusterNode[];
  /** The `CLUSTER NODES` text as the node answered it. */
  text: string;
}

/** Flags of a node the cluster cannot count on. */
const BAD_FLAGS = ['fail', 'fail?', 'noaddr', 'handshake'];

/** The short form of a node ID in messages (as redis-cli prints them). */
export function shortId(id: string): string {
  return id.slice(0, 8);
}

/**
 * Reads the cluster through `client` (a node of it): `CLUSTER NODES`, parsed. A node that is not in
 * cluster mode (`cluster_enabled:0`) is a `cluster` error naming `where`.
 */
export async function readCluster(client: Redis, where: string): Promise<ClusterView> {
  const info = flattenInfo(parseInfo(await client.info('cluster')));
  if (info.cluster_enabled !== '1') {
    throw new PlaybookError(
      'cluster',
      `${where} is not a cluster node (INFO cluster says cluster_enabled:${info.cluster_enabled ?? 'absent'}): leave out --cluster, or name a node of the cluster`,
    );
  }
  const text = String(await client.call('CLUSTER', 'NODES'));
  const nodes = parseClusterNodes(text);
  // A node that knows no others yet reports its own address empty: the one it was reached at.
  const [host, port] = [client.options.host ?? '127.0.0.1', client.options.port ?? 6379];
  for (const node of nodes) if (node.host === '' && node.flags.includes('myself')) Object.assign(node, { host, port: node.port || port });
  const primaries = nodes
    .filter((node) => node.role === 'primary' && node.slots.length > 0)
    .sort((a, b) => (a.slots[0]?.[0] ?? 0) - (b.slots[0]?.[0] ?? 0));
  return { nodes, primaries, text };
}

/**
 * Refuses a cluster an operation cannot trust: a node flagged failed (or not yet met, or without an
 * address), slots no primary serves, or `cluster_state` other than ok. One `cluster` error naming
 * the first problem.
 */
export async function assertHealthy(client: Redis, view: ClusterView, where: string): Promise<void> {
  for (const node of view.nodes) {
    const bad = node.flags.filter((flag) => BAD_FLAGS.includes(flag));
    if (bad.length > 0) {
      throw new PlaybookError(
        'cluster',
        `The cluster of ${where} has a failed node: ${shortId(node.id)} ${node.host}:${node.port} (${node.role}, flags ${bad.join(',')}): bring it back or replace it (CLUSTER FORGET) first`,
      );
    }
  }
  const gaps = uncoveredSlots(view.primaries.flatMap((node) => node.slots));
  if (gaps.length > 0)
    throw new PlaybookError('cluster', `The cluster of ${where} leaves slots ${formatRanges(gaps)} to no primary: assign them first`);
  const state = flattenInfo(parseInfo(`# Cluster\r\n${String(await client.call('CLUSTER', 'INFO'))}`)).cluster_state;
  if (state !== 'ok')
    throw new PlaybookError('cluster', `The cluster of ${where} says cluster_state:${state}: wait until it is ok, or repair it first`);
}

/** The target of one node of the cluster: the URL's credentials and TLS, the node's announced address. */
export function nodeTarget(target: RedisTarget, node: Pick<ClusterNode, 'host' | 'port'>): RedisTarget {
  const scheme = target.tls ? 'rediss' : 'redis';
  const host = node.host.includes(':') ? `[${node.host}]` : node.host;
  return {
    ...target,
    host: node.host,
    port: node.port,
    url: `${scheme}://${target.username ? `${encodeURIComponent(target.username)}@` : ''}${host}:${node.port}`,
    db: 0,
  };
}

/** Connects to a node (see {@link nodeTarget}); a failure keeps its classified kind and names the node. */
export async function connectNode(
  target: RedisTarget,
  node: Pick<ClusterNode, 'host' | 'port'>,
  timeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<Redis> {
  return (await connect(nodeTarget(target, node), { timeoutMs })).client;
}

/** Connects to the node of `target`, reads the cluster and checks it is healthy; the caller disconnects the client. */
export async function openHealthyCluster(target: RedisTarget): Promise<{ client: Redis; view: ClusterView }> {
  if (target.socket) throw new PlaybookError('usage', 'A cluster is reached over TCP: give --url of one of its nodes, not --socket');
  const { client } = await connect(target, { timeoutMs: DEFAULT_TIMEOUT_MS });
  try {
    const view = await readCluster(client, target.url);
    await assertHealthy(client, view, target.url);
    return { client, view };
  } catch (error) {
    client.disconnect();
    throw error;
  }
}

/** The slot map as text that compares equal when two views assign the same slots to the same nodes. */
export function slotMapKey(view: ClusterView): string {
  return view.primaries.map((node) => `${node.id}:${formatRanges(mergeRanges(node.slots))}`).join(' ');
}

/** Where a node keeps its `nodes.conf`, as it says: `CONFIG GET dir` and `cluster-config-file` (Redis 6.0 does not answer the latter: `nodes.conf`). */
export async function nodesConfPath(client: RedisCommands): Promise<string> {
  const config = await configGet(client, ['dir', 'cluster-config-file'], ['cluster-config-file']);
  const file = config['cluster-config-file'] ?? 'nodes.conf';
  return file.startsWith('/') ? file : `${String(config.dir).replace(/\/$/, '')}/${file}`;
}
