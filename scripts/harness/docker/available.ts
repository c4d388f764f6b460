/**
 * Whether Docker can be used here, and what docker-flavor checks do when it cannot: on a machine
 * without Docker they are skipped ("Docker not available here"); when everything is required
 * (`PLAYBOOK_REQUIRE_ALL=1`, set by `.ci/run`: scripts/harness/require-all.ts) they fail, so a
 * CI machine that lost Docker cannot pass green with the Docker half of the playbook unverified.
 */
import { runTool } from './exec.ts';
import { REQUIRE_ALL_ENV, requireAll } from '../require-all.ts';

/** The reason shown when docker-flavor checks are skipped. */
export const DOCKER_UNAVAILABLE = 'Docker not available here';

/** Whether Docker answers here (its server version), or why not. */
export type DockerProbe = { available: true; serverVersion: string } | { available: false; detail: string };

let probe: Promise<DockerProbe> | undefined;

/** Checks once per process that the docker CLI exists and the daemon answers `docker info`. */
export function probeDocker(): Promise<DockerProbe> {
  probe ??= (async (): Promise<DockerProbe> => {
    const result = await runTool('docker', ['info', '--format', '{{.ServerVersion}}'], { timeoutMs: 20_000 });
    const version = result.stdout.trim();
    if (result.exitCode === 0 && version && !version.startsWith('<no value>')) return { available: true, serverVersion: version };
    return {
      available: false,
      detail: (result.stderr || result.stdout).trim().split('\n').slice(-3).join(' ') || `docker info exited ${result.exitCode}`,
    };
  })();
  return probe;
}

/** True when the docker CLI is present and `docker info` answers. */
export async function dockerAvailable(): Promise<boolean> {
  return (await probeDocker()).available;
}

/** What to do with a docker-flavor check here. */
export type DockerPolicy = { run: true } | { run: false; status: 'skipped' | 'failed'; reason: string };

/** Run when Docker answers; otherwise skip, except when everything is required, where the check fails. */
export async function dockerPolicy(env: NodeJS.ProcessEnv = process.env): Promise<DockerPolicy> {
  return decidePolicy(await probeDocker(), env);
}

/** {@link dockerPolicy} for a given probe result. */
export function decidePolicy(found: DockerProbe, env: NodeJS.ProcessEnv): DockerPolicy {
  if (found.available) return { run: true };
  if (requireAll(env)) {
    return {
      run: false,
      status: 'failed',
      reason: `${DOCKER_UNAVAILABLE} (${found.detail}); ${REQUIRE_ALL_ENV}=1 requires the Docker checks to run`,
    };
  }
  return { run: false, status: 'skipped', reason: DOCKER_UNAVAILABLE };
}

/**
 * For node:test: `test(name, { skip: await dockerSkip() }, fn)`. The reason to skip when Docker is
 * missing, or `false` to run: when Docker answers, and in CI, where the test then fails with
 * {@link requireDocker}'s message.
 */
export async function dockerSkip(): Promise<string | false> {
  const policy = await dockerPolicy();
  return !policy.run && policy.status === 'skipped' ? policy.reason : false;
}

/** Throws a clear error when Docker cannot be used (called before any container is made). */
export async function requireDocker(): Promise<void> {
  const found = await probeDocker();
  if (!found.available) throw new Error(`${DOCKER_UNAVAILABLE}: ${found.detail}`);
}
