import { startScratchCluster, type ScratchCluster } from '../procedures/scratch-cluster.ts';
import { evenRanges } from '../redis/cluster.ts';
import { hostRedis, type Engine } from './engine.ts';
import type { RedisServerOptions } from './redis-server.ts';

/** Options of {@link startCluster}. */
export interface ClusterOptions {
  /** How many primaries (no replicas); a cluster needs at least 3. */
  primaries?: number;
  /** Extra redis.conf directives of every node. */
  config?: RedisServerOptions['config'];
  engine?: Engine;
}

/**
 * A practice cluster for a page: `primaries` empty nodes of the engine on loopback, the 16384 slots
 * split evenly between them as `redis-cli --cluster create` splits them. The cluster itself is the
 * CLI's scratch cluster (scripts/procedures/scratch-cluster.ts: start, meet, assign slots, wait until
 * ok); disposing it (also `await using`, also at process exit) kills every node, including one a
 * page's command restarted by itself in its dir, and removes their dirs.
 */
export function startCluster({ primaries = 3, config = {}, engine = hostRedis }: ClusterOptions = {}): Promise<ScratchCluster> {
  return startScratchCluster({ engine, shards: evenRanges(primaries).map((range) => ({ slots: [range] })), config });
}
