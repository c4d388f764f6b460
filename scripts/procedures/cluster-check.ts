import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Engine } from '../engines/engine.ts';
import { formatRanges, mergeRanges, slotCount, SLOT_COUNT, uncoveredSlots } from '../redis/cluster.ts';
import { checkBackup, fileProblem, type CheckItem, type CheckResult } from './check.ts';
import { shortId } from './cluster-topology.ts';
import { PlaybookError } from './errors.ts';
import { digestFile } from './files.ts';
import { MANIFEST_FILE, readAnyManifest, type ClusterManifest, type ClusterShard } from './manifest.ts';
import { startScratchCluster } from './scratch-cluster.ts';

/** One shard's part of a cluster backup's check. */
export interface ShardCheck {
  shard: ClusterShard;
  /** The shard folder's own check (undefined when the folder or its manifest is missing or foreign). */
  check: CheckResult | undefined;
  /** The snapshot a restore of this shard installs. */
  rdbPath: string | undefined;
}

/** Outcome of {@link checkClusterBackup}. */
export interface ClusterCheckResult {
  ok: boolean;
  path: string;
  manifest: ClusterManifest;
  shards: ShardCheck[];
  /** Every finding, shard items prefixed with the shard's folder (`shard-1/dump.rdb sha256`). */
  items: CheckItem[];
}

/** `shard-1 (slots 5461-10922, node 3f2a…)`, for messages. */
export function describeShard(shard: ClusterShard): string {
  return `${shard.dir} (slots ${formatRanges(shard.slots)}, node ${shortId(shard.nodeId)} ${shard.host}:${shard.port})`;
}

/** Whether `path` is a cluster backup (its manifest says so); anything else, or unreadable, is left to the one-server path to report. */
export async function isClusterBackup(path: string): Promise<boolean> {
  return (await readAnyManifest(path).catch(() => undefined))?.kind === 'cluster';
}

/** Reads a cluster backup's manifest; a one-server backup (or anything else) is a `backup` error saying so. */
export async function readClusterManifest(path: string): Promise<ClusterManifest> {
  const read = await readAnyManifest(path);
  if (read.kind !== 'cluster')
    throw new PlaybookError('backup', `${path} is a backup of one server, not of a cluster: restore it with --data-dir or --container`);
  return read.manifest;
}

/**
 * Checks a cluster backup: its shards cover the 16384 slots once each, every shard folder is there,
 * its `manifest.json` is the one the cluster manifest recorded (SHA-256), and passes the one-server
 * check (each file's checksum, redis-check-rdb, redis-check-aof), with the key count the cluster
 * manifest recorded; the cluster-level files (`nodes.conf` copies, `CLUSTER NODES`) match their
 * checksums. Changes nothing. `trustRecorded` as for one server (see checkBackup).
 */
export async function checkClusterBackup(
  path: string,
  engine: Engine,
  options: { trustRecorded?: boolean } = {},
): Promise<ClusterCheckResult> {
  const manifest = await readClusterManifest(path);
  const items: CheckItem[] = [];
  const ranges = manifest.shards.flatMap((shard) => shard.slots);
  const gaps = uncoveredSlots(ranges);
  const overlap = slotCount(ranges) !== slotCount(mergeRanges(ranges));
  items.push(
    gaps.length === 0 && !overlap && slotCount(mergeRanges(ranges)) === SLOT_COUNT
      ? { what: 'slot map', ok: true, detail: `${manifest.shards.length} shards serve the ${SLOT_COUNT} slots once each` }
      : {
          what: 'slot map',
          ok: false,
          detail: gaps.length > 0 ? `slots ${formatRanges(gaps)} are in no shard` : 'two shards claim the same slots',
        },
  );
  const shards: ShardCheck[] = [];
  for (const shard of manifest.shards) {
    const dir = join(path, shard.dir);
    const info = await lstat(dir).catch(() => undefined);
    if (!info?.isDirectory() || info.isSymbolicLink()) {
      items.push({
        what: shard.dir,
        ok: false,
        detail: `missing: the backup of ${describeShard(shard)}, ${shard.keys} keys, is not there`,
      });
      shards.push({ shard, check: undefined, rdbPath: undefined });
      continue;
    }
    const digest = await digestFile(join(dir, MANIFEST_FILE)).catch(() => undefined);
    if (digest?.sha256 !== shard.manifestSha256) {
      items.push({
        what: `${shard.dir}/${MANIFEST_FILE}`,
        ok: false,
        detail: digest ? 'differs from the one the cluster manifest recorded (changed or replaced)' : 'missing',
      });
      shards.push({ shard, check: undefined, rdbPath: undefined });
      continue;
    }
    const check = await checkBackup(dir, engine, { trustRecorded: options.trustRecorded });
    for (const item of check.items) items.push({ ...item, what: `${shard.dir}/${item.what.replace(`${dir}/`, '')}` });
    const keys = check.manifest?.keyspace['0']?.keys ?? 0;
    if (keys !== shard.keys)
      items.push({ what: `${shard.dir} keys`, ok: false, detail: `its manifest says ${keys}, the cluster manifest ${shard.keys}` });
    shards.push({ shard, check, rdbPath: check.rdbPath });
  }
  for (const file of manifest.files) {
    const problem = await fileProblem(path, { ...file, role: 'rdb' });
    if (problem) {
      items.push(problem);
      continue;
    }
    const digest = await digestFile(join(path, file.path));
    items.push(
      digest.sha256 === file.sha256
        ? { what: `${file.path} sha256`, ok: true, detail: 'matches the manifest' }
        : { what: `${file.path} sha256`, ok: false, detail: 'content differs from the manifest' },
    );
  }
  return { ok: items.every((item) => item.ok), path, manifest, shards, items };
}

/** A cluster check that failed, as one line: its first failure. */
export function clusterCheckFailure(result: ClusterCheckResult): string {
  const failed = result.items.find((item) => !item.ok);
  return failed ? `${failed.what}: ${failed.detail}` : 'ok';
}

/** One shard loaded into the scratch cluster, against the manifest. */
export interface ShardComparison {
  dir: string;
  slots: string;
  expected: number;
  loaded: number;
  /** Keys of the node in slots outside its shard's ranges (a snapshot of another shard, or of a standalone server). */
  foreign: number;
  /** Equal (or short by no more than the keys with a TTL, which may have expired), and nothing foreign. */
  ok: boolean;
}

export interface ClusterTestRestoreResult {
  ok: boolean;
  backup: string;
  version: string;
  /** Milliseconds from the start of the nodes to a cluster with `cluster_state:ok`. */
  loadMs: number;
  shards: ShardComparison[];
}

/**
 * Loads a cluster backup into a scratch cluster of the same shape (one real `--cluster-enabled` node
 * of `engine` per shard, on 127.0.0.1, each started from its shard's snapshot, serving the shard's
 * slots), and compares it with the manifest shard by shard: the keys each node holds, and that every
 * one lies in the node's own slots. The scratch cluster is removed afterwards, also on failure.
 */
export async function testRestoreCluster(path: string, engine: Engine): Promise<ClusterTestRestoreResult> {
  const check = await checkClusterBackup(path, engine);
  if (!check.ok) throw new PlaybookError('backup', `Refusing to load ${path}: ${clusterCheckFailure(check)}`);
  const started = performance.now();
  let scratch;
  try {
    scratch = await startScratchCluster({
      engine,
      shards: check.shards.map((item) => ({ slots: item.shard.slots, rdb: item.rdbPath })),
      readyTimeoutMs: 3_600_000,
    });
  } catch (error) {
    throw new PlaybookError(
      'backup',
      `A scratch cluster of ${engine.server} could not load ${path}: ${(error as Error).message.split('\n').slice(-3).join(' ')}`,
      { cause: error },
    );
  }
  await using cluster = scratch;
  const loadMs = Math.round(performance.now() - started);
  const shards: ShardComparison[] = [];
  let version = 'unknown';
  for (const [index, node] of cluster.primaries.entries()) {
    const shard = check.shards[index]?.shard as ClusterShard;
    shards.push(
      await node.withClient(async (client) => {
        const server = await client.info('server');
        version = /(?:valkey|redis)_version:(\S+)/.exec(server)?.[1] ?? version;
        const loaded = await client.dbsize();
        const pipeline = client.pipeline();
        for (const [from, to] of shard.slots) for (let slot = from; slot <= to; slot++) pipeline.call('CLUSTER', 'COUNTKEYSINSLOT', slot);
        const counts = (await pipeline.exec()) ?? [];
        const own = counts.reduce((sum, [error, count]) => sum + (error ? 0 : Number(count)), 0);
        const foreign = loaded - own;
        const ok = foreign === 0 && (loaded === shard.keys || (loaded < shard.keys && shard.keys - loaded <= shard.expires));
        return { dir: shard.dir, slots: formatRanges(shard.slots), expected: shard.keys, loaded, foreign, ok };
      }),
    );
  }
  return { ok: shards.every((shard) => shard.ok), backup: path, version, loadMs, shards };
}
