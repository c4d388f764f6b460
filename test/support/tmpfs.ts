import { mkdir } from 'node:fs/promises';
import { execa } from 'execa';

/** A tmpfs of `size` mounted at `dir` (made if missing) for the test's life: `await using`. */
export async function mountTmpfs(dir: string, size: string): Promise<AsyncDisposable> {
  await mkdir(dir, { recursive: true });
  await execa('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir]);
  return { [Symbol.asyncDispose]: () => execa('umount', [dir]).then(() => undefined) };
}
