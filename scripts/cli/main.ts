import { parseArgs } from 'node:util';
import { PlaybookError } from '../procedures/errors.ts';
import { explainServerRefusal } from '../procedures/server-refusal.ts';
import { explainSystemError } from '../procedures/system-errors.ts';
import type { CliCommand, CliIo } from './command.ts';
import { backupCommand } from './commands/backup.ts';
import { backupsCommand } from './commands/backups.ts';
import { checkCommand } from './commands/check.ts';
import { inspectCommand } from './commands/inspect.ts';
import { restoreCommand } from './commands/restore.ts';
import { offsiteCommand } from './commands/offsite.ts';
import { rewindCommand } from './commands/rewind.ts';
import { testRestoreCommand } from './commands/test-restore.ts';
import { validateCommand } from './commands/validate.ts';
import { watchCommand } from './commands/watch.ts';
import { exitCodeFor, exitCodes } from './exit-codes.ts';
import { redact, secretsOf } from './redact.ts';
import { versionLine } from './version.ts';

/** Every subcommand, in the order `--help` lists them. */
export const commands: readonly CliCommand[] = [
  inspectCommand,
  backupCommand,
  backupsCommand,
  offsiteCommand,
  checkCommand,
  testRestoreCommand,
  restoreCommand,
  rewindCommand,
  validateCommand,
  watchCommand,
];

/** The text of `redis-playbook --help`. */
export function globalHelp(): string {
  const width = Math.max(...commands.map((command) => command.name.length));
  return `redis-playbook: the operator CLI of the Redis Playbook

Usage: redis-playbook <command> [options]

Commands:
${commands.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`).join('\n')}

Options:
  -h, --help     Show this help (redis-playbook <command> --help for a command's options)
  -V, --version  Show the version and the commit it was built from

Exit codes:
${exitCodes.map((entry) => `  ${entry.code}  ${entry.meaning}`).join('\n')}
`;
}

/** Parses a command's arguments strictly; any problem is a usage error in one line. */
function parseCommandArgs(command: CliCommand, args: string[]): Record<string, string | boolean | undefined> {
  try {
    const names = command.positionals ?? [];
    const { values, positionals } = parseArgs({
      args,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: names.length > 0,
    });
    if (positionals.length > names.length) {
      throw Object.assign(new Error(`Unexpected argument '${positionals[names.length]}'`), {
        code: 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL',
      });
    }
    const named = Object.fromEntries(names.map((name, index) => [name, positionals[index]]));
    return { ...(values as Record<string, string | boolean | undefined>), ...named };
  } catch (error) {
    const code = (error as { code?: string }).code;
    const message = error instanceof Error ? error.message : String(error);
    const quoted = /'([^']*)'/.exec(message)?.[1] ?? '';
    const see = `(see redis-playbook ${command.name} --help)`;
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      throw new PlaybookError('usage', `Unknown option ${quoted} for ${command.name} ${see}`, { cause: error });
    }
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      throw new PlaybookError('usage', `Unexpected argument "${quoted}" for ${command.name} ${see}`, { cause: error });
    }
    throw new PlaybookError('usage', `${message.split('\n')[0]} ${see}`, { cause: error });
  }
}

async function dispatch(argv: string[], io: CliIo): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    io.stderr(globalHelp());
    return exitCodeFor('usage');
  }
  if (first === '-h' || first === '--help' || first === 'help') {
    io.stdout(globalHelp());
    return 0;
  }
  if (first === '-V' || first === '--version') {
    io.stdout(`${versionLine()}\n`);
    return 0;
  }
  if (first.startsWith('-')) {
    throw new PlaybookError('usage', `Unknown option ${first} (see redis-playbook --help)`);
  }
  const command = commands.find((candidate) => candidate.name === first);
  if (!command) {
    const names = commands.map((candidate) => candidate.name).join(', ');
    throw new PlaybookError('usage', `Unknown command "${first}" (commands: ${names}; see redis-playbook --help)`);
  }
  const values = parseCommandArgs(command, rest);
  if (values.help) {
    io.stdout(`${command.help}\n`);
    return 0;
  }
  return command.run(values, io);
}

/**
 * Runs `redis-playbook` with `argv` (without node and the script) and resolves to the exit code.
 * Every failure is one line on stderr, never a stack trace and never a password (set
 * REDIS_PLAYBOOK_DEBUG=1 to see the cause chain).
 */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const secrets = secretsOf(argv, io.env);
  try {
    return await dispatch(argv, io);
  } catch (caught) {
    // A command the server refused (ACL, rename-command), or a file it could not use (permission, full,
    // read-only), is the operator's to fix: say what to change, which path, and as which user.
    const error = explainSystemError(caught) ?? (caught instanceof PlaybookError ? caught : (explainServerRefusal(caught) ?? caught));
    const known = error instanceof PlaybookError;
    const message = known ? error.message : `Unexpected error: ${error instanceof Error ? error.message : String(error)}`;
    io.stderr(`${redact(`redis-playbook: ${message.split('\n')[0]}`, secrets)}\n`);
    if (io.env.REDIS_PLAYBOOK_DEBUG === '1') {
      let cause: unknown = error;
      while (cause instanceof Error) {
        io.stderr(`${redact(cause.stack ?? cause.message, secrets)}\n`);
        cause = cause.cause;
      }
    }
    return known ? error.exitCode : exitCodeFor('other');
  }
}
