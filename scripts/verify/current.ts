import { fingerprint } from '../snippets/fingerprint.ts';
import { registry } from '../snippets/registry.ts';
import type { Result } from './report.ts';

/**
 * `isCurrent(result)` for a checkout at `root`: whether a report result verified its block as the
 * registry defines it now (same fingerprint: command, config, placeholder values, setup/verify code and
 * the modules it uses, engine). A result without a fingerprint (a report written before them) is not.
 * The site passes its project root (Vite bundles this module elsewhere); tests pass the checkout's.
 */
export function currentIn(root: string): (result: Result) => boolean {
  const fingerprints = new Map<string, string | undefined>();
  return (result) => {
    const key = `${result.id}\u0000${result.flavor}\u0000${result.engineId}`;
    if (!fingerprints.has(key)) {
      const snippet = registry.get(result.id);
      const flavor = snippet?.flavors[result.flavor];
      fingerprints.set(key, snippet && flavor ? fingerprint(snippet, result.flavor, flavor, result.engineId, root) : undefined);
    }
    const now = fingerprints.get(key);
    return now !== undefined && result.fingerprint === now;
  };
}
