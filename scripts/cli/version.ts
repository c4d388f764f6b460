import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** What the package build (`npm run build:cli`) writes into the bundle in place of this identifier. */
declare const REDIS_PLAYBOOK_BUILD: unknown;

/** The version and the commit a build was made from. */
export const BuildInfoSchema = z.object({
  /** The package version (package.json). */
  version: z.string(),
  /** The full commit hash, with `-dirty` when the work tree had uncommitted changes. */
  commit: z.string(),
});
export type BuildInfo = z.infer<typeof BuildInfoSchema>;

const PackageSchema = z.object({ version: z.string() });

/** The commit HEAD of the git work tree at `dir`, `-dirty` when it has changes; undefined outside git. */
export function gitCommit(dir: string): string | undefined {
  try {
    const options = { cwd: dir, encoding: 'utf8' as const, stdio: ['ignore', 'pipe', 'ignore'] as ('ignore' | 'pipe')[] };
    const head = execFileSync('git', ['rev-parse', 'HEAD'], options).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], options).trim() !== '';
    return `${head}${dirty ? '-dirty' : ''}`;
  } catch {
    return undefined;
  }
}

/**
 * The line `redis-playbook --version` prints: `0.1.0 (commit 62208ee…)` from a build, whose version and
 * commit were fixed when it was made; `0.1.0 (source checkout, commit …)` when run from the checkout's sources.
 */
export function versionLine(): string {
  if (typeof REDIS_PLAYBOOK_BUILD !== 'undefined') {
    const build = BuildInfoSchema.parse(REDIS_PLAYBOOK_BUILD);
    return `${build.version} (commit ${build.commit})`;
  }
  const root = new URL('../../', import.meta.url);
  const { version } = PackageSchema.parse(JSON.parse(readFileSync(new URL('package.json', root), 'utf8')));
  const commit = gitCommit(root.pathname);
  return `${version} (source checkout${commit ? `, commit ${commit}` : ''})`;
}
