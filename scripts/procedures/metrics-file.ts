import { writeFileAtomic } from '../core/atomic-write.ts';
import { PlaybookError } from './errors.ts';

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

/**
 * Writes the freshness gauge into `path` for node_exporter's textfile collector, atomically: a temp
 * file in the same dir, flushed, then renamed over `path`, so the collector never reads half a file.
 * `verifiedAt` is the snapshot time of the backup that was checked.
 */
export async function writeBackupMetric(path: string, dir: string, verifiedAt: Date): Promise<void> {
  try {
    await writeFileAtomic(path, backupMetricText(dir, verifiedAt), { mode: 0o644, sync: true });
  } catch (error) {
    throw new PlaybookError(
      'io',
      `Cannot write the metrics file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      { cause: error },
    );
  }
}
