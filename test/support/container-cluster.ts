import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { HARNESS_LABEL } from '../../scripts/harness/docker/container.ts';
import { docker, dockerTry } from '../../scripts/harness/docker/exec.ts';
import { ensureImage } from '../../scripts/harness/docker/image.ts';
import { TEMP_PREFIX } from '../../scripts/harness/leftovers.ts';
import { waitFor } from '../../scripts/harness/wait.ts';
import { freeClusterPort } from '../../scripts/procedures/scratch-cluster.ts';
import { evenRanges } from '../../scripts/redis/cluster.ts';

/** One node of a {@link ContainerCluster}: its container and the loopback port it answers on. */
export interface ContainerNode {
  name: string;
  port: number;
  /** A client on 127.0.0.1:port (the caller disconnects it). */
  client(): Redis;
}

/** A cluster of `--cluster-enabled` nodes, each in its own container with host networking; disposing removes them. */
export interface ContainerCluster extends AsyncDisposable {
  nodes: ContainerNode[];
  url: string;
}

/**
 * Starts `primaries` containers of the Docker flavor's image with host networking (each node on a free
 * loopback port whose bus port is free too, its data in the container's /data), gives each an even
 * share of the slots, makes them meet and waits for `cluster_state:ok` on every node.
 */
export async function startContainerCluster(primaries: number): Promise<ContainerCluster> {
  const image = (await ensureImage()).tag;
  const stem = `${TEMP_PREFIX}${randomBytes(4).toString('hex')}`;
  const nodes: ContainerNode[] = [];
  const dispose = async () => {
    for (const node of nodes) await dockerTry(['rm', '--force', '--volumes', node.name]);
  };
  try {
    for (let index = 0; index < primaries; index++) {
      const port = await freeClusterPort();
      const name = `${stem}-node${index}`;
      nodes.push({ name, port, client: () => new Redis({ host: '127.0.0.1', port, lazyConnect: false, maxRetriesPerRequest: 1 }) });
      await docker(
        ['run', '--detach', '--name', name, '--label', `${HARNESS_LABEL}=1`, '--network', 'host', image, 'redis-server']
          .concat(['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'])
          .concat(['--cluster-node-timeout', '3000', '--dir', '/data', '--save', '', '--appendonly', 'no']),
      );
    }
    const ranges = evenRanges(primaries);
    await Promise.all(
      nodes.map(async (node, index) => {
        const client = node.client();
        try {
          await waitFor(
            () =>
              client.ping().then(
                () => true,
                () => false,
              ),
            { what: `${node.name} to answer`, timeoutMs: 30_000 },
          );
          const [from, to] = ranges[index] as [number, number];
          const slots = Array.from({ length: to - from + 1 }, (_, i) => from + i);
          for (let i = 0; i < slots.length; i += 2000) await client.call('CLUSTER', 'ADDSLOTS', ...slots.slice(i, i + 2000));
          await client.call('CLUSTER', 'SET-CONFIG-EPOCH', index + 1);
          if (index > 0) await client.call('CLUSTER', 'MEET', '127.0.0.1', (nodes[0] as ContainerNode).port);
        } finally {
          client.disconnect();
        }
      }),
    );
    await waitFor(
      async () => {
        const states = await Promise.all(
          nodes.map(async (node) => {
            const client = node.client();
            try {
              return String(await client.call('CLUSTER', 'INFO'));
            } finally {
              client.disconnect();
            }
          }),
        );
        return states.every((info) => info.includes('cluster_state:ok') && info.includes(`cluster_known_nodes:${primaries}`));
      },
      { what: `the ${primaries} containers' cluster to be ok`, timeoutMs: 30_000 },
    );
  } catch (error) {
    await dispose();
    throw error;
  }
  return { nodes, url: `redis://127.0.0.1:${(nodes[0] as ContainerNode).port}`, [Symbol.asyncDispose]: dispose };
}

/** Writes `count` string keys across the cluster, each on the node that owns its slot; the keys each node holds. */
export async function fillContainerCluster(cluster: ContainerCluster, count: number): Promise<number[]> {
  const { Cluster } = await import('ioredis');
  const client = new Cluster(cluster.nodes.map((node) => ({ host: '127.0.0.1', port: node.port })));
  try {
    // A cluster pipeline must stay on one node: one command each, in parallel.
    await Promise.all(Array.from({ length: count }, (_, i) => client.set(`key:${i}`, `value ${i}`)));
  } finally {
    client.disconnect();
  }
  return Promise.all(
    cluster.nodes.map(async (node) => {
      const one = node.client();
      try {
        return await one.dbsize();
      } finally {
        one.disconnect();
      }
    }),
  );
}
