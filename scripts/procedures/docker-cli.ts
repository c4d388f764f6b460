import { runProgram, type ProgramRun, type RunProgramOptions } from '../core/run.ts';
import { PlaybookError } from './errors.ts';

/** What one `docker …` (or Compose) command did. */
export type DockerRun = ProgramRun;

/**
 * Options of {@link runDocker}. `env` holds variables for the docker CLI's own environment:
 * `docker exec -e NAME` (a name without `=value`) passes such a variable into the container, so the
 * value never appears in any argv.
 */
export type DockerRunOptions = Omit<RunProgramOptions, 'input'>;

/**
 * Runs `docker ARGS` and resolves whatever the exit code. Arguments never hold a secret: passwords go
 * through `env` only.
 */
export function runDocker(args: string[], options: DockerRunOptions = {}): Promise<DockerRun> {
  return runProgram('docker', args, options);
}

let detected: Promise<string[]> | undefined;

/**
 * How Compose is run here: `docker compose` (v2) where the plugin exists, else `docker-compose` (v1).
 * Detected once per process; throws when neither answers.
 */
export function composeCommand(): Promise<string[]> {
  detected ??= (async () => {
    if ((await runProgram('docker', ['compose', 'version'], { timeoutMs: 30_000 })).exitCode === 0) return ['docker', 'compose'];
    if ((await runProgram('docker-compose', ['version'], { timeoutMs: 30_000 })).exitCode === 0) return ['docker-compose'];
    throw new Error('Neither `docker compose` (v2) nor `docker-compose` (v1) is installed');
  })();
  detected.catch(() => (detected = undefined));
  return detected;
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
