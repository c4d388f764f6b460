import type { Redis } from 'ioredis';
import type { Engine } from '../engines/engine.ts';
import { formatRanges, keySlot, SLOT_COUNT } from '../redis/cluster.ts';
import { clusterCheckFailure, checkClusterBackup } from './cluster-check.ts';
import { connectNode, openHealthyCluster, shortId, type ClusterView } from './cluster-topology.ts';
import { PlaybookError } from './errors.ts';
import { startRedis } from './scratch-server.ts';
import type { RedisTarget } from './target.ts';

/** Progress of a restore into a cluster: keys restored so far out of the shard's. */
export interface IntoClusterProgress {
  dir: string;
  restored: number;
  total: number;
}

export interface IntoClusterOptions {
  /** The cluster backup folder. */
  backup: string;
  /** The engine that checks the backup and loads each shard's snapshot (the backed-up cluster's own when it is here). */
  engine: Engine;
  /** Any node of the target cluster (its credentials and TLS reach every node). */
  target: RedisTarget;
  /** Restore into a cluster that already holds keys: keys of the same name are replaced, others kept. */
  replace?: boolean;
  /** Run the checkers on the backup again instead of trusting the verdicts recorded for the same bytes. */
  recheck?: boolean;
  /** Keys per SCAN batch, per read of their payloads and per pipeline of writes (default 1000). */
  batch?: number;
  onProgress?: (event: IntoClusterProgress) => void;
}

export interface IntoClusterResult {
  backup: string;
  /** The target node asked (`--into-cluster`). */
  target: string;
  /** Keys written in all. */
  keys: number;
  /** Keys of the snapshots whose TTL ran out before they could be restored (not written). */
  expired: number;
  seconds: number;
  shards: { dir: string; expected: number; restored: number; expired: number }[];
  /** The target's primaries and what each received. */
  nodes: { id: string; address: string; slots: string; keys: number }[];
}

/** The owner of each slot, as an index into `view.primaries`. */
function slotOwners(view: ClusterView): Int16Array {
  const owners = new Int16Array(SLOT_COUNT).fill(-1);
  for (const [index, node] of view.primaries.entries()) for (const [from, to] of node.slots) owners.fill(index, from, to + 1);
  return owners;
}

/** Whether a server has PEXPIRETIME (Redis 7.0+, Valkey): then a TTL is read as the absolute time the snapshot holds. */
async function hasPexpiretime(client: Redis): Promise<boolean> {
  return client.call('PEXPIRETIME', '__redis-playbook-probe__').then(
    () => true,
    () => false,
  );
}

/**
 * Reads a batch of keys of the scratch server in one command: for each key its DUMP payload (nil when
 * it is gone) and ARGV[1] of it (PEXPIRETIME, or PTTL before Redis 7). One EVAL rather than two
 * commands a key: the client's work per command, not the server's, was most of the restore's CPU.
 */
const READ_BATCH = `local out = {}
for i, key in ipairs(KEYS) do
  out[2 * i - 1] = redis.call('DUMP', key)
  out[2 * i] = redis.call(ARGV[1], key)
end
return out`;

/**
 * Restores a cluster backup into a running cluster of any shape: each shard's snapshot is loaded into
 * a scratch server of the backup's engine (its own temp dir and port, never a node of the target), its
 * keys are read with SCAN, then DUMP and expiry a batch at a time in one script (no Lua on a target
 * node: the scratch server is ours), and each is written with `RESTORE … ABSTTL` to the target primary
 * that owns its slot (CRC16 of the key or its hash tag), pipelined per node; a key keeps its absolute
 * expiry time. Refuses a bad backup, a target with a failed node or uncovered slots, and, unless
 * `replace`, a target that holds any key, before anything is written.
 */
export async function restoreIntoCluster(options: IntoClusterOptions): Promise<IntoClusterResult> {
  const { backup, engine, target, onProgress, replace = false, batch = 1000 } = options;
  const started = performance.now();
  const check = await checkClusterBackup(backup, engine, { trustRecorded: !options.recheck });
  if (!check.ok) throw new PlaybookError('backup', `Refusing to restore ${backup}: ${clusterCheckFailure(check)}`);
  const { client: seed, view } = await openHealthyCluster(target);
  seed.disconnect();
  const owners = slotOwners(view);
  const primaries: Redis[] = [];
  try {
    for (const node of view.primaries) primaries.push(await connectNode(target, node));
    const sizes = await Promise.all(primaries.map((client) => client.dbsize()));
    const busy = sizes.findIndex((size) => size > 0);
    if (busy !== -1 && !replace) {
      const node = view.primaries[busy] as ClusterView['primaries'][number];
      const total = sizes.reduce((sum, size) => sum + size, 0);
      throw new PlaybookError(
        'cluster',
        `The target cluster of ${target.url} is not empty: ${node.host}:${node.port} holds ${sizes[busy]} keys (${total} in all): restore into an empty cluster, or add --replace to overwrite keys of the same name`,
      );
    }
    const written = new Array<number>(primaries.length).fill(0);
    const shards = await Promise.all(
      check.shards.map(async ({ shard, rdbPath }) => {
        await using scratch = await startRedis(
          {
            config: { appendonly: 'no', save: '""', dbfilename: 'dump.rdb' },
            initialFiles: { 'dump.rdb': rdbPath as string },
            readyTimeoutMs: 3_600_000,
          },
          engine,
        ).catch((error: unknown) => {
          throw new PlaybookError(
            'backup',
            `A scratch ${engine.server} could not load ${shard.dir}: ${(error as Error).message.split('\n').slice(-2).join(' ')}`,
            { cause: error },
          );
        });
        return await scratch.withClient(async (source) => {
          const absolute = await hasPexpiretime(source);
          const total = await source.dbsize();
          let restored = 0;
          let expired = 0;
          let cursor = '0';
          let writing: Promise<void> = Promise.resolve();
          do {
            const [next, keys] = await source.scanBuffer(cursor, 'COUNT', batch);
            cursor = String(next);
            if (keys.length === 0) continue;
            const readAt = Date.now();
            const replies = (await source.callBuffer('EVAL', READ_BATCH, keys.length, ...keys, absolute ? 'PEXPIRETIME' : 'PTTL')) as (
              Buffer | number | null
            )[];
            // The previous batch's writes run while this batch was read; one batch in flight at a time.
            await writing;
            const perNode = new Map<number, ReturnType<Redis['pipeline']>>();
            const counts = new Map<number, number>();
            for (const [i, key] of keys.entries()) {
              const payload = replies[2 * i];
              const ttl = replies[2 * i + 1];
              // Gone meanwhile: its TTL ran out in the scratch server.
              if (payload === null || payload === undefined || Number(ttl) === -2) {
                expired++;
                continue;
              }
              const at = Number(ttl) < 0 ? 0 : absolute ? Number(ttl) : readAt + Number(ttl);
              const owner = owners[keySlot(key)] as number;
              let pipeline = perNode.get(owner);
              if (!pipeline) perNode.set(owner, (pipeline = (primaries[owner] as Redis).pipeline()));
              pipeline.call('RESTORE', key, at, payload as Buffer, 'ABSTTL', ...(replace ? ['REPLACE'] : []));
              counts.set(owner, (counts.get(owner) ?? 0) + 1);
            }
            writing = Promise.all(
              [...perNode.entries()].map(async ([owner, pipeline]) => {
                const results = (await pipeline.exec()) ?? [];
                const failed = results.find(([error]) => error)?.[0];
                if (failed) throw restoreRefusal(failed, view.primaries[owner] as ClusterView['primaries'][number]);
                written[owner] = (written[owner] ?? 0) + (counts.get(owner) ?? 0);
                restored += counts.get(owner) ?? 0;
                onProgress?.({ dir: shard.dir, restored, total });
              }),
            ).then(() => undefined);
            writing.catch(() => undefined);
          } while (cursor !== '0');
          await writing;
          return { dir: shard.dir, expected: shard.keys, restored, expired };
        });
      }),
    );
    return {
      backup,
      target: target.url,
      keys: shards.reduce((sum, shard) => sum + shard.restored, 0),
      expired: shards.reduce((sum, shard) => sum + shard.expired, 0),
      seconds: (performance.now() - started) / 1000,
      shards,
      nodes: view.primaries.map((node, index) => ({
        id: node.id,
        address: `${node.host}:${node.port}`,
        slots: formatRanges(node.slots),
        keys: written[index] ?? 0,
      })),
    };
  } finally {
    for (const client of primaries) client.disconnect();
  }
}

/** A RESTORE the target refused, as one error an operator can act on. */
function restoreRefusal(error: Error, node: { id: string; host: string; port: number }): PlaybookError {
  const where = `${shortId(node.id)} ${node.host}:${node.port}`;
  if (error.message.startsWith('BUSYKEY')) {
    return new PlaybookError(
      'cluster',
      `${where} already holds a key of the backup (written since the restore began?): run again with --replace to overwrite`,
      { cause: error },
    );
  }
  if (/^(MOVED|ASK|CLUSTERDOWN)/.test(error.message)) {
    return new PlaybookError(
      'cluster',
      `The target cluster changed during the restore (${error.message.split(' ')[0]} from ${where}): the keys written so far stay; check the cluster and run again with --replace`,
      {
        cause: error,
      },
    );
  }
  if (/payload version or checksum/i.test(error.message)) {
    return new PlaybookError(
      'backup',
      `${where} cannot read the backup's keys (${error.message}): its engine is older than the one the backup was taken on`,
      { cause: error },
    );
  }
  return new PlaybookError('other', `${where} refused RESTORE: ${error.message}`, { cause: error, command: 'RESTORE' });
}
