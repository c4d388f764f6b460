import { access, constants, readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { z } from 'zod';
import { PlaybookError } from './errors.ts';
import { runProgram } from '../core/run.ts';

/** Where restic finds the repository and its password: handed to restic in its environment only. */
export const ResticRepoSchema = z.object({
  /**
   * The repository as restic takes it (`/srv/restic`, `rest:http://host:8000/`, `sftp:user@host:/srv/restic`,
   * `s3:http://host:9000/bucket`). Given to restic as RESTIC_REPOSITORY, never on a command line; its
   * user info (`user:password@`) is never printed.
   */
  repository: z.string().min(1),
  /** A file holding the repository password, given to restic as RESTIC_PASSWORD_FILE. */
  passwordFile: z.string().min(1),
  /** The restic program (default: `restic` on PATH). */
  program: z.string().min(1).default('restic'),
});
export type ResticRepo = z.infer<typeof ResticRepoSchema>;

/** restic's documented exit codes (restic 0.17 and later). */
const RESTIC_NO_REPOSITORY = 10;
const RESTIC_LOCKED = 11;
const RESTIC_WRONG_PASSWORD = 12;

/** Longest a restic call may run before it is stopped (a stuck store). */
const RESTIC_TIMEOUT_MS = 30 * 60_000;

/** How long the store's address may take to accept a connection before it is called unreachable. */
const PROBE_TIMEOUT_MS = 10_000;

/** The repository without its user info, fit to print: `rest:http://host:8000/`. */
export function displayRepository(repository: string): string {
  return repository.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
}

/** The host and port of a network repository (`rest:`, `s3:` with http(s)), undefined for a local or SFTP one. */
export function repositoryAddress(repository: string): { host: string; port: number } | undefined {
  const match = /^(?:rest|s3):(https?):\/\/(?:[^/@]*@)?(\[[^\]]+\]|[^/:]+)(?::(\d+))?/i.exec(repository);
  if (!match) return undefined;
  const [, scheme = 'http', host = '', port] = match;
  return { host: host.replace(/^\[|\]$/g, ''), port: port ? Number(port) : scheme.toLowerCase() === 'https' ? 443 : 80 };
}

/**
 * Fails fast with an `unreachable` error when a network repository's address does not accept a
 * connection (restic itself retries a refused connection for many minutes).
 */
export async function probeRepository(repository: string): Promise<void> {
  const address = repositoryAddress(repository);
  if (!address) return;
  const reason = await new Promise<string | undefined>((resolve) => {
    const socket = connect({ host: address.host, port: address.port, timeout: PROBE_TIMEOUT_MS });
    socket.once('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(`no answer in ${PROBE_TIMEOUT_MS / 1000} s`);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      resolve(error.code === 'ECONNREFUSED' ? 'connection refused' : (error.code ?? error.message));
    });
  });
  if (reason)
    throw new PlaybookError(
      'unreachable',
      `The repository ${displayRepository(repository)} cannot be reached: ${reason} at ${address.host}:${address.port}`,
    );
}

/** The dir of a local repository (`/srv/restic`, `local:/srv/restic`), undefined for any other backend. */
export function localRepositoryPath(repository: string): string | undefined {
  if (repository.startsWith('local:')) return repository.slice('local:'.length);
  return /^[a-z][a-z0-9]*:/i.test(repository) ? undefined : repository;
}

/**
 * Fails fast with an `io` error when a local repository cannot be written (a read-only mount, no
 * permission): restic itself retries writing its lock file for minutes.
 */
export async function assertWritableRepository(repository: string): Promise<void> {
  const path = localRepositoryPath(repository);
  if (path === undefined) return;
  await access(path, constants.W_OK).catch((caught: unknown) => {
    const error = caught as NodeJS.ErrnoException;
    if (error.code === 'ENOENT') return;
    const why =
      error.code === 'EROFS'
        ? 'its file system is read-only'
        : error.code === 'EACCES'
          ? 'this user may not write there'
          : (error.code ?? error.message);
    throw new PlaybookError('io', `The repository ${path} refuses writes (read-only, permission denied or append-only): ${why}`, {
      cause: error,
    });
  });
}

/** The repository URL held in a file (its first line): a one-line `io` error when unreadable, `usage` when empty. */
export async function readRepositoryFile(path: string): Promise<string> {
  const text = await readFile(path, 'utf8').catch((error: unknown) => {
    throw new PlaybookError(
      'io',
      `The repository file ${path} ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : 'is not readable by this user'}`,
      { cause: error },
    );
  });
  const url = text.split('\n')[0]?.trim();
  if (!url) throw new PlaybookError('usage', `The repository file ${path} is empty: put the repository URL on its first line`);
  return url;
}

/** Throws a one-line `io` error unless the password file is there and readable. */
export async function assertPasswordFile(path: string): Promise<void> {
  await access(path, constants.R_OK).catch((error: unknown) => {
    throw new PlaybookError(
      'io',
      `The password file ${path} ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : 'is not readable by this user'}`,
      { cause: error },
    );
  });
}

/** restic's last `Fatal:` line (or its last line), without the `Fatal: ` prefix. */
function resticReason(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const fatal =
    lines.filter((line) => line.startsWith('Fatal:') || line.includes('"message_type":"exit_error"')).at(-1) ?? lines.at(-1) ?? '';
  const json = /"message":"((?:[^"\\]|\\.)*)"/.exec(fatal)?.[1];
  return (json ?? fatal).replace(/^Fatal: /, '');
}

/** A failed restic call as one PlaybookError of the right kind. */
export function resticFailure(repo: ResticRepo, action: string, exitCode: number | undefined, stderr: string): PlaybookError {
  const where = displayRepository(repo.repository);
  const reason = resticReason(stderr);
  const command = `restic ${action}`;
  if (exitCode === RESTIC_WRONG_PASSWORD || reason.includes('wrong password or no key found')) {
    return new PlaybookError(
      'auth',
      `The password in ${repo.passwordFile} does not open the repository ${where} (restic: wrong password or no key found)`,
      { command },
    );
  }
  if (exitCode === RESTIC_NO_REPOSITORY || reason.includes('repository does not exist')) {
    return new PlaybookError('io', `There is no restic repository at ${where}: create it with redis-playbook offsite init`, { command });
  }
  if (exitCode === RESTIC_LOCKED)
    return new PlaybookError('state', `The repository ${where} is locked by another restic: ${reason}`, { command });
  if (/connection refused|no such host|dial tcp|i\/o timeout|network is unreachable/i.test(stderr)) {
    return new PlaybookError('unreachable', `The repository ${where} cannot be reached: ${reason}`, { command });
  }
  if (/no space left on device|disk quota exceeded/i.test(stderr)) {
    return new PlaybookError(
      'io',
      `The repository ${where} is full (no space left on device): restic ${action} wrote nothing usable; free space or prune, then try again`,
      { command },
    );
  }
  if (/read-only file system|permission denied|forbidden|\b403\b|append-only|not allowed/i.test(stderr)) {
    return new PlaybookError(
      'io',
      `The repository ${where} refuses writes (read-only, permission denied or append-only): restic ${action} failed: ${reason}`,
      { command },
    );
  }
  return new PlaybookError('other', `restic ${action} failed on ${where}: ${reason || `exit ${exitCode}`}`, { command });
}

/** Options of {@link runRestic}. */
export interface RunResticOptions {
  /** Working directory of restic. */
  cwd?: string;
  /** The environment restic inherits (the CLI's; restic reads AWS_*, RESTIC_REST_*, … from it). */
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs `restic ARGS` with the repository and its password file in restic's environment (never on its
 * command line, so never in a process list) and returns its stdout; a failure is one PlaybookError.
 */
export async function runRestic(repo: ResticRepo, args: string[], options: RunResticOptions = {}): Promise<string> {
  const env = { ...(options.env ?? process.env) };
  // Only the password file counts: a stray RESTIC_PASSWORD would open another repository's key.
  delete env.RESTIC_PASSWORD;
  delete env.RESTIC_PASSWORD_COMMAND;
  const result = await runProgram(repo.program, ['--no-cache', ...args], {
    env: {
      ...Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined)),
      RESTIC_REPOSITORY: repo.repository,
      RESTIC_PASSWORD_FILE: repo.passwordFile,
    },
    envOnly: true,
    cwd: options.cwd,
    timeoutMs: RESTIC_TIMEOUT_MS,
  });
  const action = args.find((arg) => !arg.startsWith('-')) ?? '';
  if (result.notFound) {
    throw new PlaybookError(
      'other',
      `${repo.program} not found: install restic (Debian: apt-get install restic) or name it with --restic PROGRAM`,
    );
  }
  if (result.exitCode !== 0) throw resticFailure(repo, action, result.exitCode, result.stderr);
  return result.stdout;
}
