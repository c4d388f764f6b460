import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { execa, type Options } from 'execa';
import { z } from 'zod';
import { commands } from '../../scripts/cli/main.ts';
import { InspectReportSchema, type InspectReport } from '../../scripts/procedures/inspect-report.ts';

/** The CLI entry point of the checkout's sources, run as a real subprocess with this Node (24). */
export const BIN = fileURLToPath(new URL('../../scripts/cli/bin.ts', import.meta.url));

/**
 * `REDIS_PLAYBOOK_CLI`: an installed `redis-playbook` (the npm package's bin, or the single executable)
 * that the CLI tests run instead of the checkout's sources, from the temp dir (outside the checkout),
 * with `REDIS_PLAYBOOK_CLI_PATH` as its PATH when set (so the Node it runs on is the one that PATH finds).
 */
export const INSTALLED_CLI = process.env.REDIS_PLAYBOOK_CLI || undefined;

/**
 * How to start `redis-playbook ARGS`: the executable, its arguments and the execa options (environment
 * and working directory) of the CLI under test. `env` is added to this process's environment minus
 * REDISCLI_AUTH and REDIS_PLAYBOOK_DEBUG, so a test sees only the secrets it gives.
 */
export function cliCommand(
  args: string[],
  env: Record<string, string> = {},
  cwd?: string,
): { file: string; args: string[]; options: Options } {
  const base = { ...process.env };
  delete base.REDISCLI_AUTH;
  delete base.REDIS_PLAYBOOK_DEBUG;
  delete base.REDIS_PLAYBOOK_CLI;
  delete base.REDIS_PLAYBOOK_CLI_PATH;
  if (!INSTALLED_CLI) return { file: process.execPath, args: [BIN, ...args], options: { env: { ...base, ...env }, extendEnv: false, cwd } };
  // npm sets these for scripts it runs; an installed CLI on a host sees none of them.
  for (const name of Object.keys(base))
    if (/^npm_/i.test(name) || name === 'NODE' || name === 'INIT_CWD') Reflect.deleteProperty(base, name);
  const path = process.env.REDIS_PLAYBOOK_CLI_PATH;
  return {
    file: INSTALLED_CLI,
    args,
    options: { env: { ...base, ...(path ? { PATH: path } : {}), ...env }, extendEnv: false, cwd: cwd ?? tmpdir() },
  };
}

/** What a CLI run left behind. */
export interface CliRun {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `redis-playbook ARGS` in a subprocess (see {@link cliCommand} for its environment).
 * `options.cwd` is its working directory (a Compose project's dir for --compose-service).
 */
export async function runCli(
  args: string[],
  env: Record<string, string> = {},
  options: { cwd?: string; timeoutMs?: number } = {},
): Promise<CliRun> {
  const command = cliCommand(args, env, options.cwd);
  const result = await execa(command.file, command.args, {
    ...command.options,
    reject: false,
    stripFinalNewline: false,
    timeout: options.timeoutMs ?? 60_000,
  });
  assert.ok(typeof result.exitCode === 'number', `the CLI did not exit by itself: ${result.signal ?? ''} ${String(result.stderr)}`);
  const run = { exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr) };
  assertJsonOutput(args, run);
  return run;
}

/**
 * A successful `--json` run printed what its command's schema (scripts/cli/json-schemas.ts) says: one
 * object, or one per line for `watch`, with no key the schema does not name.
 */
export function assertJsonOutput(args: string[], run: CliRun): void {
  const command = commands.find((candidate) => candidate.name === args[0]);
  if (!command || run.exitCode !== 0 || !args.includes('--json')) return;
  const texts = command.jsonLines ? run.stdout.split('\n').filter((line) => line !== '') : [run.stdout];
  for (const text of texts) {
    const parsed = command.json.safeParse(JSON.parse(text));
    assert.ok(
      parsed.success,
      `${command.name} --json printed what its schema does not allow: ${parsed.success ? '' : z.prettifyError(parsed.error)}`,
    );
  }
}

/** Runs `inspect --json` against `url`, asserts exit 0 and an empty stderr, and parses the report. */
export async function inspectJson(url: string, env: Record<string, string> = {}, extraArgs: string[] = []): Promise<InspectReport> {
  const run = await runCli(['inspect', '--url', url, '--json', ...extraArgs], env);
  assert.equal(run.exitCode, 0, `inspect exited with ${run.exitCode}: ${run.stderr}`);
  assert.equal(run.stderr, '');
  return InspectReportSchema.parse(JSON.parse(run.stdout));
}

/** Asserts a failed run: the exit code, nothing on stdout, one line on stderr matching `pattern`, no stack trace. */
export function assertOneLineFailure(run: CliRun, exitCode: number, pattern: RegExp): void {
  assert.equal(run.exitCode, exitCode, `expected exit ${exitCode}, got ${run.exitCode}: ${run.stderr}`);
  assert.equal(run.stdout, '');
  assert.match(run.stderr, /^redis-playbook: [^\n]+\n$/, `expected one line on stderr, got:\n${run.stderr}`);
  assert.match(run.stderr, pattern);
  assert.doesNotMatch(run.stderr, /\n\s+at |Error:/);
}
