import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../harness/free-port.ts';
import type { ValuesFn, VerifyContext } from './schema.ts';
import { waitUntil, waitWhile } from './shell-wait.ts';

/**
 * Lines of shell for a practice server: a throwaway redis-server on its own port and directory
 * (`{{scratchPort}}`, `{{scratchDir}}`), so a reader can rehearse a failure without touching a real
 * server. Scripts built from these pieces define `$dir`, `$port` and the `opts` array first.
 */
export const practice = {
  /** Variables and the server's options (persistence options appended). */
  setup: (persistence: string) => [
    'dir={{scratchDir}}; port={{scratchPort}}',
    `opts=(--port "$port" --bind 127.0.0.1 --dir "$dir" --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" ${persistence})`,
    'mkdir -p "$dir"',
  ],
  /** Starts it and waits until it answers (PING gets LOADING while it reads its files). */
  start: () => ['redis-server "${opts[@]}"', waitUntil('redis-cli -p "$port" PING 2>/dev/null | grep -q PONG')],
  /** SET key:N N for N in from..to through redis-cli --pipe; prints its `errors: 0, replies: N` line. */
  write: (from: number, to: number) => [`seq ${from} ${to} | sed 's/.*/SET key:& &/' | redis-cli -p "$port" --pipe | tail -n 1`],
  /** A crash: SIGKILL, then wait until the port is closed. */
  kill: () => ['kill -9 "$(cat "$dir/redis.pid")"', waitWhile('redis-cli -p "$port" PING >/dev/null 2>&1')],
  /** A clean stop (saves when save rules are set), then wait until the port is closed. */
  stop: () => ['redis-cli -p "$port" SHUTDOWN', waitWhile('redis-cli -p "$port" PING >/dev/null 2>&1')],
  /** Prints `<label>: <DBSIZE>`. */
  count: (label: string) => [`echo "${label}: $(redis-cli -p "$port" DBSIZE)"`],
  /** Stops it for good without writing anything. */
  discard: () => ['redis-cli -p "$port" SHUTDOWN NOSAVE >/dev/null'],
};

/**
 * Save rules as redis-server options, one `--save SECONDS CHANGES` a pair (`900 1 300 10` gives
 * `--save 900 1 --save 300 10`): every engine reads this form, while Redis 6.0.16 reads the one-argument
 * form `--save "900 1 300 10"` as no save rules at all, without a word (measured: CONFIG GET save is "").
 */
export function saveOptions(rules: string): string {
  const numbers = rules.trim().split(/\s+/);
  if (numbers.length % 2 !== 0 || numbers.some((n) => !/^\d+$/.test(n)))
    throw new Error(`Save rules must be pairs of numbers, got "${rules}"`);
  return numbers.flatMap((n, i) => (i % 2 === 0 ? [`--save ${n} ${numbers[i + 1]}`] : [])).join(' ');
}

/** A free port and a dir inside the verification's scratch dir for the practice server. */
export const practiceValues: ValuesFn<unknown, { scratchDir: string; scratchPort: string }> = async ({ scratch }) => ({
  scratchDir: join(scratch, 'practice'),
  scratchPort: String(await freePort()),
});

/** Runs a practice script and kills its server afterwards, whatever happened (its pid file is in scratch). */
export async function runPractice(
  ctx: VerifyContext<unknown, 'scratchDir'>,
  timeoutMs = 60_000,
): Promise<{ exitCode: number; stdout: string }> {
  try {
    return await ctx.run({ timeoutMs });
  } finally {
    const pid = Number(await readFile(join(ctx.values.scratchDir, 'redis.pid'), 'utf8').catch(() => ''));
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone: the script shut it down
      }
    }
  }
}
