import { resolve } from 'node:path';
import { z } from 'zod';
import { restoreContainer, CONTAINER_DATA_DIR } from '../../procedures/container-restore.ts';
import type { BackupManifest } from '../../procedures/manifest.ts';
import { restore } from '../../procedures/restore.ts';
import { DEFAULT_REDIS_URL, parseRedisUrl } from '../../procedures/target.ts';
import type { CliCommand } from '../command.ts';
import { containerArgs, containerFromOptions, containerHelp, ContainerOptionsShape, containerProgress } from '../container-options.ts';
import { parseOptions } from '../parse-options.ts';
import { CLUSTER_RESTORE_HELP, CLUSTER_RESTORE_OPTIONS_HELP, clusterRestoreArgs, ClusterRestoreOptionsShape, runClusterRestore } from './restore-cluster.ts';
import { engineForRestore, engineFromServerOption, SERVER_HELP, ServerOptionShape } from '../server-option.ts';

const yesNo = z.enum(['yes', 'no'], { error: 'expected yes or no' }).transform((value) => value === 'yes');

const DATA_DIR_REQUIRED = 'the server\'s data dir is required (--data-dir DIR), or name its container (--container NAME)';

/** The options of `redis-playbook restore`. */
/** What to do after restoring a server that has or had replicas (the page has the drills). */
function replicationAdvice(replication: NonNullable<BackupManifest['replication']>): string {
  const origin = replication.primary ? `This backup was taken on a replica of ${replication.primary.host}:${replication.primary.port}. ` : '';
  return (
    `${origin}If this server is a primary with replicas: they resync from it once it starts; trust each one when its own INFO replication says ` +
    'master_link_status:up. Under Sentinel, set replica-priority 0 on every replica before you stop the primary, or Sentinel fails over and undoes the rollback ' +
    '(see /operations/replicas-and-sentinel/).'
  );
}

export const RestoreOptionsSchema = z
  .object({
  /** A backup folder, or a bare RDB file. */
  backup: z.string({ error: 'name the backup folder (or RDB file) to restore' }).min(1),
  /** The stopped server's data dir; with a container, the data dir inside it (default /data). */
  'data-dir': z.string({ error: DATA_DIR_REQUIRED }).min(1).optional(),
  /** With a container: Redis as seen inside it, to check that it answers after the start (the password may come from REDISCLI_AUTH). */
  url: z.string().default(DEFAULT_REDIS_URL),
  /** How the server starts: appendonly yes or no (default: as recorded in the backup). */
  appendonly: yesNo.optional(),
  /** File names, when the server uses others than the backup recorded. */
  dbfilename: z.string().min(1).optional(),
  appenddirname: z.string().min(1).optional(),
  appendfilename: z.string().min(1).optional(),
  /** Run redis-check-rdb (and redis-check-aof) again instead of trusting the verdicts the manifest recorded. */
  recheck: z.boolean().default(false),
  /** Print one JSON object. */
  json: z.boolean().default(false),
  ...ServerOptionShape,
  ...ContainerOptionsShape,
  ...ClusterRestoreOptionsShape,
  })
  .superRefine((options, context) => {
    if (options['into-cluster'] !== undefined || options['cluster-dirs'] !== undefined) return;
    if (options['data-dir'] === undefined && options.container === undefined && options['compose-service'] === undefined) {
      context.addIssue({ code: 'custom', path: ['data-dir'], message: DATA_DIR_REQUIRED });
    }
  });

export const restoreCommand: CliCommand = {
  name: 'restore',
  summary: 'Roll a stopped server\'s data dir back to a backup (the current files are moved aside); a cluster backup into a cluster',
  options: {
    'data-dir': { type: 'string' },
    appendonly: { type: 'string' },
    dbfilename: { type: 'string' },
    appenddirname: { type: 'string' },
    appendfilename: { type: 'string' },
    recheck: { type: 'boolean' },
    json: { type: 'boolean' },
    url: { type: 'string' },
    server: { type: 'string' },
    ...containerArgs,
    ...clusterRestoreArgs,
  },
  positionals: ['backup'],
  help: `Usage: redis-playbook restore <backup> --data-dir DIR [--server PROGRAM] [--appendonly yes|no]
                              [--recheck] [--json]
       redis-playbook restore <backup> --container NAME | --compose-service SERVICE
                              [--data-dir DIR] [--url URL] [--appendonly yes|no] [--recheck] [--json]
       redis-playbook restore <cluster backup> --into-cluster URL [--replace] [--server PROGRAM] [--json]
       redis-playbook restore <cluster backup> --cluster-dirs DIR,DIR,… [--nodes-conf NAME]
                              [--server PROGRAM] [--recheck] [--json]

Offline rollback. With the server STOPPED, installs the backup so that its next normal start (same
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

With --container (or --compose-service) the CLI does the whole rollback of Redis in a container:
after step 1 it stops the container (docker stop), runs steps 3 and 4 in a throwaway container of
the same image on its volumes (docker run --rm --volumes-from NAME: the files get the data dir's
owner), starts the container again (docker start) and waits until Redis answers PING with its data
loaded. The data dir (default ${CONTAINER_DATA_DIR}) must be on a volume or bind mount. Exits with 7
for a bad backup (before anything stops), 9 for a missing container, 8 for a data dir outside any
volume.

${CLUSTER_RESTORE_HELP}

Options:
  --data-dir DIR             The server's data dir (CONFIG GET dir); inside the container with
                             --container (default ${CONTAINER_DATA_DIR})
${containerHelp('Roll back Redis in this container (docker stop, docker run --rm, docker start)')}
${SERVER_HELP}
  --url URL                  With a container: Redis as seen inside it, to check it after the start
                             (default ${DEFAULT_REDIS_URL}; the password may come from REDISCLI_AUTH)
  --appendonly yes|no        How the server starts (default: as in the backup's manifest)
  --dbfilename NAME          File names when the server's differ from the backup's
  --appenddirname NAME
  --appendfilename NAME
  --recheck                  Run redis-check-rdb (and redis-check-aof) on the backup again instead of
                             trusting the verdicts its manifest recorded for the same bytes
${CLUSTER_RESTORE_OPTIONS_HELP}
  --json                     Print one JSON object
  -h, --help                 Show this help`,
  async run(values, io) {
    const options = parseOptions(RestoreOptionsSchema, values);
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
      const summary = { backup: result.check.path, container: result.container, dataDir: result.dataDir, appendonly: result.appendonly, installed: result.installed, movedAside: result.movedAside ?? null, moved: result.movedNames };
      if (options.json) {
        io.stdout(`${JSON.stringify(summary, null, 2)}\n`);
        return 0;
      }
      io.stdout(`Restored ${result.check.path} into ${result.dataDir} of container ${result.container} (installed: ${result.installed.join(', ')}; appendonly ${result.appendonly ? 'yes' : 'no'})\n`);
      if (result.movedAside) io.stdout(`The previous files (${result.movedNames.join(', ')}) are in ${result.movedAside} inside the container's volume: that folder is your undo.\n`);
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
      io.stdout(`${JSON.stringify({ backup: result.check.path, dataDir, appendonly: result.appendonly, installed: result.installed, movedAside: result.movedAside ?? null, moved: result.movedNames }, null, 2)}\n`);
      return 0;
    }
    io.stdout(`Restored ${result.check.path} into ${dataDir} (installed: ${result.installed.join(', ')}; appendonly ${result.appendonly ? 'yes' : 'no'})\n`);
    if (result.movedAside) io.stdout(`The previous files (${result.movedNames.join(', ')}) are in ${result.movedAside}: that folder is your undo.\n`);
    io.stdout('Start the server normally now.\n');
    const replication = result.check.manifest?.replication;
    if (replication && (replication.role === 'replica' || (replication.replicas ?? 0) > 0)) io.stdout(`${replicationAdvice(replication)}\n`);
    return 0;
  },
};
