import { resolve } from 'node:path';
import { z } from 'zod';
import { PlaybookError } from '../../procedures/errors.ts';
import { writeBackupMetric } from '../../procedures/metrics-file.ts';
import { forgetOffsite, initRepository, listOffsite, pullBackup, pushBackup } from '../../procedures/offsite.ts';
import { displayRepository, readRepositoryFile, type ResticRepo } from '../../procedures/restic.ts';
import { defineCommand, jsonText } from '../command.ts';
import { OffsiteJsonSchema } from '../json-schemas.ts';
import { metricsFileOption } from '../metrics-option.ts';

const count = (period: string) =>
  z.coerce
    .number({ error: 'expected a number of snapshots' })
    .int({ error: 'expected a whole number' })
    .min(0, { error: 'expected 0 or more' })
    .optional()
    .meta({ value: 'N', help: `forget: snapshots kept, the newest of each of the last N ${period}` });

/** The options of `redis-playbook offsite`. */
export const OffsiteOptionsSchema = z.object({
  action: z
    .enum(['init', 'push', 'list', 'pull', 'forget'], { error: 'expected init, push, list, pull or forget' })
    .meta({ positional: true, value: 'ACTION', help: 'What to do: init, push, list, pull or forget' }),
  target: z
    .string()
    .min(1)
    .optional()
    .meta({ positional: true, value: 'BACKUP|SNAPSHOT', help: 'push: the backup folder; pull: the snapshot ID (or latest)' }),
  repo: z.string().min(1).optional().meta({
    value: 'URL',
    env: 'RESTIC_REPOSITORY',
    help: 'The repository as restic takes it (default RESTIC_REPOSITORY): /srv/restic,\nrest:http://host:8000/, sftp:user@host:/srv/restic, s3:http://host:9000/bucket',
  }),
  'repo-file': z.string().min(1).optional().meta({
    value: 'FILE',
    env: 'RESTIC_REPOSITORY_FILE',
    help: 'A file holding that URL (default RESTIC_REPOSITORY_FILE): for a URL with\ncredentials (rest:https://user:password@host/), kept off command lines',
  }),
  'password-file': z
    .string()
    .min(1)
    .optional()
    .meta({ value: 'FILE', env: 'RESTIC_PASSWORD_FILE', help: 'The repository password (default RESTIC_PASSWORD_FILE)' }),
  restic: z.string().min(1).default('restic').meta({ value: 'PROGRAM', help: 'The restic program (default restic on PATH)' }),
  to: z.string().min(1).optional().meta({ value: 'DIR', help: 'pull: the backup dir' }),
  'keep-hourly': count('hours'),
  'keep-daily': count('days'),
  'keep-weekly': count('weeks'),
  'metrics-file': metricsFileOption('push: afterwards', '<repository>', "= the pushed backup's snapshot time in unix seconds"),
  json: z.boolean().default(false).meta({ help: 'Print one JSON object' }),
});

type OffsiteJson = z.input<typeof OffsiteJsonSchema>;

const filesMatch = (count: number) => (count === 1 ? '1 file matches' : `${count} files match`);

export const offsiteCommand = defineCommand({
  name: 'offsite',
  summary: 'Ship backups to a restic repository (encrypted, deduplicated), list, pull back verified, apply retention',
  usage: `Usage: redis-playbook offsite init                 --repo URL --password-file FILE
       redis-playbook offsite push BACKUP          --repo URL --password-file FILE [--metrics-file PATH]
       redis-playbook offsite list                 --repo URL --password-file FILE
       redis-playbook offsite pull SNAPSHOT --to DIR --repo URL --password-file FILE
       redis-playbook offsite forget [--keep-hourly N] [--keep-daily N] [--keep-weekly N]
                                                   --repo URL --password-file FILE
       (each also takes [--restic PROGRAM] [--json])`,
  description: `Keeps backups off the machine in a restic repository: encrypted with the repository password,
deduplicated, on a local path, a REST server, SFTP or S3-compatible storage.

  init     Create the repository (restic init).
  push     Check BACKUP (a folder of redis-playbook backup) against its manifest, send it
           (restic backup, tagged redis-playbook, dated with the backup's snapshot time), then pull
           it back into a temp folder beside BACKUP and check every file's size and SHA-256 against
           the manifest again; the temp folder is removed. A cluster backup (backup --cluster) is
           one unit: one snapshot (tagged cluster too) of the folder with its shards, every
           shard's manifest and files checked before and after.
  list     The redis-playbook snapshots in the repository, oldest first (--json: kind cluster
           or server).
  pull     Bring SNAPSHOT (an ID from list, or latest) back into DIR: restored into
           DIR/.incomplete-pull-*, checked against its manifest, then renamed to the backup's name
           (with a suffix when that exists: nothing local is replaced). A pull that does not match
           is moved aside as DIR/<name>.bad-<time> and refused (exit 7).
  forget   Retention: keep the newest snapshot of each of the last N hours, days, weeks (at least
           one --keep-* of 1 or more), remove this machine's other redis-playbook snapshots and prune their data
           (restic forget --prune); cluster backups are kept by the same rule apart from one server's.`,
  options: OffsiteOptionsSchema,
  json: OffsiteJsonSchema,
  notes: `restic gets the repository and the password file in its environment (RESTIC_REPOSITORY,
RESTIC_PASSWORD_FILE), never on its command line; credentials of the store come from restic's own
variables and files (for S3 AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or ~/.aws/credentials; for
a REST server RESTIC_REST_USERNAME and RESTIC_REST_PASSWORD, or the URL in --repo-file; a store's
private CA: RESTIC_CACERT). The user info of a repository URL is never printed.
A wrong password exits 4, an unreachable store 3, a full or read-only store 6, a pull that does not
match its manifest 7; nothing local is deleted on any failure.`,
  async run(options, io) {
    if (options.repo && options['repo-file'])
      throw new PlaybookError('usage', 'Invalid --repo-file: give --repo URL or --repo-file FILE, not both');
    const repoFile = options['repo-file'] ?? (options.repo ? undefined : io.env.RESTIC_REPOSITORY_FILE);
    const repository = repoFile ? await readRepositoryFile(resolve(repoFile)) : (options.repo ?? io.env.RESTIC_REPOSITORY);
    if (!repository)
      throw new PlaybookError('usage', 'Invalid --repo: the repository is required (--repo URL or --repo-file FILE, or RESTIC_REPOSITORY)');
    const passwordFile = options['password-file'] ?? io.env.RESTIC_PASSWORD_FILE;
    if (!passwordFile)
      throw new PlaybookError(
        'usage',
        'Invalid --password-file: the repository password file is required (--password-file FILE, or RESTIC_PASSWORD_FILE)',
      );
    const repo: ResticRepo = { repository, passwordFile: resolve(passwordFile), program: options.restic };
    const shown = displayRepository(repository);
    const needs = (what: string, given: string | undefined, hint: string): string => {
      if (!given)
        throw new PlaybookError('usage', `Invalid ${what}: offsite ${options.action} needs ${hint} (see redis-playbook offsite --help)`);
      return given;
    };
    let out: OffsiteJson;
    let text: string;
    switch (options.action) {
      case 'init':
        await initRepository(repo, io.env);
        out = { action: 'init', repository: shown };
        text = `Created the restic repository ${shown}. Keep its password file safe: without it the backups cannot be read.`;
        break;
      case 'push': {
        const backup = resolve(needs('BACKUP', options.target, 'the backup folder (offsite push BACKUP)'));
        const result = await pushBackup(repo, backup, io.env);
        if (options['metrics-file']) await writeBackupMetric(resolve(options['metrics-file']), shown, new Date(result.createdAt));
        out = {
          action: 'push',
          repository: shown,
          snapshot: result.snapshot,
          path: result.path,
          createdAt: result.createdAt,
          verifiedFiles: result.verifiedFiles,
          bytes: result.bytes,
          addedBytes: result.addedBytes,
        };
        text = `Pushed ${result.path} to ${shown} as snapshot ${result.snapshot}: ${result.bytes} bytes, ${result.addedBytes} new in the repository; pulled back and checked, ${filesMatch(result.verifiedFiles)} the manifest.`;
        break;
      }
      case 'list': {
        const snapshots = await listOffsite(repo, io.env);
        out = { action: 'list', repository: shown, snapshots };
        const rows = [
          ['SNAPSHOT', 'BACKUP', 'TIME (UTC)', 'HOST', 'BYTES'],
          ...snapshots.map((entry) => [
            entry.snapshot,
            entry.name,
            entry.time.replace(/\.\d+/, ''),
            entry.host,
            String(entry.bytes ?? '-'),
          ]),
        ];
        const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
        text =
          snapshots.length === 0
            ? `No redis-playbook snapshots in ${shown}`
            : rows
                .map((row) =>
                  row
                    .map((cell, i) => cell.padEnd(widths[i] ?? 0))
                    .join('  ')
                    .trimEnd(),
                )
                .join('\n');
        break;
      }
      case 'pull': {
        const id = needs('SNAPSHOT', options.target, 'a snapshot ID or latest (offsite pull SNAPSHOT --to DIR)');
        const to = resolve(needs('--to', options.to, 'the backup dir (--to DIR)'));
        const result = await pullBackup(repo, id, to, io.env);
        out = {
          action: 'pull',
          repository: shown,
          snapshot: result.snapshot,
          path: result.path,
          createdAt: result.createdAt,
          verifiedFiles: result.verifiedFiles,
        };
        text = `Pulled snapshot ${result.snapshot} into ${result.path}: ${filesMatch(result.verifiedFiles)} the manifest (snapshot of ${result.createdAt}).`;
        break;
      }
      case 'forget': {
        const retention = { hourly: options['keep-hourly'], daily: options['keep-daily'], weekly: options['keep-weekly'] };
        if (!Object.values(retention).some((value) => value !== undefined && value > 0)) {
          throw new PlaybookError(
            'usage',
            'Invalid --keep-*: offsite forget needs at least one of --keep-hourly, --keep-daily, --keep-weekly of 1 or more (restic keeps everything without one)',
          );
        }
        const result = await forgetOffsite(repo, retention, io.env);
        out = { action: 'forget', repository: shown, kept: result.kept, removed: result.removed };
        text = `Kept ${result.kept.length} snapshot${result.kept.length === 1 ? '' : 's'}, removed ${result.removed.length}${result.removed.length > 0 ? ` (${result.removed.join(', ')}) and pruned their data` : ''}.`;
        break;
      }
    }
    io.stdout(options.json ? jsonText(OffsiteJsonSchema, out) : `${text}\n`);
    return 0;
  },
});
