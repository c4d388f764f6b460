import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { HARNESS_LABEL } from '../../scripts/harness/docker/container.ts';
import { COMPOSE_FILE, composeCommand } from '../../scripts/harness/docker/compose.ts';
import { docker, dockerTry, runTool } from '../../scripts/harness/docker/exec.ts';
import { ensureImage } from '../../scripts/harness/docker/image.ts';
import { TEMP_PREFIX } from '../../scripts/harness/leftovers.ts';
import { waitFor } from '../../scripts/harness/wait.ts';
import { freeClusterPort } from '../../scripts/procedures/scratch-cluster.ts';
import { evenRanges } from '../../scripts/redis/cluster.ts';

/** A client on a loopback port whose connection errors (a node still starting) are left to its commands to report. */
function quietClient(port: number): Redis {
  const client = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
  return client;
}

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
  /** With `compose`: the project's dir (its docker-compose.yml), where `--compose-service` finds it. */
  projectDir?: string;
}

/**
 * Starts `primaries` containers (with `compose`, as the services node0, node1… of a Compose project in a
 * temp dir) of the Docker flavor's image with host networking (each node on a free
 * loopback port whose bus port is free too, its data in the container's /data), gives each an even
 * share of the slots, makes them meet and waits for `cluster_state:ok` on every node.
 */
export async function startContainerCluster(primaries: number, { compose = false } = {}): Promise<ContainerCluster> {
  const image = (await ensureImage()).tag;
  const stem = `${TEMP_PREFIX}${randomBytes(4).toString('hex')}`;
  const nodes: ContainerNode[] = [];
  // The project's dir is named after the project: `--compose-service` finds it there by Compose's default name.
  const root = compose ? await mkdtemp(join(tmpdir(), TEMP_PREFIX)) : undefined;
  const projectDir = root ? join(root, stem) : undefined;
  if (projectDir) await mkdir(projectDir);
  const composeRun = async (args: string[]) => {
    const [file = 'docker-compose', ...prefix] = await composeCommand();
    return runTool(file, [...prefix, '--project-name', stem, ...args], { cwd: projectDir, timeoutMs: 120_000 });
  };
  const dispose = async () => {
    if (projectDir) await composeRun(['down', '--volumes', '--timeout', '1']).catch(() => undefined);
    for (const node of nodes) await dockerTry(['rm', '--force', '--volumes', node.name]);
    if (root) await rm(root, { recursive: true, force: true });
  };
  try {
    const services: Record<string, unknown> = {};
    for (let index = 0; index < primaries; index++) {
      const port = await freeClusterPort();
      const name = `${stem}-node${index}`;
      nodes.push({ name, port, client: () => quietClient(port) });
      const command = ['redis-server', '--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes'].concat([
        '--cluster-config-file',
        'nodes.conf',
        '--cluster-node-timeout',
        '3000',
        '--dir',
        '/data',
        '--save',
        '',
        '--appendonly',
        'no',
      ]);
      services[`node${index}`] = { image, container_name: name, network_mode: 'host', labels: [`${HARNESS_LABEL}=1`], command };
      if (!projectDir)
        await docker(['run', '--detach', '--name', name, '--label', `${HARNESS_LABEL}=1`, '--network', 'host', image, ...command]);
    }
    if (projectDir) {
      // JSON is YAML: the compose file both Compose versions read.
      await writeFile(join(projectDir, COMPOSE_FILE), JSON.stringify({ services }, null, 2));
      const up = await composeRun(['up', '--detach']);
      if (up.exitCode !== 0) throw new Error(`compose up failed: ${up.stderr}`);
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
        } finally {
          client.disconnect();
        }
      }),
    );
    // Only once every node has its epoch: a node that knows another refuses SET-CONFIG-EPOCH.
    for (const node of nodes.slice(1)) {
      const client = node.client();
      try {
        await client.call('CLUSTER', 'MEET', '127.0.0.1', (nodes[0] as ContainerNode).port);
      } finally {
        client.disconnect();
      }
    }
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
  return {
    nodes,
    url: `redis://127.0.0.1:${(nodes[0] as ContainerNode).port}`,
    ...(projectDir ? { projectDir } : {}),
    [Symbol.asyncDispose]: dispose,
  };
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
