import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../core/atomic-write.ts';
import { PlaybookError } from './errors.ts';
import type { ClusterManifest } from './manifest.ts';

/** The gauge the backup freshness alert reads (its name is fixed: the Prometheus rule uses it). */
export const BACKUP_VERIFIED_METRIC = 'redis_playbook_backup_last_verified_timestamp_seconds';

/** A Prometheus label value, escaped (backslash, double quote, line feed). */
function labelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** The node_exporter textfile for one verified backup. */
export function backupMetricText(dir: string, verifiedAt: Date): string {
  return [
    `# HELP ${BACKUP_VERIFIED_METRIC} Unix time of the newest backup of dir whose files were checked against its manifest.`,
    `# TYPE ${BACKUP_VERIFIED_METRIC} gauge`,
    `${BACKUP_VERIFIED_METRIC}{dir="${labelValue(dir)}"} ${Math.floor(verifiedAt.getTime() / 1000)}`,
    '',
  ].join('\n');
}

/** The textfile collector's gauges of a cluster's backup: shards, time span, each shard's snapshot time. */
export const CLUSTER_SHARDS_METRIC = 'redis_playbook_backup_cluster_shards';
export const CLUSTER_SPAN_METRIC = 'redis_playbook_backup_cluster_span_seconds';
export const CLUSTER_SHARD_SNAPSHOT_METRIC = 'redis_playbook_backup_cluster_shard_snapshot_timestamp_seconds';

/**
 * The node_exporter textfile for one verified cluster backup: the same freshness gauge as one server's,
 * at the OLDEST shard's snapshot time (the age of the stalest data the backup holds: a freshness alert
 * then fires on it), and beside it the shards, the seconds the shards were taken over (they are not
 * one instant), and each shard's snapshot time labelled with its folder and primary.
 */
export function clusterBackupMetricText(dir: string, manifest: ClusterManifest): string {
  const label = `dir="${labelValue(dir)}"`;
  const seconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);
  const oldest = Math.min(...manifest.shards.map((shard) => seconds(shard.snapshotAt)));
  return [
    backupMetricText(dir, new Date(oldest * 1000)).trimEnd(),
    `# HELP ${CLUSTER_SHARDS_METRIC} Shards (primaries) of the newest verified cluster backup of dir.`,
    `# TYPE ${CLUSTER_SHARDS_METRIC} gauge`,
    `${CLUSTER_SHARDS_METRIC}{${label}} ${manifest.shards.length}`,
    `# HELP ${CLUSTER_SPAN_METRIC} Seconds from the first shard's start to the last shard's end in that backup: its shards are not one instant.`,
    `# TYPE ${CLUSTER_SPAN_METRIC} gauge`,
    `${CLUSTER_SPAN_METRIC}{${label}} ${manifest.span.seconds}`,
    `# HELP ${CLUSTER_SHARD_SNAPSHOT_METRIC} Unix time of each shard's snapshot in that backup.`,
    `# TYPE ${CLUSTER_SHARD_SNAPSHOT_METRIC} gauge`,
    ...manifest.shards.map(
      (shard) =>
        `${CLUSTER_SHARD_SNAPSHOT_METRIC}{${label},shard="${shard.dir}",node="${labelValue(`${shard.host}:${shard.port}`)}"} ${seconds(shard.snapshotAt)}`,
    ),
    '',
  ].join('\n');
}

/**
 * Writes the freshness gauge into `path` for node_exporter's textfile collector, atomically: a temp
 * file in the same dir, flushed, then renamed over `path`, so the collector never reads half a file.
 * `verifiedAt` is the snapshot time of the backup that was checked.
 */
export async function writeBackupMetric(path: string, dir: string, verifiedAt: Date): Promise<void> {
  await writeMetricsFile(path, backupMetricText(dir, verifiedAt));
}

/** Writes {@link clusterBackupMetricText} into `path`, atomically as {@link writeBackupMetric}. */
export async function writeClusterBackupMetric(path: string, dir: string, manifest: ClusterManifest): Promise<void> {
  await writeMetricsFile(path, clusterBackupMetricText(dir, manifest));
}

/**
 * Refuses, before any work, a metrics file whose dir does not exist or cannot be written: an `io`
 * error naming it, so a long backup does not end in a failure to write its gauge.
 */
export async function assertMetricsFileDir(path: string): Promise<void> {
  const dir = dirname(path);
  const info = await stat(dir).catch(() => undefined);
  const writable =
    info?.isDirectory() === true &&
    (await access(dir, constants.W_OK).then(
      () => true,
      () => false,
    ));
  if (!writable)
    throw new PlaybookError(
      'io',
      `Cannot write the metrics file ${path}: ${info === undefined ? `${dir} does not exist` : info.isDirectory() ? `${dir} is not writable` : `${dir} is not a directory`}`,
    );
}

async function writeMetricsFile(path: string, text: string): Promise<void> {
  try {
    await writeFileAtomic(path, text, { mode: 0o644, sync: true });
  } catch (error) {
    throw new PlaybookError(
      'io',
      `Cannot write the metrics file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      { cause: error },
    );
  }
}
