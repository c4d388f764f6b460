/**
 * Whether this run must have everything: Docker and every engine of the matrix. Set by `.ci/run` as
 * `PLAYBOOK_REQUIRE_ALL=1`; then a missing engine or Docker fails verify and the tests instead of being
 * skipped with its reason. `PLAYBOOK_REQUIRE_ALL=0` turns it off; unset, `CI=true` (the common CI
 * convention) asks for it too. The one place that reads these variables.
 */
export const REQUIRE_ALL_ENV = 'PLAYBOOK_REQUIRE_ALL';

export function requireAll(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env[REQUIRE_ALL_ENV]?.trim();
  if (value === '1') return true;
  if (value === '0') return false;
  return env.CI === 'true';
}

/**
 * A check that cannot run on this machine (a program or an image it needs is missing): verify reports
 * it as skipped with this message, or as failed when everything is required ({@link requireAll}).
 */
export class UnavailableHere extends Error {
  /** `failed` when everything is required, else `skipped`. */
  readonly status: 'skipped' | 'failed';

  constructor(what: string, detail: string, env: NodeJS.ProcessEnv = process.env) {
    const required = requireAll(env);
    super(required ? `${what} cannot run here (${detail}); ${REQUIRE_ALL_ENV}=1 requires it` : `${what} cannot run here: ${detail}`);
    this.name = 'UnavailableHere';
    this.status = required ? 'failed' : 'skipped';
  }
}
