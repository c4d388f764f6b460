import { flattenInfo } from '../redis/info.ts';
import { parseReplication, type ReplicationInfo } from '../redis/replication.ts';
import { hostRedis, type Engine } from './engine.ts';
import { startRedis, type DisposableRedis, type RedisServerOptions } from './redis-server.ts';
import { waitFor } from './wait.ts';

/** INFO replication of a server, parsed. */
export async function replicationOf(server: DisposableRedis): Promise<ReplicationInfo> {
  return parseReplication(flattenInfo(await server.info('replication')));
}

/**
 * Waits until `primary` lists each of `replicas` online at its offset and each replica, from its own
 * side, has its link up at that offset: the data loaded (Valkey 9 calls a replica online once the
 * snapshot is sent, before the replica has loaded it), every acknowledged write on it.
 */
export async function waitReplicasInSync(
  primary: DisposableRedis,
  replicas: DisposableRedis[],
  timeoutMs = 60_000,
): Promise<ReplicationInfo> {
  return waitFor(
    async () => {
      const info = await replicationOf(primary);
      const online = info.replicas.filter((replica) => replica.state === 'online' && replica.offset === info.offset);
      if (info.role !== 'primary' || online.length !== replicas.length) return false;
      const sides = await Promise.all(replicas.map(replicationOf));
      return sides.every((side) => side.link === 'up' && side.offset === info.offset && side.primary?.port === primary.port) && info;
    },
    { what: `${replicas.length} replica(s) of port ${primary.port} in sync at its offset`, timeoutMs, maxIntervalMs: 200 },
  );
}

/** A disposable primary and its replicas, each a real server of the same engine on its own port and dir. */
export class ReplicaSet {
  readonly primary: DisposableRedis;
  readonly replicas: DisposableRedis[];

  constructor(primary: DisposableRedis, replicas: DisposableRedis[]) {
    this.primary = primary;
    this.replicas = replicas;
  }

  /** Waits until every replica is online at the primary's offset. */
  inSync(timeoutMs?: number): Promise<ReplicationInfo> {
    return waitReplicasInSync(this.primary, this.replicas, timeoutMs);
  }

  async dispose(): Promise<void> {
    await Promise.all([this.primary, ...this.replicas].map((server) => server.dispose()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}

/** Options of {@link startReplicaSet}. */
export interface ReplicaSetOptions {
  /** The primary's server options. */
  primary?: RedisServerOptions;
  /** Each replica's server options (`replicaof` is added). */
  replica?: RedisServerOptions;
  /** How many replicas (default 1). */
  replicas?: number;
  engine?: Engine;
}

/**
 * Starts a primary and its replicas (`replicaof 127.0.0.1 PORT`) and waits until they are in sync.
 * Use as `await using set = await startReplicaSet({ engine })`.
 */
export async function startReplicaSet({
  primary: primaryOptions = {},
  replica = {},
  replicas = 1,
  engine = hostRedis,
}: ReplicaSetOptions = {}): Promise<ReplicaSet> {
  // A full sync starts at once rather than after the default 5 s wait for more replicas.
  const primary = await startRedis({ ...primaryOptions, config: { 'repl-diskless-sync-delay': 0, ...primaryOptions.config } }, engine);
  const set = new ReplicaSet(primary, []);
  try {
    for (let i = 0; i < replicas; i++) {
      const replicaOptions = { ...replica, config: { ...replica.config, replicaof: `127.0.0.1 ${primary.port}` } };
      set.replicas.push(await startRedis(replicaOptions, engine));
    }
    await set.inSync();
    return set;
  } catch (error) {
    await set.dispose();
    throw error;
  }
}

/** Options of {@link startSentinel}. */
export interface SentinelOptions {
  /** The primary's name in Sentinel (`sentinel monitor NAME …`). */
  name?: string;
  /** Sentinels that must agree the primary is down. */
  quorum?: number;
  /** `down-after-milliseconds`: how long the primary may not answer before Sentinel counts it down. */
  downAfterMs?: number;
  /** `failover-timeout`. */
  failoverTimeoutMs?: number;
}

/**
 * Starts the engine's own Sentinel (`redis-server sentinel.conf --sentinel`) watching `primary`, and
 * waits until it has found the primary's replicas.
 */
export async function startSentinel(primary: DisposableRedis, options: SentinelOptions = {}, expectReplicas = 0): Promise<DisposableRedis> {
  const { name = 'mymaster', quorum = 1, downAfterMs = 1000, failoverTimeoutMs = 10_000 } = options;
  const sentinel = await startRedis(
    {
      sentinel: true,
      config: {
        sentinel: [
          `monitor ${name} 127.0.0.1 ${primary.port} ${quorum}`,
          `down-after-milliseconds ${name} ${downAfterMs}`,
          `failover-timeout ${name} ${failoverTimeoutMs}`,
        ],
      },
    },
    primary.engine,
  );
  try {
    await waitFor(
      async () => {
        const reply = await sentinel.cli(['SENTINEL', 'replicas', name]);
        return (reply.stdout.match(/^name$/gm) ?? []).length >= expectReplicas && reply.exitCode === 0;
      },
      { what: `Sentinel on port ${sentinel.port} to find ${expectReplicas} replica(s) of ${name}`, timeoutMs: 30_000, maxIntervalMs: 200 },
    );
    return sentinel;
  } catch (error) {
    await sentinel.dispose();
    throw error;
  }
}

/** The primary Sentinel names (`SENTINEL get-master-addr-by-name`), as `host:port`. */
export async function sentinelPrimary(sentinel: DisposableRedis, name = 'mymaster'): Promise<string> {
  const reply = await sentinel.cli(['SENTINEL', 'get-master-addr-by-name', name]);
  return reply.stdout.trim().split('\n').join(':');
}
