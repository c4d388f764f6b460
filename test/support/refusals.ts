import assert from 'node:assert/strict';
import { execa } from 'execa';
import { assertOneLineFailure, runCli } from './run-cli.ts';
import { treeDigest } from './tree.ts';

/**
 * Runs the CLI with `args` and asserts that it refuses in one line (exit `exitCode`, the line matching
 * `pattern`) and leaves `dir` byte-identical. `readOnly`: `dir` (a mount point) is remounted read-only
 * for the run, and read-write again afterwards whatever happened.
 */
export async function assertRefusedUnchanged(
  dir: string,
  args: string[],
  exitCode: number,
  pattern: RegExp,
  options: { readOnly?: boolean } = {},
): Promise<void> {
  const before = await treeDigest(dir);
  if (options.readOnly) await execa('mount', ['-o', 'remount,ro', dir]);
  const run = await runCli(args).finally(async () => {
    if (options.readOnly) await execa('mount', ['-o', 'remount,rw', dir]);
  });
  assertOneLineFailure(run, exitCode, pattern);
  assert.deepEqual(await treeDigest(dir), before, 'the data dir is byte-identical');
}

/** {@link assertRefusedUnchanged} on a read-only `dir`: the CLI names its file system read-only (exit 6). */
export function assertRefusedReadOnly(dir: string, args: string[]): Promise<void> {
  return assertRefusedUnchanged(dir, args, 6, new RegExp(`Cannot write in ${dir}: its file system is read-only`), { readOnly: true });
}
