import { resolve } from 'node:path';
import { z } from 'zod';
import { PlaybookError } from '../../procedures/errors.ts';
import { testRestore } from '../../procedures/test-restore.ts';
import { isClusterBackup, testRestoreCluster } from '../../procedures/cluster-check.ts';
import { defineCommand, jsonText } from '../command.ts';
import { TestRestoreJsonSchema } from '../json-schemas.ts';
import { engineForBackup, engineFromServerOption, ServerOptionShape } from '../server-option.ts';

/** The options of `redis-playbook test-restore`. */
export const TestRestoreOptionsSchema = z.object({
  backup: z
    .string({ error: 'name the backup folder or RDB file to load' })
    .min(1)
    .meta({ positional: true, value: 'BACKUP', help: 'A backup folder, or a bare RDB file' }),
  server: ServerOptionShape.server.meta({ help: "The scratch server's program (e.g. /usr/bin/valkey-server)" }),
  json: z.boolean().default(false).meta({ help: 'Print one JSON object' }),
});

export const testRestoreCommand = defineCommand({
  name: 'test-restore',
  summary: 'Load a backup into a scratch server and compare it with its manifest',
  usage: 'Usage: redis-playbook test-restore <backup> [--server PROGRAM] [--json]',
  description: `Checks the backup, then loads it into a scratch redis-server (its own temp dir and a free port on
127.0.0.1, appendonly no; your real server is never touched), compares the keys per database with
the manifest, shows a few sample keys and a dataset digest (DEBUG DIGEST: equal datasets, equal
digests), and removes the scratch server.

Exits 0 when the counts match (keys with a TTL may have expired since the backup), 7 otherwise.

A cluster backup (backup --cluster) is loaded into a scratch cluster of the same shape: one real
--cluster-enabled node per shard on 127.0.0.1, started from the shard's snapshot and serving its
slots; each node's keys are compared with the shard's, and any key outside the node's slots
fails the test. The scratch cluster is removed afterwards.

The scratch server is the engine the backup was taken from when its programs are here (the
manifest's executable, at the same version), else this machine's redis-server.`,
  options: TestRestoreOptionsSchema,
  json: TestRestoreJsonSchema,
  async run(options, io) {
    let engine;
    if (options.server !== undefined) engine = await engineFromServerOption(options.server);
    else {
      const chosen = await engineForBackup(resolve(options.backup));
      if (chosen.own) io.stderr(`loading with ${chosen.engine.server}: ${chosen.how}\n`);
      engine = chosen.engine;
    }
    if (await isClusterBackup(resolve(options.backup))) {
      const cluster = await testRestoreCluster(resolve(options.backup), engine);
      if (options.json) io.stdout(jsonText(TestRestoreJsonSchema, cluster));
      else {
        io.stdout(
          `Loaded ${cluster.backup} into a scratch cluster of ${cluster.shards.length} ${cluster.version} nodes in ${(cluster.loadMs / 1000).toFixed(1)} s\n`,
        );
        for (const shard of cluster.shards) {
          io.stdout(
            `  ${shard.dir} (slots ${shard.slots}): ${shard.loaded} keys loaded, ${shard.expected} expected${shard.foreign ? `, ${shard.foreign} in slots of another shard` : ''}  ${shard.ok ? 'ok' : 'MISMATCH'}\n`,
          );
        }
      }
      if (!cluster.ok) throw new PlaybookError('backup', `${cluster.backup}: the loaded shards do not match the manifest`);
      return 0;
    }
    const result = await testRestore(resolve(options.backup), engine);
    if (options.json) {
      io.stdout(jsonText(TestRestoreJsonSchema, result));
    } else {
      io.stdout(`Loaded ${result.backup} into a scratch Redis ${result.version} in ${(result.loadMs / 1000).toFixed(1)} s\n`);
      for (const db of result.databases)
        io.stdout(`  db${db.db}: ${db.loaded} keys loaded, ${db.expected ?? 'no manifest:'} expected  ${db.ok ? 'ok' : 'MISMATCH'}\n`);
      io.stdout('  sample keys:\n');
      for (const sample of result.samples)
        io.stdout(
          `    db${sample.db} ${sample.type.padEnd(6)} ${sample.key}${sample.ttlMs >= 0 ? ` (expires in ${Math.round(sample.ttlMs / 1000)} s)` : ''}\n`,
        );
      io.stdout(`  digest: ${result.digest}\n`);
    }
    if (!result.ok) throw new PlaybookError('backup', `${result.backup}: the loaded keys do not match the manifest`);
    return 0;
  },
});
