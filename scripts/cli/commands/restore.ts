import { resolve } from 'node:path';
import { z } from 'zod';
import { restoreContainer, CONTAINER_DATA_DIR } from '../../procedures/container-restore.ts';
import type { BackupManifest } from '../../procedures/manifest.ts';
import { restore, type RestoreResult } from '../../procedures/restore.ts';
import { parseRedisUrl } from '../../procedures/target.ts';
import { defineCommand, jsonText } from '../command.ts';
import {
  containerFromOptions,
  containerOptions,
  containerProgress,
  ContainerUrlOptionShape,
  DataDirOptionShape,
  requireDataDirOrContainer,
} from '../container-options.ts';
import { RestoreJsonSchema } from '../json-schemas.ts';
import { engineForRestore, engineFromServerOption, ServerOptionShape } from '../server-option.ts';
import { CLUSTER_RESTORE_HELP, ClusterRestoreOptionsShape, runClusterRestore } from './restore-cluster.ts';

const yesNo = z.enum(['yes', 'no'], { error: 'expected yes or no' }).transform((value) => value === 'yes');

/** What to do after restoring a server that has or had replicas (the page has the drills). */
function replicationAdvice(replication: NonNullable<BackupManifest['replication']>): string {
  const origin = replication.primary
    ? `This backup was taken on a replica of ${replication.primary.host}:${replication.primary.port}. `
    : '';
  return (
    `${origin}If this server is a primary with replicas: they resync from it once it starts; trust each one when its own INFO replication says ` +
    'master_link_status:up. Under Sentinel, set replica-priority 0 on every replica before you stop the primary, or Sentinel fails over and undoes the rollback ' +
    '(see /operations/replicas-and-sentinel/).'
  );
}

/** The --json reply of a restore into `dataDir` (of `container`; null on a host). */
function restoreJson(result: RestoreResult, dataDir: string, container: string | null): string {
  const { appendonly, installed, movedAside, movedNames: moved } = result;
  return jsonText(RestoreJsonSchema, {
    backup: result.check.path,
    container,
    dataDir,
    appendonly,
    installed,
    movedAside: movedAside ?? null,
    moved,
  });
}

/** The options of `redis-playbook restore`. */
export const RestoreOptionsSchema = z
  .object({
    backup: z
      .string({ error: 'name the backup folder (or RDB file) to restore' })
      .min(1)
      .meta({ positional: true, value: 'BACKUP', help: 'A backup folder, or a bare RDB file' }),
    ...DataDirOptionShape,
    ...containerOptions('Roll back Redis in this container (docker stop, docker run --rm, docker start)'),
    ...ServerOptionShape,
    ...ContainerUrlOptionShape,
    appendonly: yesNo.optional().meta({ value: 'yes|no', help: "How the server starts (default: as in the backup's manifest)" }),
    dbfilename: z
      .string()
      .min(1)
      .optional()
      .meta({ value: 'NAME', help: "The snapshot's file name when the server's differs from the backup's" }),
    appenddirname: z.string().min(1).optional().meta({ value: 'NAME', help: "The AOF dir's name, likewise" }),
    appendfilename: z.string().min(1).optional().meta({ value: 'NAME', help: "The AOF files' base name, likewise" }),
    recheck: z.boolean().default(false).meta({
      help: 'Run redis-check-rdb (and redis-check-aof) on the backup again instead of\ntrusting the verdicts its manifest recorded for the same bytes',
    }),
    ...ClusterRestoreOptionsShape,
    json: z.boolean().default(false).meta({ help: 'Print one JSON object' }),
  })
  .superRefine((options, context) => {
    if (options['into-cluster'] !== undefined || options['cluster-dirs'] !== undefined) return;
    requireDataDirOrContainer(options, context);
  });

export const restoreCommand = defineCommand({
  name: 'restore',
  summary: "Roll a stopped server's data dir back to a backup (the current files are moved aside); a cluster backup into a cluster",
  usage: `Usage: redis-playbook restore <backup> --data-dir DIR [--server PROGRAM] [--appendonly yes|no]
                              [--recheck] [--json]
       redis-playbook restore <backup> --container NAME | --compose-service SERVICE
                              [--data-dir DIR] [--url URL] [--appendonly yes|no] [--recheck] [--json]
       redis-playbook restore <cluster backup> --into-cluster URL [--replace] [--server PROGRAM] [--json]
       redis-playbook restore <cluster backup> --cluster-dirs DIR,DIR,… [--nodes-conf NAME]
                              [--server PROGRAM] [--recheck] [--json]`,
  description: `Offline rollback. With the server STOPPED, installs the backup so that its next normal start (same
config, appendonly unchanged) loads exactly the backup:
  1. checks the backup (refuses one that fails "redis-playbook check", or whose RDB format the
     server (--server) cannot load, naming both versions: nothing is touched). The SHA-256 of
     every file is always computed; when all match the manifest, the redis-check-rdb (and
     redis-check-aof) verdicts recorded in it at backup time stand for those very bytes, provided
     the server is of the same product (Redis or Valkey) and loads the RDB format (probed with its
     own checker). --recheck runs the checkers again anyway;
  2. refuses while a redis-server still runs on DIR;
  3. keeps the current dump.rdb and AOF files in DIR/pre-restore-<UTC time>/ (nothing is deleted);
  4. installs the snapshot as dump.rdb and, for an appendonly yes server, as the base of its AOF (a
     new base file and a one-line manifest). Each switch is one atomic rename: a run killed at any
     moment leaves a data dir that loads either the old data or the backup, never nothing. Copying
     only dump.rdb would bring back the latest data (the AOF wins) or, without the AOF dir, an empty
     dataset.
To undo: stop the server, move the installed files aside, move the pre-restore files back, start.
A restore that fails puts the previous files back; when that fails too, it exits 12 saying where
each file is and where it belongs (nothing is deleted).

With --container (or --compose-service) the CLI does the whole rollback of Redis in a container:
after step 1 it stops the container (docker stop), runs steps 3 and 4 in a throwaway container of
the same image on its volumes (docker run --rm --volumes-from NAME: the files get the data dir's
owner), starts the container again (docker start) and waits until Redis answers PING with its data
loaded. The data dir (default ${CONTAINER_DATA_DIR}) must be on a volume or bind mount. Exits with 7
for a bad backup (before anything stops), 9 for a missing container, 8 for a data dir outside any
volume.

${CLUSTER_RESTORE_HELP}`,
  options: RestoreOptionsSchema,
  json: RestoreJsonSchema,
  async run(options, io) {
    if (options['into-cluster'] !== undefined || options['cluster-dirs'] !== undefined) return runClusterRestore(options, io);
    const container = await containerFromOptions(options, io);
    if (container) {
      const target = parseRedisUrl(options.url, io.env);
      const result = await restoreContainer({
        backup: resolve(options.backup),
        container,
        dataDir: options['data-dir'],
        target,
        // The container's engine loads the backup: its image's checkers check it (or the same version here).
        engine: await engineFromServerOption(options.server, container),
        appendonly: options.appendonly,
        dbfilename: options.dbfilename,
        appenddirname: options.appenddirname,
        appendfilename: options.appendfilename,
        recheck: options.recheck,
        onProgress: containerProgress(io, 'installing the backup into'),
      });
      if (options.json) {
        io.stdout(restoreJson(result, result.dataDir, result.container));
        return 0;
      }
      io.stdout(
        `Restored ${result.check.path} into ${result.dataDir} of container ${result.container} (installed: ${result.installed.join(', ')}; appendonly ${result.appendonly ? 'yes' : 'no'})\n`,
      );
      if (result.movedAside)
        io.stdout(
          `The previous files (${result.movedNames.join(', ')}) are in ${result.movedAside} inside the container's volume: that folder is your undo.\n`,
        );
      io.stdout(`Container ${result.container} is running again with the backup loaded.\n`);
      return 0;
    }
    const dataDir = resolve(options['data-dir'] as string);
    let engine;
    if (options.server !== undefined) engine = await engineFromServerOption(options.server);
    else {
      // A server restored from its own backup: its own checkers, found from the manifest's executable.
      const chosen = await engineForRestore(resolve(options.backup), dataDir);
      if (chosen.own) io.stderr(`checking with ${chosen.engine.checkRdb}: ${chosen.how}\n`);
      engine = chosen.engine;
    }
    const result = await restore({
      backup: resolve(options.backup),
      dataDir,
      engine,
      appendonly: options.appendonly,
      dbfilename: options.dbfilename,
      appenddirname: options.appenddirname,
      appendfilename: options.appendfilename,
      recheck: options.recheck,
    });
    if (options.json) {
      io.stdout(restoreJson(result, dataDir, null));
      return 0;
    }
    io.stdout(
      `Restored ${result.check.path} into ${dataDir} (installed: ${result.installed.join(', ')}; appendonly ${result.appendonly ? 'yes' : 'no'})\n`,
    );
    if (result.movedAside)
      io.stdout(`The previous files (${result.movedNames.join(', ')}) are in ${result.movedAside}: that folder is your undo.\n`);
    io.stdout('Start the server normally now.\n');
    const replication = result.check.manifest?.replication;
    if (replication && (replication.role === 'replica' || (replication.replicas ?? 0) > 0))
      io.stdout(`${replicationAdvice(replication)}\n`);
    return 0;
  },
});
