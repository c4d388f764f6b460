import type { Redis } from 'ioredis';
import { keySlot } from '../../scripts/redis/cluster.ts';
import { diffDatasets, readDataset, type Dataset } from '../../scripts/redis/dataset.ts';
import type { ScratchCluster } from '../../scripts/procedures/scratch-cluster.ts';

/** Opens a client on each primary and the owner of every slot (from CLUSTER SLOTS), for writing keys where they belong. */
export async function slotClients(cluster: ScratchCluster): Promise<{ clientFor: (key: string) => Redis; close: () => void }> {
  const clients = await Promise.all(cluster.primaries.map((node) => node.client()));
  const byPort = new Map(cluster.primaries.map((node, index) => [node.port, clients[index] as Redis]));
  const owners = new Array<Redis>(16_384);
  const slots = (await (clients[0] as Redis).call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
  for (const [from, to, [, port]] of slots) for (let slot = from; slot <= to; slot++) owners[slot] = byPort.get(port) as Redis;
  const close = () => {
    for (const client of clients) client.disconnect();
  };
  return { clientFor: (key) => owners[keySlot(key)] as Redis, close };
}

/**
 * Writes `perType` keys of each type (string, list, hash, set, zset, stream), a fifth of them with a
 * TTL of one to two hours, some sharing a hash tag, across the cluster; returns how many.
 */
export async function writeClusterDataset(cluster: ScratchCluster, perType: number): Promise<number> {
  const { clientFor, close } = await slotClients(cluster);
  try {
    const pipelines = new Map<Redis, ReturnType<Redis['pipeline']>>();
    const on = (key: string) => {
      const client = clientFor(key);
      if (!pipelines.has(client)) pipelines.set(client, client.pipeline());
      return pipelines.get(client) as ReturnType<Redis['pipeline']>;
    };
    let count = 0;
    for (let i = 0; i < perType; i++) {
      const tag = i % 10 === 0 ? `{tag${i % 7}}` : '';
      const keys = {
        string: `${tag}s:${i}`,
        list: `${tag}l:${i}`,
        hash: `${tag}h:${i}`,
        set: `${tag}set:${i}`,
        zset: `${tag}z:${i}`,
        stream: `${tag}x:${i}`,
      };
      on(keys.string).set(keys.string, `value ${i} ${'v'.repeat(i % 50)}`);
      on(keys.list).rpush(keys.list, 'a', String(i), 'c');
      on(keys.hash).hset(keys.hash, { name: `n${i}`, count: String(i) });
      on(keys.set).sadd(keys.set, 'p', 'q', String(i));
      on(keys.zset).zadd(keys.zset, i, 'one', i + 0.5, 'two');
      on(keys.stream).xadd(keys.stream, `${i + 1}-1`, 'field', String(i));
      for (const [type, key] of Object.entries(keys)) if ((i + type.length) % 5 === 0) on(key).pexpire(key, 3_600_000 + i);
      count += 6;
    }
    await Promise.all([...pipelines.values()].map((pipeline) => pipeline.exec()));
    return count;
  } finally {
    close();
  }
}

/** Every key of the cluster, read node by node (each primary's SCAN): type, value and absolute expiry. */
export async function clusterDataset(cluster: ScratchCluster): Promise<Dataset> {
  const merged: Dataset = new Map();
  for (const node of cluster.primaries) for (const [key, value] of await node.withClient(readDataset)) merged.set(key, value);
  return merged;
}

export { diffDatasets };
