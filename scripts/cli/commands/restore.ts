import { resolve } from 'node:path';
import { z } from 'zod';
import { hostRedis } from '../../harness/engine.ts';
import { restore } from '../../procedures/restore.ts';
import type { CliCommand } from '../command.ts';
import { parseOptions } from '../parse-options.ts';

const yesNo = z.enum(['yes', 'no'], { error: 'expected yes or no' }).transform((value) => value === 'yes');

/** The options of `redis-playbook restore`. */
export const RestoreOptionsSchema = z.object({
  /** A backup folder, or a bare RDB file. */
  backup: z.string({ error: 'name the backup folder (or RDB file) to restore' }).min(1),
  /** The stopped server's data dir. */
  'data-dir': z.string({ error: 'the server\'s data dir is required (--data-dir DIR)' }).min(1),
  /** How the server starts: appendonly yes or no (default: as recorded in the backup). */
  appendonly: yesNo.optional(),
  /** File names, when the server uses others than the backup recorded. */
  dbfilename: z.string().min(1).optional(),
  appenddirname: z.string().min(1).optional(),
  appendfilename: z.string().min(1).optional(),
  /** Print one JSON object. */
  json: z.boolean().default(false),
});

export const restoreCommand: CliCommand = {
  name: 'restore',
  summary: 'Roll a stopped server\'s data dir back to a backup (the current files are moved aside)',
  options: {
    'data-dir': { type: 'string' },
    appendonly: { type: 'string' },
    dbfilename: { type: 'string' },
    appenddirname: { type: 'string' },
    appendfilename: { type: 'string' },
    json: { type: 'boolean' },
  },
  positionals: ['backup'],
  help: `Usage: redis-playbook restore <backup> --data-dir DIR [--appendonly yes|no] [--json]

Offline rollback. With the server STOPPED, installs the backup so that its next normal start (same
config, appendonly unchanged) loads exactly the backup:
  1. checks the backup (refuses one that fails "redis-playbook check": nothing is touched);
  2. refuses while a redis-server still runs on DIR;
  3. moves the current dump.rdb and AOF dir into DIR/pre-restore-<UTC time>/ (nothing is deleted);
  4. installs the snapshot as dump.rdb and, for an appendonly yes server, as the base of a new AOF
     dir (appendonly.aof.1.base.rdb and a one-line manifest). Copying only dump.rdb would bring back
     the latest data (the AOF wins) or, without the AOF dir, an empty dataset.
To undo: stop the server, move the installed files aside, move the pre-restore files back, start.

Options:
  --data-dir DIR                 The server's data dir (CONFIG GET dir)
  --appendonly yes|no            How the server starts (default: as in the backup's manifest)
  --dbfilename NAME              File names when the server's differ from the backup's
  --appenddirname NAME
  --appendfilename NAME
  --json                         Print one JSON object
  -h, --help                     Show this help`,
  async run(values, io) {
    const options = parseOptions(RestoreOptionsSchema, values);
    const result = await restore({
      backup: resolve(options.backup),
      dataDir: resolve(options['data-dir']),
      engine: hostRedis,
      appendonly: options.appendonly,
      dbfilename: options.dbfilename,
      appenddirname: options.appenddirname,
      appendfilename: options.appendfilename,
    });
    if (options.json) {
      io.stdout(`${JSON.stringify({ backup: result.check.path, dataDir: resolve(options['data-dir']), appendonly: result.appendonly, installed: result.installed, movedAside: result.movedAside ?? null, moved: result.movedNames }, null, 2)}\n`);
      return 0;
    }
    io.stdout(`Restored ${result.check.path} into ${resolve(options['data-dir'])} (installed: ${result.installed.join(', ')}; appendonly ${result.appendonly ? 'yes' : 'no'})\n`);
    if (result.movedAside) io.stdout(`The previous files (${result.movedNames.join(', ')}) are in ${result.movedAside}: that folder is your undo.\n`);
    io.stdout('Start the server normally now.\n');
    return 0;
  },
};
