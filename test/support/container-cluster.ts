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
import { formCluster, freeClusterPort, type ClusterMember } from '../../scripts/procedures/scratch-cluster.ts';
import { parseInfo } from '../../scripts/redis/info.ts';
import { evenRanges } from '../../scripts/redis/cluster.ts';

/** A client on a loopback port whose connection errors (a node still starting) are left to its commands to report. */
function quietClient(port: number): Redis {
  const client = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
  return client;
}

/** A node on a loopback port as the CLI's cluster forming wants it. */
function member(port: number): ClusterMember {
  const withClient = async <T>(fn: (client: Redis) => Promise<T>): Promise<T> => {
    const client = quietClient(port);
    try {
      return await fn(client);
    } finally {
      client.disconnect();
    }
  };
  return {
    host: '127.0.0.1',
    port,
    withClient,
    info: (section?: string) => withClient(async (client) => parseInfo(await (section ? client.info(section) : client.info()))),
  };
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
    const members = nodes.map((node) => member(node.port));
    await Promise.all(
      members.map((node, index) =>
        waitFor(
          () =>
            node
              .withClient((client) => client.ping())
              .then(
                () => true,
                () => false,
              ),
          { what: `${(nodes[index] as ContainerNode).name} to answer`, timeoutMs: 30_000 },
        ),
      ),
    );
    await formCluster(
      { primaries: members, replicas: [] },
      evenRanges(primaries).map((range) => ({ slots: [range] })),
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
