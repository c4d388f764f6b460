import { accessSync, constants } from 'node:fs';
import { setPriority } from 'node:os';
import { delimiter, join } from 'node:path';
import { execa } from 'execa';
import { currentSignal } from './cancel.ts';
import { PlaybookError } from './errors.ts';
import type { ErrorKind } from './exit-codes.ts';

/** What one program run did. */
export interface ProgramRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** With `all`: stdout and stderr interleaved as the program wrote them (a checker's verdict and its log lines in order). */
  all?: string;
  /** Killed after `timeoutMs`. */
  timedOut: boolean;
  /** The program itself is not installed. */
  notFound: boolean;
}

/** Options of {@link runProgram}. */
export interface RunProgramOptions {
  /** Text written to stdin (default: none, stdin closed at once). */
  input?: string;
  /** A file streamed to stdin instead (`docker run -i … tar -x`). */
  inputFile?: string;
  /**
   * Variables added to this process's environment. Secrets go here, never into `args`
   * (`docker exec -e NAME` passes such a variable on without its value in any argv).
   */
  env?: Record<string, string>;
  /**
   * With `env`: the program's whole environment, nothing inherited from this process (restic: a
   * stray RESTIC_PASSWORD here must not open another repository).
   */
  envOnly?: boolean;
  cwd?: string;
  /** Also keep stdout and stderr interleaved in {@link ProgramRun.all}. */
  all?: boolean;
  /**
   * Run at this nice value (0 to 19) where this process may set it: a checker reading a snapshot that
   * a server's save child is still writing takes the CPU only when the child does not need it.
   */
  nice?: number;
  /** Kill the program after this long (milliseconds; default two minutes). */
  timeoutMs?: number;
}

/** Default {@link RunProgramOptions.timeoutMs}. */
export const DEFAULT_TIMEOUT_MS = 120_000;

/** The one way the project runs a program: resolves whatever the exit code, never rejects. */
export async function runProgram(file: string, args: string[], options: RunProgramOptions = {}): Promise<ProgramRun> {
  return toRun(await runRaw(file, args, options));
}

/** {@link runProgram}'s options for a program that may run as long as the file it reads is large (an hour). */
export const LONG_RUN: Pick<RunProgramOptions, 'timeoutMs'> = { timeoutMs: 3_600_000 };

/**
 * {@link runProgram}, but a run that does not exit 0 rejects with the project's error
 * ({@link PlaybookError} of `kind`, default `other`): the command line and why on the first line, the
 * output below it, execa's error as `cause`.
 */
export async function runProgramOk(
  file: string,
  args: string[],
  options: RunProgramOptions & { kind?: ErrorKind } = {},
): Promise<ProgramRun> {
  const result = await runRaw(file, args, options);
  const run = toRun(result);
  if (run.exitCode === 0) return run;
  const command = [file, ...args].join(' ');
  const output = `${run.stdout}\n${run.stderr}`.trim();
  const why = run.notFound
    ? 'not installed'
    : run.timedOut
      ? `killed after ${options.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms`
      : `exit ${run.exitCode}`;
  throw new PlaybookError(options.kind ?? 'other', `\`${command}\` failed (${why})${output ? `:\n${output}` : ''}`, {
    cause: result,
    command,
  });
}

function stdinOf(options: RunProgramOptions): { input: string } | { inputFile: string } {
  return options.inputFile === undefined ? { input: options.input ?? '' } : { inputFile: options.inputFile };
}

function toRun(result: Awaited<ReturnType<typeof runRaw>>): ProgramRun {
  return {
    exitCode: result.exitCode ?? -1,
    stdout: result.stdout,
    stderr: result.stderr,
    ...(typeof result.all === 'string' ? { all: result.all } : {}),
    timedOut: result.timedOut,
    notFound: (result as { code?: string }).code === 'ENOENT',
  };
}

function runRaw(file: string, args: string[], options: RunProgramOptions) {
  const child = execa(file, args, {
    reject: false,
    env: options.env,
    extendEnv: options.envOnly !== true,
    all: options.all === true,
    cwd: options.cwd,
    timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    // Under a bound (scripts/core/cancel.ts): killed when its time is up, SIGKILL half a second later.
    cancelSignal: currentSignal(),
    forceKillAfterDelay: 500,
    ...stdinOf(options),
  });
  if (options.nice !== undefined && child.pid !== undefined) {
    try {
      setPriority(child.pid, options.nice);
    } catch {
      // Not allowed here (a lower value than ours): the program runs at our priority.
    }
  }
  return child;
}

/** The executable `name` on PATH (or on `path`), or undefined. */
export function findOnPath(name: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this dir
    }
  }
  return undefined;
}

/** `dirs` in order, empty ones left out, as a PATH value (`delimiter`-joined). */
export function pathOf(...dirs: (string | undefined)[]): string {
  return dirs.filter(Boolean).join(delimiter);
}
