import { spawnSync } from 'node:child_process';
import { runProgram, runProgramOk, type RunProgramOptions } from '../../core/run.ts';

export { findOnPath } from '../../core/run.ts';

/** What a docker (or compose) command printed. */
export interface DockerOutput {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export type RunOptions = Omit<RunProgramOptions, 'inputFile'>;

/** Runs a program and returns its output whatever the exit code (a missing program or a timeout said in stderr). Never rejects. */
export async function runTool(file: string, args: string[], options: RunOptions = {}): Promise<DockerOutput> {
  const result = await runProgram(file, args, options);
  const timedOut = result.timedOut ? `\n(killed after ${options.timeoutMs ?? 120_000} ms)` : '';
  const notFound = result.notFound ? `${file}: command not found` : '';
  return { exitCode: result.exitCode, stdout: result.stdout, stderr: `${result.stderr}${notFound}${timedOut}` };
}

/** Runs a program; rejects with the project's error (kind `docker`: command, exit code, output) unless it exits 0. */
export async function runToolOk(file: string, args: string[], options: RunOptions = {}): Promise<DockerOutput> {
  const { exitCode, stdout, stderr } = await runProgramOk(file, args, { ...options, kind: 'docker' });
  return { exitCode, stdout, stderr };
}

/** `docker ARGS`, whatever the exit code. */
export function dockerTry(args: string[], options: RunOptions = {}): Promise<DockerOutput> {
  return runTool('docker', args, options);
}

/** `docker ARGS`; rejects with {@link DockerCommandError} unless it exits 0. */
export function docker(args: string[], options: RunOptions = {}): Promise<DockerOutput> {
  return runToolOk('docker', args, options);
}

/** Synchronous `docker ARGS` for process-exit hooks: output ignored, never throws. */
export function dockerSync(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): void {
  spawnSync('docker', args, { stdio: 'ignore', timeout: 60_000, cwd: options.cwd, env: { ...process.env, ...options.env } });
}

/** Lines of a command's stdout, trimmed, without empty ones. */
export function lines(output: string): string[] {
  return output
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
}
