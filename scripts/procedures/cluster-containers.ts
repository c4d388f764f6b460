import type { Engine } from '../engines/engine.ts';
import { formatRanges, parseClusterNodes, type ClusterNode } from '../redis/cluster.ts';
import type { NodeAccess } from './cluster-backup.ts';
import { connectNode, nodesConfPath, nodeTarget, shortId, type ClusterView } from './cluster-topology.ts';
import { DEFAULT_TIMEOUT_MS } from './connect.ts';
import type { ContainerRef } from './container.ts';
import { containerDataDir } from './container-files.ts';
import { ContainerRedis } from './container-redis.ts';
import { PlaybookError } from './errors.ts';
import type { RedisTarget } from './target.ts';

/** Where a node keeps its `nodes.conf` (asked over TCP). */
async function nodesConfPathOf(target: RedisTarget, node: ClusterNode): Promise<string> {
  const client = await connectNode(target, node);
  try {
    return await nodesConfPath(client);
  } finally {
    client.disconnect();
  }
}

/** The node ID on the `myself` line of a `nodes.conf` text, or undefined. */
export function nodesConfMyself(text: string): string | undefined {
  const lines = text.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('vars '));
  try {
    return parseClusterNodes(lines.join('\n')).find((node) => node.flags.includes('myself'))?.id;
  } catch {
    return undefined;
  }
}

/**
 * Matches the nodes of a cluster that runs in containers (Docker with host networking: every node
 * answers on this machine's loopback, its data dir is inside its container) to the containers given.
 * A container's node is the one its own `nodes.conf` names `myself` (read with `docker cp` at the path
 * the nodes report: `CONFIG GET dir` and `cluster-config-file`), confirmed by asking that node
 * `CLUSTER MYID` through the container (`docker exec NAME redis-cli -p PORT`). Every primary that
 * serves slots must have its container: else one `cluster` error naming the first without one. A
 * container that is not running is `unreachable`; one that holds no node of this cluster, or the same
 * node as another, is a `cluster` error. Returns the container of each matched node, by node ID.
 */
export async function matchClusterContainers(
  target: RedisTarget,
  view: ClusterView,
  containers: ContainerRef[],
): Promise<Map<string, ContainerRef>> {
  for (const container of containers) {
    if (container.state !== 'running')
      throw new PlaybookError(
        'unreachable',
        `Cannot reach Redis in container ${container.name}: the container is ${container.state} (start it: docker start ${container.name})`,
      );
  }
  const paths = [...new Set(await Promise.all(view.nodes.map((node) => nodesConfPathOf(target, node))))];
  const byId = new Map(view.nodes.map((node) => [node.id, node]));
  const matched = new Map<string, ContainerRef>();
  await Promise.all(
    containers.map(async (container) => {
      const files = containerDataDir(container);
      let id: string | undefined;
      for (const path of paths) {
        id = nodesConfMyself(await files.readText(path).catch(() => ''));
        if (id !== undefined && byId.has(id)) break;
      }
      const node = id === undefined ? undefined : byId.get(id);
      if (!node)
        throw new PlaybookError(
          'cluster',
          `Container ${container.name} runs no node of the cluster of ${target.url}: no nodes.conf at ${paths.join(' or ')} in it names one as myself`,
        );
      const myid = String(
        await new ContainerRedis(container, nodeTarget(target, node), { timeoutMs: DEFAULT_TIMEOUT_MS }).call('CLUSTER', 'MYID'),
      );
      if (myid !== node.id)
        throw new PlaybookError(
          'cluster',
          `Container ${container.name} holds the nodes.conf of ${shortId(node.id)}, but ${node.host}:${node.port} answers CLUSTER MYID ${shortId(myid)} through it`,
        );
      const other = matched.get(node.id);
      if (other)
        throw new PlaybookError(
          'cluster',
          `Containers ${other.name} and ${container.name} both hold node ${shortId(node.id)} ${node.host}:${node.port}`,
        );
      matched.set(node.id, container);
    }),
  );
  const missing = view.primaries.find((node) => !matched.has(node.id));
  if (missing)
    throw new PlaybookError(
      'cluster',
      `Primary ${shortId(missing.id)} ${missing.host}:${missing.port} (slots ${formatRanges(missing.slots)}) runs in none of the containers given (${containers.map((container) => container.name).join(', ')}): name its container too`,
    );
  return matched;
}

/**
 * The access of {@link clusterBackup} for a cluster in containers: each node's commands through its
 * container (`docker exec NAME redis-cli -p PORT`), its files with `docker cp`, its shard checked by
 * `engineFor(container)`. A node in no container (a replica not named) is refused: its `nodes.conf`
 * is then not kept.
 */
export function containerAccess(
  target: RedisTarget,
  matched: Map<string, ContainerRef>,
  engineFor: (container: ContainerRef) => Promise<Engine>,
): (node: ClusterNode) => Promise<NodeAccess> {
  return async (node) => {
    const container = matched.get(node.id);
    if (!container) throw new PlaybookError('cluster', `${node.host}:${node.port} runs in none of the containers given`);
    return {
      client: new ContainerRedis(container, nodeTarget(target, node), { timeoutMs: DEFAULT_TIMEOUT_MS }),
      files: containerDataDir(container),
      container: container.name,
      engine: await engineFor(container),
      close: () => undefined,
    };
  };
}
