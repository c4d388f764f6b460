import { PlaybookError } from './errors.ts';

/**
 * The least ACL rules each CLI command needs on the server (`ACL SETUSER NAME on >PASSWORD RULES`),
 * proven by test/integration/connections.test.ts: with exactly these the command works, and without
 * any one of them it fails naming it. `validate` also reads the keys it checks (`%R~*`, or narrower).
 */
export const ACL_RULES = {
  inspect: '+ping +info +config|get',
  backup: '+ping +info +config|get +lastsave +time +bgsave',
  watch: '+ping +info',
  validate: '+ping +info +select +type +strlen +llen +scard +zcard +hlen +xlen %R~*',
} as const;

/** The `--help` line naming a command's ACL rules. */
export function aclHelp(command: keyof typeof ACL_RULES): string {
  return `For an ACL user, the least rules it needs: ${ACL_RULES[command]}`;
}

/** The Redis command ioredis records on its reply errors. */
function commandOf(error: Error): string | undefined {
  const command = (error as { command?: { name?: unknown; args?: unknown[] } }).command;
  if (typeof command?.name !== 'string') return undefined;
  const sub = command.name.toLowerCase() === 'config' && typeof command.args?.[0] === 'string' ? `|${command.args[0].toLowerCase()}` : '';
  return `${command.name.toLowerCase()}${sub}`;
}

/**
 * A command the server refused for a reason the operator controls, as one line saying what to change:
 * an ACL rule the user lacks (NOPERM: the command, or the keys), or a command renamed or disabled with
 * `rename-command`. Undefined for any other error.
 */
export function explainServerRefusal(error: unknown): PlaybookError | undefined {
  if (!(error instanceof Error)) return undefined;
  const { message } = error;
  if (/^NOPERM\b/.test(message)) {
    if (/\bkeys?\b/i.test(message)) {
      return new PlaybookError(
        'other',
        "The server's ACL does not let this user read the keys the command checks: add %R~* (or a narrower key pattern) to its rules",
        {
          cause: error,
        },
      );
    }
    // Redis 7 and Valkey name the command ('config|set'); Redis 6.0 says "the 'config' command or its subcommand".
    const named = /'([a-z0-9_|-]+)' command/i.exec(message)?.[1]?.toLowerCase();
    const command =
      named && !named.includes('|') && commandOf(error)?.startsWith(`${named}|`) ? commandOf(error) : (named ?? commandOf(error));
    if (command !== undefined) {
      return new PlaybookError(
        'other',
        `The server's ACL does not let this user run ${command.replace('|', ' ').toUpperCase()}: add +${command} to its rules (see the command's --help)`,
        {
          cause: error,
        },
      );
    }
  }
  const unknown = /^ERR unknown command [`']([^`']+)[`']/i.exec(message)?.[1];
  if (unknown !== undefined) {
    return new PlaybookError(
      'other',
      `The server does not know the command ${unknown.toUpperCase()}: it is renamed or disabled (rename-command in its config), and this command needs it`,
      {
        cause: error,
      },
    );
  }
  return undefined;
}
