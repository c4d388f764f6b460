import { resolve } from 'node:path';
import { z } from 'zod';
import { checkBackup, checkFailure } from '../../procedures/check.ts';
import { checkClusterBackup, clusterCheckFailure, isClusterBackup } from '../../procedures/cluster-check.ts';
import { PlaybookError } from '../../procedures/errors.ts';
import { defineCommand, jsonText } from '../command.ts';
import { containerFromOptions, ContainerOptionsShape } from '../container-options.ts';
import { CheckJsonSchema } from '../json-schemas.ts';
import { engineFromServerOption, ServerOptionShape } from '../server-option.ts';

/** The options of `redis-playbook check`. */
export const CheckOptionsSchema = z.object({
  backup: z
    .string({ error: 'name the backup folder or RDB file to check' })
    .min(1)
    .meta({ positional: true, value: 'BACKUP', help: 'A backup folder, or a bare RDB file' }),
  ...ServerOptionShape,
  container: ContainerOptionsShape.container.meta({
    help: [
      "Check for this container's server: with the redis-check-rdb and",
      'redis-check-aof of its image (docker run --rm, no network, the',
      "backup's dir mounted), or this machine's when they are the same version",
    ].join('\n'),
  }),
  'compose-service': ContainerOptionsShape['compose-service'].meta({
    help: 'The same for the container of this Compose service (current dir)',
  }),
  json: z.boolean().default(false).meta({ help: 'Print one JSON object with every check' }),
});

export const checkCommand = defineCommand({
  name: 'check',
  summary: 'Verify a backup: checksums, redis-check-rdb, redis-check-aof',
  usage: 'Usage: redis-playbook check <backup> [--server PROGRAM] [--container NAME | --compose-service SERVICE] [--json]',
  description: `Checks a backup folder: each file's size and SHA-256 against manifest.json, redis-check-rdb on
the snapshot, and redis-check-aof on the AOF manifest when the backup holds an AOF set. A bare
.rdb file is checked too (its header and redis-check-rdb). A backup whose RDB format the server
cannot load fails, naming both versions ("backup has RDB format 12 (Redis 8.0), redis-server
7.0.15 loads up to 10"). Changes nothing.

Exits 0 when every check passes, 7 with the first failure otherwise (truncated, flipped bytes,
not an RDB, missing files, an RDB format too new for the server), 6 when the path cannot be read.`,
  options: CheckOptionsSchema,
  json: CheckJsonSchema,
  async run(options, io) {
    const engine = await engineFromServerOption(options.server, await containerFromOptions(options, io));
    if (await isClusterBackup(resolve(options.backup))) {
      const cluster = await checkClusterBackup(resolve(options.backup), engine);
      if (options.json)
        io.stdout(
          jsonText(CheckJsonSchema, {
            ok: cluster.ok,
            path: cluster.path,
            kind: 'cluster',
            shards: cluster.manifest.shards.length,
            items: cluster.items,
          }),
        );
      else for (const item of cluster.items) io.stdout(`${item.ok ? 'ok  ' : 'FAIL'}  ${item.what}: ${item.detail}\n`);
      if (!cluster.ok) throw new PlaybookError('backup', `${cluster.path} is not a good cluster backup: ${clusterCheckFailure(cluster)}`);
      if (!options.json) io.stdout(`${cluster.path} is good (${cluster.manifest.shards.length} shards)\n`);
      return 0;
    }
    const result = await checkBackup(resolve(options.backup), engine);
    if (options.json) {
      io.stdout(jsonText(CheckJsonSchema, { ok: result.ok, path: result.path, rdbVersion: result.rdbVersion, items: result.items }));
    } else {
      for (const item of result.items) io.stdout(`${item.ok ? 'ok  ' : 'FAIL'}  ${item.what}: ${item.detail}\n`);
    }
    if (!result.ok) {
      const format = result.items.find((item) => !item.ok && item.what === 'RDB format');
      // Checksums and structure fine, only too new for this server: not "bad", but not loadable here.
      if (format && result.items.filter((item) => !item.ok).length === 1)
        throw new PlaybookError('backup', `${result.path} cannot be loaded by this server: ${format.detail}`);
      throw new PlaybookError('backup', `${result.path} is not a good backup: ${checkFailure(result)}`);
    }
    if (!options.json) io.stdout(`${result.path} is good\n`);
    return 0;
  },
});
