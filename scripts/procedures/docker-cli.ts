import { execa } from 'execa';
import { PlaybookError } from './errors.ts';

/** What one `docker …` (or Compose) command did. */
export interface DockerRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** Killed after `timeoutMs`. */
  timedOut: boolean;
  /** The program itself is not installed. */
  notFound: boolean;
}

/** Options of {@link runDocker}. */
export interface DockerRunOptions {
  /**
   * Variables for the docker CLI's own environment. `docker exec -e NAME` (a name without `=value`)
   * passes such a variable into the container: the value never appears in any argv.
   */
  env?: Record<string, string>;
  /** A file streamed to stdin (`docker run -i … tar -x`). */
  inputFile?: string;
  cwd?: string;
  /** Kill the command after this long (milliseconds). */
  timeoutMs?: number;
}

/**
 * Runs `docker ARGS` and resolves whatever the exit code. Arguments never hold a secret: passwords go
 * through `env` only.
 */
export function runDocker(args: string[], options: DockerRunOptions = {}): Promise<DockerRun> {
  return runProgram('docker', args, options);
}

/** Runs a program (docker, docker-compose) and resolves whatever the exit code. */
export async function runProgram(file: string, args: string[], options: DockerRunOptions = {}): Promise<DockerRun> {
  const result = await execa(file, args, {
    reject: false,
    env: options.env,
    cwd: options.cwd,
    timeout: options.timeoutMs ?? 120_000,
    ...(options.inputFile === undefined ? { input: '' } : { inputFile: options.inputFile }),
  });
  return {
    exitCode: result.exitCode ?? -1,
    stdout: String(result.stdout ?? ''),
    stderr: String(result.stderr ?? ''),
    timedOut: Boolean(result.timedOut),
    notFound: (result as { code?: string }).code === 'ENOENT',
  };
}

/** The first line worth showing of a failed command's output (Docker prefixes its errors). */
export function firstLine(run: DockerRun): string {
  const line =
    `${run.stderr}\n${run.stdout}`
      .split('\n')
      .map((item) => item.trim())
      .find(Boolean) ?? `exit ${run.exitCode}`;
  return line.replace(/^Error response from daemon: /, '').replace(/^Error: /, '');
}

/**
 * The error for a docker command that could not run at all: no docker CLI, or no daemon answering.
 * Undefined when Docker itself worked (the command's own failure is for the caller to explain).
 */
export function dockerUnusable(run: DockerRun, program = 'docker'): PlaybookError | undefined {
  if (run.notFound)
    return new PlaybookError('docker', `${program} is not installed here (--container and --compose-service need the Docker CLI)`);
  const text = `${run.stderr}\n${run.stdout}`;
  if (
    /Cannot connect to the Docker daemon|Is the docker daemon running|error during connect|permission denied while trying to connect to the Docker daemon/i.test(
      text,
    )
  ) {
    return new PlaybookError('docker', `The Docker daemon does not answer: ${firstLine(run)}`);
  }
  return undefined;
}
