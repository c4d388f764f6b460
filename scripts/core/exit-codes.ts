import { z } from 'zod';

/** What went wrong, as a word a script can switch on; each kind has one exit code. */
export const ErrorKindSchema = z.enum([
  'other',
  'usage',
  'unreachable',
  'auth',
  'protocol',
  'io',
  'backup',
  'state',
  'docker',
  'mismatch',
  'cluster',
  'undo',
]);
export type ErrorKind = z.infer<typeof ErrorKindSchema>;

/** One documented exit code of `redis-playbook` (the README and the site render this table). */
export const ExitCodeSchema = z.object({
  /** The process exit status. */
  code: z.number().int().min(0).max(125),
  /** The error kind that maps to it (`ok` for success). */
  kind: z.union([z.literal('ok'), ErrorKindSchema]),
  /** When it happens, in one sentence for an operator. */
  meaning: z.string().min(1),
});
export type ExitCode = z.infer<typeof ExitCodeSchema>;

/** Every exit code of `redis-playbook`, in numeric order. */
export const exitCodes: readonly ExitCode[] = z.array(ExitCodeSchema).parse([
  { code: 0, kind: 'ok', meaning: 'Done: the command did what it was asked.' },
  {
    code: 1,
    kind: 'other',
    meaning:
      'Anything else, for example the server refused a command the CLI needs (CONFIG renamed or disabled with rename-command, or not allowed for the ACL user).',
  },
  { code: 2, kind: 'usage', meaning: 'Usage error: unknown command or option, a missing or invalid value, or a malformed --url.' },
  {
    code: 3,
    kind: 'unreachable',
    meaning:
      "The server cannot be reached: connection refused, connect timeout, or unknown host name; or its container (--container, --compose-service) is not running; or the offsite repository's store does not answer.",
  },
  {
    code: 4,
    kind: 'auth',
    meaning:
      'Authentication failed: wrong password or user (WRONGPASS), or a password is required (NOAUTH); or the password file does not open the offsite repository.',
  },
  {
    code: 5,
    kind: 'protocol',
    meaning: 'Something answered that is not Redis (for example an HTTP or SSH server), or it accepted the connection but never answered.',
  },
  {
    code: 6,
    kind: 'io',
    meaning:
      'A path is missing or unreadable: the data dir, the backup dir or a backup file, or it cannot be written (no permission, or the disk is full); or the offsite repository is missing, full or read-only.',
  },
  {
    code: 7,
    kind: 'backup',
    meaning:
      'The backup is bad or foreign: no valid manifest, a checksum that does not match, an RDB that fails redis-check-rdb (truncated, flipped bytes, not an RDB), or an RDB format newer than the target server loads; or a backup pulled from offsite that does not match its manifest (moved aside).',
  },
  {
    code: 8,
    kind: 'state',
    meaning:
      'The server is in the wrong state for the command: for example it still runs on the data dir that restore or rewind needs stopped, its container keeps the data dir outside any volume, another redis-playbook backup or restore holds the data dir, or its AOF cannot be rewound to the time asked (no timestamps, or a time before its last rewrite).',
  },
  {
    code: 9,
    kind: 'docker',
    meaning:
      'Docker cannot do what --container or --compose-service needs: no docker CLI or daemon, no such container or Compose service, or a docker command failed.',
  },
  {
    code: 10,
    kind: 'mismatch',
    meaning:
      'validate: the server does not hold what the expect file lists (a missing key, another type, a collection too small, too few keys, a module not loaded).',
  },
  {
    code: 11,
    kind: 'cluster',
    meaning:
      "The cluster cannot be used as asked: the --url node is not in cluster mode, a node is failed or unreachable, slots are not all served, the backup's shape does not match the data dirs given, a primary runs in none of the containers given (backup --cluster --container), or the target cluster of a restore already holds keys (without --replace).",
  },
  {
    code: 12,
    kind: 'undo',
    meaning:
      'restore failed and putting the previous files back failed too: nothing was deleted, and the message says where each file is and where it belongs, to finish the undo by hand.',
  },
]);

/** The exit code for an error kind. */
export function exitCodeFor(kind: ErrorKind): number {
  const entry = exitCodes.find((item) => item.kind === kind);
  if (!entry) throw new Error(`No exit code is documented for error kind "${kind}"`);
  return entry.code;
}
