import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { execa } from 'execa';

/** The executable `name` on PATH, or undefined. */
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

/** What a docker (or compose) command printed. */
export interface DockerOutput {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** A docker or compose command that failed: keeps the command line, its exit code and its output. */
export class DockerCommandError extends Error {
  readonly command: string;
  readonly exitCode: number;
  readonly output: string;

  constructor(command: string, result: DockerOutput, options?: ErrorOptions) {
    const output = `${result.stdout}\n${result.stderr}`.trim();
    super(`\`${command}\` failed (exit ${result.exitCode})${output ? `:\n${output}` : ''}`, options);
    this.name = 'DockerCommandError';
    this.command = command;
    this.exitCode = result.exitCode;
    this.output = output;
  }
}

export interface RunOptions {
  /** Text written to stdin. */
  input?: string;
  /** Variables added to this process's environment. */
  env?: Record<string, string>;
  cwd?: string;
  /** Give up (and kill the command) after this many milliseconds. */
  timeoutMs?: number;
}

/** Runs a program and returns its output whatever the exit code. Never rejects. */
export async function runTool(file: string, args: string[], options: RunOptions = {}): Promise<DockerOutput> {
  const result = await execa(file, args, {
    reject: false,
    input: options.input ?? '',
    env: options.env,
    cwd: options.cwd,
    timeout: options.timeoutMs ?? 120_000,
  });
  const timedOut = result.timedOut ? `\n(killed after ${options.timeoutMs ?? 120_000} ms)` : '';
  const notFound = (result as { code?: string }).code === 'ENOENT' ? `${file}: command not found` : '';
  return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: `${result.stderr}${notFound}${timedOut}` };
}

/** Runs a program; rejects with {@link DockerCommandError} unless it exits 0. */
export async function runToolOk(file: string, args: string[], options: RunOptions = {}): Promise<DockerOutput> {
  const result = await runTool(file, args, options);
  if (result.exitCode !== 0) throw new DockerCommandError([file, ...args].join(' '), result);
  return result;
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
