import { dockerTry } from '../harness/docker/exec.ts';
import { uniqueNames } from '../harness/docker/options.ts';
import type { ValuesFn, VerifyContext } from './schema.ts';
import { waitUntil } from './shell-wait.ts';

/**
 * Lines of shell for a practice container: a throwaway Redis from your own image (`{{image}}`) on a
 * volume of its own, named after your project (`crawler-practice`, `crawler-practice-data`), with no
 * network and no published port. A reader rehearses a failure on it without touching the Compose
 * project. Scripts built from these pieces define `$c` (container) and `$v` (volume) first; the
 * Docker twin of practice.ts, where `docker kill` is the crash and `docker stop` the clean stop.
 */
export const dockerPractice = {
  /** Names, then `docker run -d` with the persistence options given (as in a compose file's `command:`). */
  setup: (persistence: string) => [
    'c={{project}}-practice; v={{project}}-practice-data',
    `docker run -d --name "$c" --network none -v "$v":/data {{image}} redis-server ${persistence} >/dev/null`,
    ...dockerPractice.wait(),
  ],
  /** Waits until it answers (PING gets LOADING while it reads its files). */
  wait: () => [waitUntil('docker exec "$c" redis-cli PING 2>/dev/null | grep -q PONG')],
  /** Starts the stopped container again on the same volume and waits until it answers. */
  start: () => ['docker start "$c" >/dev/null', ...dockerPractice.wait()],
  /** SET key:N N for N in from..to through redis-cli --pipe; prints its `errors: 0, replies: N` line. */
  write: (from: number, to: number) => [`seq ${from} ${to} | sed 's/.*/SET key:& &/' | docker exec -i "$c" redis-cli --pipe | tail -n 1`],
  /** A crash: `docker kill` sends SIGKILL (no shutdown, no final save); `docker wait` returns once it is down. */
  kill: () => ['docker kill "$c" >/dev/null && docker wait "$c" >/dev/null'],
  /** A clean stop, as `docker compose stop` does it: SIGTERM, Redis writes its files and exits. */
  stop: () => ['docker stop "$c" >/dev/null'],
  /** Runs a shell command in a throwaway container on the practice volume (mounted at /data). */
  onVolume: (command: string) => [`docker run --rm -v "$v":/data {{image}} sh -c '${command}'`],
  /** Prints `<label>: <DBSIZE>`. */
  count: (label: string) => [`echo "${label}: $(docker exec "$c" redis-cli DBSIZE)"`],
  /** Removes the container and its volume. */
  discard: () => ['docker rm -f "$c" >/dev/null && docker volume rm "$v" >/dev/null'],
};

/** Names of the practice container and volume for a run's placeholder values. */
export function practiceNames(values: Record<string, string>): { container: string; volume: string } {
  const project = values.project;
  if (!project) throw new Error('A Docker practice script needs the {{project}} placeholder value');
  return { container: `${project}-practice`, volume: `${project}-practice-data` };
}

/** A unique `{{project}}` (so unique practice names) when the flavor runs no Compose project. */
export const dockerPracticeValues: ValuesFn<unknown, { project: string }> = () => ({ project: uniqueNames().project });

/**
 * Runs a Docker practice script, then removes its container and volume whatever happened (the
 * script removes them itself when it gets to its end).
 */
export async function runDockerPractice(
  ctx: VerifyContext<unknown>,
  extra: { containers?: string[] } = {},
): Promise<{ exitCode: number; stdout: string }> {
  const { container, volume } = practiceNames(ctx.values);
  try {
    return await ctx.run({ timeoutMs: 120_000 });
  } finally {
    for (const name of [container, ...(extra.containers ?? [])]) await dockerTry(['rm', '--force', '--volumes', name]);
    await dockerTry(['volume', 'rm', '--force', volume]);
  }
}
