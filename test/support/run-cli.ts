import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { InspectReportSchema, type InspectReport } from '../../scripts/procedures/inspect-report.ts';

/** The CLI entry point, run as a real subprocess with this Node (24). */
export const BIN = fileURLToPath(new URL('../../scripts/cli/bin.ts', import.meta.url));

/** What a CLI run left behind. */
export interface CliRun {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `redis-playbook ARGS` in a subprocess. The environment is this process's minus
 * REDISCLI_AUTH and REDIS_PLAYBOOK_DEBUG, plus `env`, so a test sees only the secrets it gives.
 * `options.cwd` is its working directory (a Compose project's dir for --compose-service).
 */
export async function runCli(args: string[], env: Record<string, string> = {}, options: { cwd?: string; timeoutMs?: number } = {}): Promise<CliRun> {
  const base = { ...process.env };
  delete base.REDISCLI_AUTH;
  delete base.REDIS_PLAYBOOK_DEBUG;
  const result = await execa(process.execPath, [BIN, ...args], {
    env: { ...base, ...env },
    extendEnv: false,
    reject: false,
    stripFinalNewline: false,
    cwd: options.cwd,
    timeout: options.timeoutMs ?? 60_000,
  });
  assert.ok(typeof result.exitCode === 'number', `the CLI did not exit by itself: ${result.signal ?? ''} ${result.stderr}`);
  return { exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr) };
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
