import { createServer } from 'node:net';
import { execa } from 'execa';
import { hostRedis, type Engine } from './engine.ts';
import { startRedis, type DisposableRedis, type RedisServerOptions } from './redis-server.ts';
import { waitFor } from './wait.ts';

/** A node's cluster bus listens on its port plus this (Redis 6.0 has no `cluster-port` to choose another). */
export const CLUSTER_BUS_OFFSET = 10_000;

/** Ports tried for cluster nodes: below the OS's ephemeral range (32768+), so that port + 10000 is a valid port too. */
const PORT_RANGE = { from: 20_000, to: 22_000 } as const;

/** Whether 127.0.0.1:`port` can be bound right now. */
function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => {
      resolve(false);
    });
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      server.close(() => {
        resolve(true);
      });
    });
  });
}

/** A port whose bus port (port + 10000) is free as well, not one of `taken`. */
export async function freeClusterPort(taken: ReadonlySet<number> = new Set()): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = PORT_RANGE.from + Math.floor(Math.random() * (PORT_RANGE.to - PORT_RANGE.from));
    if (taken.has(port)) continue;
    if ((await bindable(port)) && (await bindable(port + CLUSTER_BUS_OFFSET))) return port;
  }
  throw new Error(`No free port pair (port and port + ${CLUSTER_BUS_OFFSET}) in ${PORT_RANGE.from}-${PORT_RANGE.to}`);
}

/** One primary as the cluster sees it: its id and its slot ranges (`0-5460`). */
export interface ClusterPrimary {
  server: DisposableRedis;
  id: string;
  slots: string[];
}

/** Runs the engine's `redis-cli --cluster SUBCOMMAND …` (no colours); never rejects. */
export function clusterTool(engine: Engine, args: string[]) {
  return execa(engine.cli, ['--cluster', ...args], { reject: false, all: true, env: { TERM: 'dumb' }, timeout: 60_000 });
}

/**
 * Real `--cluster-enabled` nodes of one engine on loopback ports, made a cluster by the engine's own
 * `redis-cli --cluster create`. Disposal (also `await using`, also on process exit) kills every node,
 * including one a page's command restarted by itself in its dir, and removes their dirs.
 */
export class DisposableCluster {
  readonly engine: Engine;
  readonly nodes: DisposableRedis[];

  constructor(engine: Engine, nodes: DisposableRedis[]) {
    this.engine = engine;
    this.nodes = nodes;
  }

  /** The first node: where the harness sends cluster-wide commands. */
  get seed(): DisposableRedis {
    const node = this.nodes[0];
    if (!node) throw new Error('The cluster has no node');
    return node;
  }

  /** Each node's id and slot ranges, from its own `CLUSTER NODES` line (`myself`). */
  async primaries(): Promise<ClusterPrimary[]> {
    return Promise.all(
      this.nodes.map(async (server) => {
        const { stdout } = await server.cli(['CLUSTER', 'NODES']);
        const mine = stdout.split('\n').find((line) => line.split(' ')[2]?.split(',').includes('myself'));
        if (!mine) throw new Error(`CLUSTER NODES of port ${server.port} has no myself line:\n${stdout}`);
        const fields = mine.trim().split(' ');
        return { server, id: fields[0] as string, slots: fields.slice(8).filter((slot) => /^\d+(-\d+)?$/.test(slot)) };
      }),
    );
  }

  /** Waits until every node answers `cluster_state:ok` and knows all the others. */
  async ready(timeoutMs = 30_000): Promise<void> {
    await waitFor(
      async () => {
        for (const node of this.nodes) {
          const { stdout } = await node.cli(['CLUSTER', 'INFO']);
          if (!stdout.includes('cluster_state:ok') || !stdout.includes(`cluster_known_nodes:${this.nodes.length}`)) return false;
        }
        return true;
      },
      { what: `${this.nodes.length} cluster nodes to report cluster_state:ok`, timeoutMs, maxIntervalMs: 100 },
    );
  }

  async dispose(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.dispose()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}

/** Options of {@link startCluster}. */
export interface ClusterOptions {
  /** How many primaries (no replicas); `--cluster create` needs at least 3. */
  primaries?: number;
  /** Extra redis.conf directives of every node. */
  config?: RedisServerOptions['config'];
  engine?: Engine;
}

/**
 * Starts `primaries` cluster nodes (snapshots and AOF off unless `config` says otherwise) and joins
 * them with `redis-cli --cluster create … --cluster-yes`, which splits the 16384 slots evenly.
 * Use as `await using cluster = await startCluster({ engine })`.
 */
export async function startCluster({ primaries = 3, config = {}, engine = hostRedis }: ClusterOptions = {}): Promise<DisposableCluster> {
  const cluster = new DisposableCluster(engine, []);
  try {
    // Ports of the nodes started so far are taken: a stopped node's port would look free again.
    const pick = () => freeClusterPort(new Set(cluster.nodes.map((node) => node.port)));
    for (let i = 0; i < primaries; i++) {
      const options = {
        config: {
          'cluster-enabled': 'yes',
          'cluster-config-file': 'nodes.conf',
          'cluster-node-timeout': 5000,
          appendonly: 'no',
          save: '""',
          ...config,
        },
      };
      cluster.nodes.push(await startRedis(options, engine, { pick }));
    }
    const created = await clusterTool(engine, ['create', ...cluster.nodes.map((node) => `${node.host}:${node.port}`), '--cluster-yes']);
    if (created.exitCode !== 0) throw new Error(`${engine.cli} --cluster create failed (exit ${created.exitCode}):\n${created.all}`);
    await cluster.ready();
    return cluster;
  } catch (error) {
    await cluster.dispose();
    throw error;
  }
}
