import type { ParseArgsOptionsConfig } from 'node:util';

/** Where a command writes and what it reads from its environment (the real process, or a test's). */
export interface CliIo {
  /** Writes to standard output (the text is written as is). */
  stdout: (text: string) => void;
  /** Writes to standard error (the text is written as is). */
  stderr: (text: string) => void;
  /** Environment variables (REDISCLI_AUTH…). */
  env: NodeJS.ProcessEnv;
}

/** One subcommand of `redis-playbook` (inspect; backup, restore… later). */
export interface CliCommand {
  /** The word after `redis-playbook`. */
  name: string;
  /** One line for the command list in `redis-playbook --help`. */
  summary: string;
  /** The full text of `redis-playbook <name> --help`. */
  help: string;
  /** Its options for `node:util` parseArgs (`--help` is added by the dispatcher). */
  options: ParseArgsOptionsConfig;
  /**
   * Names of its positional arguments, in order (`check <backup>` has `['backup']`); each becomes a
   * value under that name. More arguments than names is a usage error; a missing one is left undefined
   * for the command's schema to report.
   */
  positionals?: readonly string[];
  /** Runs with the parsed option values; resolves to the exit code, throws a PlaybookError on failure. */
  run: (values: Record<string, string | boolean | undefined>, io: CliIo) => Promise<number>;
}
