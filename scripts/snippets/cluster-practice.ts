import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runProgram } from '../core/run.ts';
import { startCluster } from '../harness/cluster.ts';
import { startComposeCluster, type ComposeClusterNode } from '../harness/docker/compose-cluster.ts';
import { uniqueNames } from '../harness/docker/options.ts';
import type { Engine } from '../harness/engine.ts';
import type { CliOutput } from '../procedures/server-under-test.ts';
import type { DisposableRedis } from '../harness/redis-server.ts';
import { disposeComposeProject } from '../harness/docker/project.ts';
import { freeClusterPorts } from '../procedures/scratch-cluster.ts';
import { killPidFiles } from './pid-files.ts';
import type { PlaceholderValues, ValuesContext, ValuesFn, Values } from './schema.ts';

/**
 * The placeholders every run of a practice cluster fills: its three primaries' ports. Host runs fill
 * their data dirs too (`clusterDir1` …); Compose runs do not, their commands name `/data` in each
 * node's volume (a value `/data` would be shown on the page as the host default).
 */
export type ClusterKey = 'clusterPort1' | 'clusterPort2' | 'clusterPort3';
/** The data dir of a Compose node, in its volume. */
const COMPOSE_DIR = '/data';
/** The practice cluster's primaries, as the placeholders number them. */
export const NUMBERS = [1, 2, 3] as const;

/**
 * One node of a practice cluster as a check reaches it: from the host, with the engine's own
 * `redis-cli -p PORT` (host processes listen on loopback, Compose nodes run with `network_mode: host`).
 */
export interface ClusterNode {
  readonly port: number;
  /** The data dir as the page's commands name it (a host dir, or `/data` in a Compose node's volume). */
  readonly dir: string;
  /** Runs `redis-cli -p PORT ARGS`. Never rejects. */
  cli(args: string[], options?: { input?: string }): Promise<CliOutput>;
}

/** One primary as the cluster sees it: its id and its slot ranges (`0-5460`). */
export interface ClusterPrimary<N extends ClusterNode = ClusterNode> {
  server: N;
  id: string;
  slots: string[];
}

/** The nodes of a practice cluster, as its checks and preparations see them whatever runs them. */
export class ClusterView<N extends ClusterNode = ClusterNode> {
  readonly nodes: readonly N[];

  constructor(nodes: readonly N[]) {
    this.nodes = nodes;
  }

  /** The first node: where cluster-wide commands go. */
  get seed(): N {
    const node = this.nodes[0];
    if (!node) throw new Error('The cluster has no node');
    return node;
  }

  /** Each node's id and slot ranges, from its own `CLUSTER NODES` line (`myself`). */
  async primaries(): Promise<ClusterPrimary<N>[]> {
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
}

/** A node reached from the host by the engine's `redis-cli -p PORT`. */
export function hostReachedNode(engine: Engine, port: number, dir: string): ClusterNode {
  return {
    port,
    dir,
    async cli(args, options = {}) {
      const { exitCode, stdout, stderr } = await runProgram(engine.cli, ['-p', String(port), ...args], {
        ...(options.input === undefined ? {} : { input: options.input }),
        timeoutMs: 60_000,
      });
      return { exitCode, stdout, stderr };
    },
  };
}

/** The cluster a run's placeholders name (what `values` started): how `verify` reaches it, with no state kept between the two. */
export function clusterOf(ctx: { engine: Engine; values: Values<ClusterKey> }): ClusterView {
  return new ClusterView(
    NUMBERS.map((n) => hostReachedNode(ctx.engine, Number(ctx.values[`clusterPort${n}`]), ctx.values[`clusterDir${n}`] ?? COMPOSE_DIR)),
  );
}

/** The placeholder values naming a cluster's nodes: their ports, and their dirs when they are host dirs. */
export function clusterValues(nodes: readonly ClusterNode[]): Record<ClusterKey, string> & PlaceholderValues {
  const [a, b, c] = nodes;
  if (!a || !b || !c) throw new Error(`A practice cluster has 3 primaries, not ${nodes.length}`);
  const ports = { clusterPort1: String(a.port), clusterPort2: String(b.port), clusterPort3: String(c.port) };
  return a.dir === COMPOSE_DIR ? ports : { ...ports, clusterDir1: a.dir, clusterDir2: b.dir, clusterDir3: c.dir };
}

/** A practice cluster's node, with what a preparation does to its files. */
export interface PracticeNode extends ClusterNode {
  /** Copies `name` of the node's data dir to the host path `to`. */
  copyOut(name: string, to: string): Promise<void>;
  /** Stops the node (no save), puts the host file `from` in its data dir as `name`, and starts it again. */
  replaceFile(name: string, from: string): Promise<void>;
}

/** A practice cluster as a block's preparation gets it, whatever runs it. */
export type PracticeCluster = ClusterView<PracticeNode>;

/** A host process node as a {@link PracticeNode}. */
function hostNode(engine: Engine, server: DisposableRedis): PracticeNode {
  return {
    ...hostReachedNode(engine, server.port, server.dir),
    copyOut: (name, to) => copyFile(join(server.dir, name), to),
    async replaceFile(name, from) {
      await server.stop({ save: false });
      await copyFile(from, join(server.dir, name));
      await server.start();
    },
  };
}

/**
 * Starts a 3-primary cluster of host processes of the engine with `config` for a block's run; its
 * disposal is deferred to after the run (`ctx.defer`), so a failing preparation leaves nothing either.
 */
export async function startHostPractice(
  ctx: Pick<ValuesContext<unknown>, 'engine' | 'defer'>,
  config: Record<string, string | number>,
): Promise<PracticeCluster> {
  const cluster = await startCluster({ engine: ctx.engine, config });
  ctx.defer(() => cluster.dispose());
  return new ClusterView(cluster.primaries.map((server) => hostNode(ctx.engine, server)));
}

/** A Compose node as a {@link PracticeNode}: reached from the host on its port, its files in its volume. */
function composeNode(engine: Engine, node: ComposeClusterNode): PracticeNode {
  return {
    ...hostReachedNode(engine, node.port, COMPOSE_DIR),
    copyOut: (name, to) => node.copyOut(name, to),
    async replaceFile(name, from) {
      await node.stop();
      await node.onVolume(`cp /in/${name} /data/${name}`, [`${from}:/in/${name}:ro`]);
      await node.start();
    },
  };
}

/**
 * Starts a 3-primary cluster of the engine as a Compose project (scripts/harness/docker/compose-cluster.ts)
 * whose compose file is in the run's scratch dir, where the page's command runs; taken down after the run.
 */
export async function startComposePractice(
  ctx: Pick<ValuesContext<unknown>, 'engine' | 'defer' | 'scratch'>,
  config: Record<string, string | number>,
): Promise<{ cluster: PracticeCluster; project: string }> {
  const { project } = uniqueNames();
  const cluster = await startComposeCluster({ engine: ctx.engine, project, dir: ctx.scratch, config });
  ctx.defer(() => cluster.dispose());
  return { cluster: new ClusterView(cluster.nodes.map((node) => composeNode(ctx.engine, node))), project };
}

/**
 * The values of a block whose own command starts a practice cluster: three free ports (their bus
 * ports free too), and a practice dir named like the harness's projects (Compose names a project
 * after its dir, so the leftover check knows it). What the command started goes after the run,
 * whatever happened: the daemons by their pid files there, or the Compose project by its label.
 */
export function ownPracticeValues(flavor: 'host' | 'docker'): ValuesFn<unknown, Record<ClusterKey | 'scratchDir', string>> {
  return async (ctx) => {
    const { project } = uniqueNames();
    const scratchDir = join(ctx.scratch, project);
    ctx.defer(async () => {
      await (flavor === 'host' ? killPidFiles(scratchDir) : disposeComposeProject(project));
    });
    const [a, b, c] = (await freeClusterPorts(NUMBERS.length)).map(String) as [string, string, string];
    return { scratchDir, clusterPort1: a, clusterPort2: b, clusterPort3: c };
  };
}
