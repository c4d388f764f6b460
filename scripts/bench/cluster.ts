/**
 * The cluster comparisons of `npm run bench` (issue 16, item 5), each measured in one run:
 *  (a) `backup --cluster` of a 3-primary cluster against the slowest shard's own one-server backup,
 *      taken alone (one shard after another): the shards run in parallel, so the cluster backup
 *      should take the slowest shard's time plus a small constant; and against the slowest of the
 *      three shards' own backups taken at once: the same work without the cluster procedure, the
 *      fair baseline on a machine whose cores cannot run three shards' CPU-bound steps (the save
 *      child, the copy's SHA-256, redis-check-rdb) at full speed together. Each round reports the
 *      CPU seconds spent and where the slowest shard's time went;
 *  (b) `restore --into-cluster` into an empty 3-primary cluster against `redis-cli --cluster import
 *      --cluster-copy` of the same keys from a standalone server into the same cluster: its time may
 *      be at most twice import's (at least half its throughput). */
import { execa } from 'execa';
import { readdir, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { hostRedis } from '../harness/engine.ts';
import { startRedis } from '../harness/redis-server.ts';
import { backup } from '../procedures/backup.ts';
import { clusterBackup } from '../procedures/cluster-backup.ts';
import { restoreIntoCluster } from '../procedures/cluster-restore.ts';
import { startScratchCluster, type ScratchCluster } from '../procedures/scratch-cluster.ts';
import { parseRedisUrl } from '../procedures/target.ts';
import { evenRanges, keySlot } from '../redis/cluster.ts';
import { cpuSeconds, cpuSpent } from './cpu.ts';
import { phaseClock, phasesOf } from './phases.ts';
import { compare, type Comparison } from './report.ts';

/** What the cluster comparisons need of the bench's options. */
export interface ClusterBenchOptions {
  /** Megabytes of values in the cluster (1024: the issue's 1 GB). */
  clusterMb: number;
  'value-size': number;
  rounds: number;
  warmup: number;
}

/** The cluster backup may take the slowest shard's own backup time plus 15 %. */
export const CLUSTER_BACKUP_TARGET = 1.15;
/** `--into-cluster` may take twice as long as `redis-cli --cluster import` (half its throughput). */
export const INTO_CLUSTER_TARGET = 2;

const seconds = (from: number) => (performance.now() - from) / 1000;

/** The sides of comparison (a): each shard's own backup one after another, the same all at once, the cluster backup. */
type BackupSide = 'alone' | 'together' | 'cluster';

/** A server's pid (`INFO server` process_id). */
async function serverPid(client: Redis): Promise<number> {
  return Number(/process_id:(\d+)/.exec(await client.info('server'))?.[1]);
}

/** Writes `count` keys `bench:N` of `size` bytes: into the cluster's primaries by slot, and into `standalone`. */
async function fill(cluster: ScratchCluster, standalone: Redis, count: number, size: number): Promise<void> {
  const clients = await Promise.all(cluster.primaries.map((node) => node.client()));
  try {
    const owners = new Array<Redis>(16_384);
    for (const [index, range] of evenRanges(clients.length).entries()) owners.fill(clients[index] as Redis, range[0], range[1] + 1);
    for (let start = 0; start < count; start += 20_000) {
      const pipelines = new Map<Redis, ReturnType<Redis['pipeline']>>();
      const copy = standalone.pipeline();
      for (let i = start; i < Math.min(count, start + 20_000); i++) {
        const key = `bench:${i}`;
        const value = `value:${i}`.padEnd(size, '0');
        const owner = owners[keySlot(key)] as Redis;
        if (!pipelines.has(owner)) pipelines.set(owner, owner.pipeline());
        pipelines.get(owner)?.set(key, value);
        copy.set(key, value);
      }
      await Promise.all([...pipelines.values(), copy].map((pipeline) => pipeline.exec()));
    }
  } finally {
    for (const client of clients) client.disconnect();
  }
}

async function flushAll(cluster: ScratchCluster): Promise<void> {
  await Promise.all(cluster.primaries.map((node) => node.withClient((client) => client.call('FLUSHALL'))));
}

/** Runs both cluster comparisons; `log` takes progress lines. */
export async function measureCluster(
  options: ClusterBenchOptions,
  log: (line: string) => void,
): Promise<{ keys: number; comparisons: Comparison[] }> {
  const keys = Math.max(1, Math.floor((options.clusterMb * 1024 * 1024) / options['value-size']));
  const config = { rdbcompression: 'no' };
  await using source = await startScratchCluster({ engine: hostRedis, shards: evenRanges(3).map((range) => ({ slots: [range] })), config });
  await using target = await startScratchCluster({ engine: hostRedis, shards: evenRanges(3).map((range) => ({ slots: [range] })), config });
  await using standalone = await startRedis({ config: { save: '""', appendonly: 'no', ...config } });
  log(`cluster: ${keys} keys × ${options['value-size']} B into a 3-primary cluster and a standalone server`);
  const copyClient = await standalone.client();
  try {
    await fill(source, copyClient, keys, options['value-size']);
  } finally {
    copyClient.disconnect();
  }
  const work = join(source.primaries[0]?.root as string, 'bench-backups');
  const sourceTarget = parseRedisUrl(source.url, {});
  const total = options.warmup + options.rounds;

  // (a) The cluster backup against the slowest shard's own backup: taken alone (the issue's baseline),
  // and taken while the other shards' own backups run too (the same work at once, without the cluster
  // procedure: on a machine with fewer cores than the shards' CPU-bound steps need, the fair baseline).
  // Every side also reports the CPU seconds its processes spent (cpu.ts) and where the slowest shard's
  // time went.
  const servers = await Promise.all(source.primaries.map((node) => node.withClient(serverPid)));
  const sides: Record<BackupSide, { seconds: number[]; phases: Record<string, number>[] }> = {
    alone: { seconds: [], phases: [] },
    together: { seconds: [], phases: [] },
    cluster: { seconds: [], phases: [] },
  };
  const backupOrders: BackupSide[][] = [
    ['alone', 'together', 'cluster'],
    ['cluster', 'together', 'alone'],
    ['together', 'cluster', 'alone'],
  ];
  let latest = '';
  for (let round = 0; round < total; round++) {
    const timed = round >= options.warmup;
    for (const side of backupOrders[round % backupOrders.length] as BackupSide[]) {
      await execa('sync');
      const cpuBefore = await cpuSeconds(servers);
      const started = performance.now();
      let measured: { seconds: number; phases: Record<string, number>; detail: string };
      if (side === 'cluster') {
        const clocks = source.primaries.map(() => phaseClock());
        const done = new Array<number>(source.primaries.length).fill(0);
        const result = await clusterBackup({
          target: sourceTarget,
          to: join(work, 'cluster'),
          engine: hostRedis,
          onProgress: (event) => {
            if ('done' in event) done[event.shard] = performance.now();
            else clocks[event.shard]?.onProgress(event.event);
          },
        });
        const ended = performance.now();
        for (const name of await readdir(join(work, 'cluster')))
          if (join(work, 'cluster', name) !== result.path) await rm(join(work, 'cluster', name), { recursive: true, force: true });
        latest = result.path;
        const slowest = done.indexOf(Math.max(...done));
        measured = {
          seconds: seconds(started),
          phases: {
            ...phasesOf(clocks[slowest]?.timestamps ?? new Map<string, number>(), started, done[slowest] as number),
            'after the shards': (ended - Math.max(...done)) / 1000,
          },
          detail: `shards done at ${done.map((at) => ((at - started) / 1000).toFixed(2)).join(', ')} s`,
        };
      } else {
        const one = async (node: ScratchCluster['primaries'][number], index: number) => {
          const clock = phaseClock();
          const from = performance.now();
          await node.withClient((client) =>
            backup({
              client,
              source: { host: node.host, port: node.port },
              engine: hostRedis,
              to: join(work, side, `shard-${index}`),
              onProgress: clock.onProgress,
            }),
          );
          const to = performance.now();
          return { seconds: (to - from) / 1000, phases: phasesOf(clock.timestamps, from, to) };
        };
        const each: Awaited<ReturnType<typeof one>>[] = [];
        if (side === 'alone') for (const [index, node] of source.primaries.entries()) each.push(await one(node, index));
        else each.push(...(await Promise.all(source.primaries.map(one))));
        await rm(join(work, side), { recursive: true, force: true });
        const slowest = each.reduce((worst, shard) => (shard.seconds > worst.seconds ? shard : worst));
        measured = {
          seconds: slowest.seconds,
          phases: slowest.phases,
          detail: `shards ${each.map((shard) => shard.seconds.toFixed(2)).join(', ')} s${side === 'alone' ? ', one after another' : ', at once'}`,
        };
      }
      const cpu = cpuSpent(cpuBefore, await cpuSeconds(servers));
      // The least time this much CPU takes on this machine's cores.
      const phases = {
        ...measured.phases,
        'cpu node': cpu.node,
        'cpu checkers': cpu.children,
        'cpu servers': cpu.servers,
        'cpu / cores': cpu.total / availableParallelism(),
      };
      log(
        `cluster backup ${timed ? 'round' : 'warm-up'} ${round + 1}: ${side} ${measured.seconds.toFixed(2)} s (${measured.detail}; ${Object.entries(
          phases,
        )
          .map(([phase, value]) => `${phase} ${value.toFixed(2)}`)
          .join(', ')})`,
      );
      if (timed) {
        sides[side].seconds.push(measured.seconds);
        sides[side].phases.push(phases);
      }
    }
  }

  // (b) restore --into-cluster against redis-cli --cluster import, into the same empty cluster.
  const imports: number[] = [];
  const restores: number[] = [];
  const into = parseRedisUrl(target.url, {});
  const first = target.primaries[0];
  // The target's primaries and the standalone source; the scratch servers and redis-cli are our children.
  const intoServers = await Promise.all([...target.primaries, standalone].map((node) => node.withClient(serverPid)));
  for (let round = 0; round < total; round++) {
    const timed = round >= options.warmup;
    const order = round % 2 === 0 ? ['import', 'restore'] : ['restore', 'import'];
    for (const side of order) {
      await flushAll(target);
      await execa('sync');
      const cpuBefore = await cpuSeconds(intoServers);
      const started = performance.now();
      if (side === 'import') {
        await execa(
          hostRedis.cli,
          [
            '--cluster',
            'import',
            `${first?.host}:${first?.port}`,
            '--cluster-from',
            `${standalone.host}:${standalone.port}`,
            '--cluster-copy',
          ],
          { stdout: 'ignore' },
        );
      } else {
        const result = await restoreIntoCluster({ backup: latest, engine: hostRedis, target: into });
        if (result.keys !== keys) throw new Error(`restore --into-cluster wrote ${result.keys} keys of ${keys}`);
      }
      const elapsed = seconds(started);
      const cpu = cpuSpent(cpuBefore, await cpuSeconds(intoServers));
      const landed = (await Promise.all(target.primaries.map((node) => node.withClient((client) => client.dbsize())))).reduce(
        (sum, size) => sum + size,
        0,
      );
      if (landed !== keys) throw new Error(`${side} left ${landed} keys in the cluster, not ${keys}`);
      log(
        `into cluster ${timed ? 'round' : 'warm-up'} ${round + 1}: ${side} ${elapsed.toFixed(2)} s (${Math.round(keys / elapsed)} keys/s; cpu node ${cpu.node.toFixed(2)}, children ${cpu.children.toFixed(2)}, servers ${cpu.servers.toFixed(2)}, cpu / cores ${(cpu.total / availableParallelism()).toFixed(2)})`,
      );
      if (timed) (side === 'import' ? imports : restores).push(elapsed);
    }
  }
  await flushAll(target);
  return {
    keys,
    comparisons: [
      compare({
        name: 'backup --cluster (3 primaries)',
        appendonly: false,
        raw: "the slowest shard's own backup, taken alone",
        playbook: 'clusterBackup(), shards in parallel',
        rawSeconds: sides.alone.seconds,
        rawPhases: sides.alone.phases,
        playbookSeconds: sides.cluster.seconds,
        playbookPhases: sides.cluster.phases,
        target: CLUSTER_BACKUP_TARGET,
      }),
      compare({
        name: 'backup --cluster (3 primaries, shards at once)',
        appendonly: false,
        raw: "the slowest shard's own backup, taken while the other two shards' own backups run",
        playbook: 'clusterBackup(), shards in parallel',
        rawSeconds: sides.together.seconds,
        rawPhases: sides.together.phases,
        playbookSeconds: sides.cluster.seconds,
        playbookPhases: sides.cluster.phases,
        target: CLUSTER_BACKUP_TARGET,
      }),
      compare({
        name: 'restore --into-cluster (3 primaries)',
        appendonly: false,
        raw: 'redis-cli --cluster import --cluster-copy from a standalone server',
        playbook: 'restoreIntoCluster(): scratch load + DUMP + RESTORE ABSTTL',
        rawSeconds: imports,
        playbookSeconds: restores,
        target: INTO_CLUSTER_TARGET,
      }),
    ],
  };
}
