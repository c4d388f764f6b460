import { resolve } from 'node:path';
import { z } from 'zod';
import { listBackups } from '../../procedures/backups.ts';
import { defineCommand, jsonText } from '../command.ts';
import { BackupsJsonSchema } from '../json-schemas.ts';

/** The options of `redis-playbook backups`. */
export const BackupsOptionsSchema = z.object({
  to: z.string({ error: 'the backup dir is required (--to DIR)' }).min(1).meta({ value: 'DIR', help: 'The backup dir' }),
  json: z.boolean().default(false).meta({ help: 'Print one JSON object: { "backups": [ … ] }' }),
});

export const backupsCommand = defineCommand({
  name: 'backups',
  summary: 'List the backups in a backup dir, oldest first',
  usage: 'Usage: redis-playbook backups --to DIR [--json]',
  description: `Lists the folders of a backup dir, oldest first: snapshot time, size, keys, and the checks
recorded when the backup was taken. A cluster backup (backup --cluster) is one row: its shards,
keys, and the seconds over which its shards were taken. Folders that are not backups (no valid manifest, or an
interrupted .incomplete-* folder) are listed with the reason. Run "redis-playbook check" on a
backup to verify its files now.`,
  options: BackupsOptionsSchema,
  json: BackupsJsonSchema,
  async run(options, io) {
    const entries = await listBackups(resolve(options.to));
    const rows = entries.map((entry) => {
      const manifest = entry.manifest;
      const cluster = entry.cluster;
      if (cluster) {
        return {
          path: entry.path,
          name: entry.name,
          kind: 'cluster' as const,
          createdAt: cluster.createdAt,
          shards: cluster.shards.length,
          spanSeconds: cluster.span.seconds,
          bytes: undefined,
          keys: cluster.shards.reduce((sum, shard) => sum + shard.keys, 0),
          aof: undefined,
          checked: `cluster of ${cluster.shards.length} shards taken over ${cluster.span.seconds.toFixed(1)} s (check it to verify)`,
          problem: undefined,
        };
      }
      const checks = manifest ? [manifest.checks.rdb, ...(manifest.checks.aof ? [manifest.checks.aof] : [])] : [];
      return {
        path: entry.path,
        name: entry.name,
        kind: 'server' as const,
        createdAt: manifest?.createdAt,
        bytes: manifest?.files.reduce((sum, file) => sum + file.size, 0),
        keys: manifest ? Object.values(manifest.keyspace).reduce((sum, db) => sum + db.keys, 0) : undefined,
        aof: manifest ? manifest.files.some((file) => file.role === 'aof') : undefined,
        checked: manifest ? (checks.every((check) => check.ok) ? 'ok' : checks.find((check) => !check.ok)?.message) : undefined,
        problem: entry.problem,
      };
    });
    if (options.json) {
      io.stdout(jsonText(BackupsJsonSchema, { backups: rows }));
      return 0;
    }
    if (rows.length === 0) {
      io.stdout(`No backups in ${resolve(options.to)}\n`);
      return 0;
    }
    const table = [['BACKUP', 'SNAPSHOT (UTC)', 'KEYS', 'BYTES', 'AOF', 'CHECKED']];
    for (const row of rows) {
      table.push(
        row.problem
          ? [row.name, '-', '-', '-', '-', `not a backup: ${row.problem}`]
          : [
              row.name,
              row.createdAt ?? '',
              String(row.keys),
              row.bytes === undefined ? '-' : String(row.bytes),
              row.aof === undefined ? '-' : row.aof ? 'yes' : 'no',
              row.checked ?? '',
            ],
      );
    }
    const widths = (table[0] ?? []).map((_, i) => Math.max(...table.map((row) => (row[i] ?? '').length)));
    for (const row of table) io.stdout(`${row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')}\n`);
    return 0;
  },
});
